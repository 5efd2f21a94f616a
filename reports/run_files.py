"""The files of one run folder (``runs/<as_of>/``): their names and how they are written.

Shared by the output steps (``reports.steps``), which the Dagster assets and the
benchmark both call, so both produce the same layout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.alert_files import csm_actionable, summarise
from reports.publish import write_text_atomically
from reports.render import render_alert_page


def run_dir_for(runs_dir: Path, as_of: object) -> Path:
    return runs_dir / pd.Timestamp(as_of).date().isoformat()


def write_report_page(
    run_dir: Path, as_of: object, model_version: str, scored_accounts: int
) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Render alerts.html from the run's published CSVs (what CS ops will download)."""
    alerts = pd.read_csv(
        run_dir / "alerts.csv", dtype={"account_id": str}, keep_default_na=False,
        na_values={"revenue_at_risk": [""], "arr": [""], "churn_probability": [""]},
    )  # fmt: skip
    for column in ("is_new_today", "is_deferred", "do_not_contact"):
        alerts[column] = alerts[column].astype(str).eq("True")
    winback = pd.read_csv(run_dir / "winback.csv", dtype={"account_id": str})
    sources = pd.read_csv(run_dir / "source_status.csv")
    actionable = csm_actionable(alerts)
    summary = {
        "as_of_date": str(as_of),
        "model_version": model_version,
        "scored_accounts": scored_accounts,
        "by_severity": summarise(actionable),
        "revenue_at_risk": float(actionable["revenue_at_risk"].sum()),
        "open_alerts": len(alerts),
        "deferred": int(alerts["is_deferred"].sum()),
        "do_not_contact": int(alerts["do_not_contact"].sum()),
        "automated_only": int(alerts["severity"].eq("low").sum()),
        "stale_sources": sources[sources["is_stale"].astype(str).eq("True")].to_dict("records"),
    }
    page = write_text_atomically(
        run_dir / "alerts.html", render_alert_page(actionable, winback, summary)
    )
    return page, alerts, winback
