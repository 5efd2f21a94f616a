"""The files of one run folder (``runs/<as_of>/``): their names and how they are written.

Shared by the Dagster output assets and the benchmark, so both produce the same layout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from reports.alerts import summarise
from reports.publish import write_csv_safely, write_text_atomically
from reports.render import render_alert_page


def run_dir_for(runs_dir: Path, as_of: object) -> Path:
    return runs_dir / pd.Timestamp(as_of).date().isoformat()


def csm_file_name(owner: str) -> str:
    return (re.sub(r"[^a-z0-9]+", "-", owner.lower()).strip("-") or "unassigned") + ".csv"


def write_alert_files(alerts: pd.DataFrame, run_dir: Path) -> Path:
    """alerts.csv plus one file per CSM in alerts_by_csm/."""
    path = write_csv_safely(alerts, run_dir / "alerts.csv")
    for owner, own_alerts in alerts.groupby("csm_owner"):
        write_csv_safely(own_alerts, run_dir / "alerts_by_csm" / csm_file_name(owner))
    return path


def write_report_page(
    run_dir: Path, as_of: object, model_version: str, scored_accounts: int
) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Render alerts.html from the run's published CSVs (what CS ops will download)."""
    alerts = pd.read_csv(run_dir / "alerts.csv", dtype={"account_id": str})
    winback = pd.read_csv(run_dir / "winback.csv", dtype={"account_id": str})
    summary = {
        "as_of_date": str(as_of),
        "model_version": model_version,
        "scored_accounts": scored_accounts,
        "by_severity": summarise(alerts),
        "revenue_at_risk": float(alerts["revenue_at_risk"].sum()),
    }
    page = write_text_atomically(
        run_dir / "alerts.html", render_alert_page(alerts, winback, summary)
    )
    return page, alerts, winback
