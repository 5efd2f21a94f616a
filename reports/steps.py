"""One function per output asset: each is the asset's whole body, so the Dagster assets
stay glue and the benchmark runs exactly the same work (no queries copied).

Every step writes into the run's private folder (``runs/.<as_of>.<run id>.partial/``);
``publish``, last, once everything upstream passed, makes it ``runs/<as_of>/`` (a re-run
of the same night replaces that folder whole, so nothing of an earlier run survives in
it) and swaps a copy in as ``latest/``. It also publishes the readers' copy of the
warehouse and takes every permission bit ``run.umask`` removes off what the run wrote.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from alerts.store import LIVE_SCHEMA
from ml.score import SCORES_TABLE
from pipeline_config import PipelinePaths, warehouse_settings
from reports.alert_files import summarise, tonight_alerts, tonight_source_status, write_alert_files
from reports.drafts import write_drafts
from reports.publish import publish_latest, replace_folder, write_csv_safely
from reports.site.build import SiteSettings, build_site
from reports.site.queries import tonight
from reports.winback import read_reactivations, read_winback, touches_tonight
from runtime.permissions import restrict_tree
from runtime.published import publish_warehouse

SCORE_COLUMNS = ["account_id", "company_name", "csm_owner", "segment", "plan",
                 "churn_probability", "risk_tier", "arr", "revenue_at_risk", "reasons",
                 "model_version", "as_of_date"]  # fmt: skip


def tonight_night(con: duckdb.DuckDBPyConnection) -> Any:
    """The newest processed alert night: the run folder every output step writes."""
    return tonight(con)


def night_dir(paths: PipelinePaths, as_of: object) -> Path:
    """The published folder of night ``as_of``."""
    return paths.runs / pd.Timestamp(as_of).date().isoformat()


def partial_dir(paths: PipelinePaths, as_of: object) -> Path:
    """This run's private folder for night ``as_of``, until ``publish``."""
    night = night_dir(paths, as_of)
    return night.with_name(f".{night.name}.{paths.run_id}.partial")


def tonight_run_dir(con: duckdb.DuckDBPyConnection, paths: PipelinePaths) -> Path:
    return partial_dir(paths, tonight_night(con))


def write_alert_list(con: duckdb.DuckDBPyConnection, paths: PipelinePaths) -> dict[str, Any]:
    """alerts.csv, the per-CSM lists and source_status.csv from tonight's alert state."""
    alerts = tonight_alerts(con, LIVE_SCHEMA)
    status = tonight_source_status(con, LIVE_SCHEMA)
    path = write_alert_files(alerts, status, tonight_run_dir(con, paths))
    return {
        "path": str(path),
        "open_alerts": len(alerts),
        **{f"severity_{k}": v for k, v in summarise(alerts).items()},
        "new_today": int(alerts["is_new_today"].sum()),
        "deferred": int(alerts["is_deferred"].sum()),
        "automated_sequences": int(alerts["in_automated_sequence"].sum()),
        "do_not_contact": int(alerts["do_not_contact"].sum()),
        "csm_owners": int(alerts["csm_owner"].nunique()),
        "stale_sources": status.loc[status["is_stale"], "source_name"].tolist(),
    }


def write_winback_list(con: duckdb.DuckDBPyConnection, paths: PipelinePaths) -> dict[str, Any]:
    """winback.csv (every candidate, eligible first, excluded ones with the reason) and
    winback_reactivations.csv, from the win-back marts."""
    winback = read_winback(con)
    run_dir = tonight_run_dir(con, paths)
    path = write_csv_safely(winback, run_dir / "winback.csv")
    write_csv_safely(read_reactivations(con), run_dir / "winback_reactivations.csv")
    eligible = winback["excluded_reason"].isna()
    return {
        "path": str(path),
        "candidates": len(winback),
        "eligible": int(eligible.sum()),
        "touches_tonight": len(touches_tonight(winback)),
        **{f"excluded_{code}": int(n)
           for code, n in winback["exclusion_code"].value_counts().items()},
    }  # fmt: skip


def write_score_list(con: duckdb.DuckDBPyConnection, paths: PipelinePaths) -> dict[str, Any]:
    """scores.csv: tonight's churn score of every active account, with its reasons."""
    scores = con.execute(
        f"""select s.account_id, a.company_name, a.csm_owner, a.segment, a.plan,
                   round(s.churn_probability, 4) as churn_probability, s.risk_tier,
                   round(s.arr, 2) as arr, round(s.revenue_at_risk, 2) as revenue_at_risk,
                   array_to_string(s.reasons, '; ') as reasons, s.model_version, s.as_of_date
            from {SCORES_TABLE} as s join marts.dim_accounts as a using (account_id)
            where s.as_of_date = (select max(as_of_date) from {SCORES_TABLE})
            order by s.churn_probability desc, s.account_id"""
    ).df()[SCORE_COLUMNS]
    scores["as_of_date"] = pd.to_datetime(scores["as_of_date"]).dt.strftime("%Y-%m-%d")
    path = write_csv_safely(scores, tonight_run_dir(con, paths) / "scores.csv")
    return {"path": str(path), "accounts": len(scores)}


def write_outreach_drafts(
    con: duckdb.DuckDBPyConnection, paths: PipelinePaths, outreach: Mapping[str, Any]
) -> dict[str, Any]:
    """drafts/: one draft per account for tonight's critical/high alerts delivered to a
    CSM and tonight's win-back touches; drafts/index.csv lists them."""
    index = write_drafts(
        con,
        tonight_run_dir(con, paths),
        tonight_alerts(con, LIVE_SCHEMA),
        touches_tonight(read_winback(con)),
        outreach,
    )
    return {
        "drafts": len(index),
        "alert_drafts": int(index["kind"].eq("alert").sum()),
        "winback_drafts": int(index["kind"].eq("winback").sum()),
    }


def write_site(
    con: duckdb.DuckDBPyConnection, paths: PipelinePaths, config: Mapping[str, Any]
) -> dict[str, Any]:
    """The offline site (index.html and its pages), after the CSVs and drafts it links."""
    run_dir = tonight_run_dir(con, paths)
    drafts = pd.read_csv(run_dir / "drafts" / "index.csv", dtype={"account_id": str})
    meta = build_site(
        con,
        run_dir,
        read_winback(con),
        read_reactivations(con),
        drafts,
        SiteSettings(
            health_bands=config["health"]["bands"],
            renewal_days=config["site"]["renewal_days"],
            chart_workers=config["site"]["chart_workers"],
            pages_for_low_alerts=config["site"]["pages_for_low_alerts"],
        ),
    )
    return {"index": str(run_dir / "index.html"), **meta}


PUBLISHED_FILES = ("alerts.csv", "winback.csv", "scores.csv", "drafts/index.csv", "index.html")


def publish(paths: PipelinePaths, as_of: object, umask: int) -> dict[str, Any]:
    """Make this run's folder the night's folder and ``latest/``, and publish the readers'
    copy of the warehouse (only once every output is written and every check passed)."""
    partial = partial_dir(paths, as_of)
    missing = [name for name in PUBLISHED_FILES if not (partial / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"nothing published: {partial} lacks {', '.join(missing)}. Materialise the output "
            "assets in the same run as publish_outputs (or re-execute the whole run)."
        )
    readers_copy = publish_warehouse(paths.warehouse, warehouse_settings())
    night = replace_folder(partial, night_dir(paths, as_of))
    for abandoned in paths.runs.glob(".*.partial"):  # left by runs that failed
        shutil.rmtree(abandoned)
    latest = publish_latest(night, paths.latest)
    for written in (night, latest, paths.models, paths.warehouse, readers_copy):
        restrict_tree(written, umask)
    restrict_tree(paths.runs, umask, recursive=False)  # older nights were tightened before
    return {"published": str(latest), "readers_warehouse": str(readers_copy)}
