"""One function per output asset: each is the asset's whole body, so the Dagster assets
stay glue and the benchmark runs exactly the same work (no queries copied)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from alerts.store import LIVE_SCHEMA
from ml.score import SCORES_TABLE
from pipeline_config import PipelinePaths
from reports.alert_files import summarise, tonight_alerts, tonight_source_status, write_alert_files
from reports.publish import publish_latest, write_csv_safely
from reports.run_files import run_dir_for, write_report_page
from reports.winback import build_winback


def tonight_scores(con: duckdb.DuckDBPyConnection) -> tuple[Any, str, int]:
    """The newest scored night: its date, the model version and how many accounts."""
    return con.execute(
        f"select as_of_date, any_value(model_version), count(*) from {SCORES_TABLE} "
        f"where as_of_date = (select max(as_of_date) from {SCORES_TABLE}) group by as_of_date"
    ).fetchone()


def write_alert_list(con: duckdb.DuckDBPyConnection, paths: PipelinePaths) -> dict[str, Any]:
    """alerts.csv, the per-CSM lists and source_status.csv from tonight's alert state."""
    alerts = tonight_alerts(con, LIVE_SCHEMA)
    status = tonight_source_status(con, LIVE_SCHEMA)
    as_of = con.execute(f"select max(night) from {LIVE_SCHEMA}.night_runs").fetchone()[0]
    path = write_alert_files(alerts, status, run_dir_for(paths.runs, as_of))
    return {
        "path": str(path),
        "open_alerts": len(alerts),
        **{f"severity_{k}": v for k, v in summarise(alerts).items()},
        "new_today": int(alerts["is_new_today"].sum()),
        "deferred": int(alerts["is_deferred"].sum()),
        "do_not_contact": int(alerts["do_not_contact"].sum()),
        "csm_owners": int(alerts["csm_owner"].nunique()),
        "stale_sources": status.loc[status["is_stale"], "source_name"].tolist(),
    }


def write_winback_list(
    con: duckdb.DuckDBPyConnection, paths: PipelinePaths, winback_config: Mapping[str, Any]
) -> dict[str, Any]:
    accounts = con.execute("select * from marts.dim_accounts").df()
    winback = build_winback(accounts, winback_config)
    path = write_csv_safely(
        winback, run_dir_for(paths.runs, accounts["as_of_date"].iloc[0]) / "winback.csv"
    )
    return {
        "path": str(path),
        "candidates": len(winback),
        "high_priority": int(winback["priority"].eq("high").sum()),
        "window_days": winback_config["window_days"],
    }


def write_report(con: duckdb.DuckDBPyConnection, paths: PipelinePaths) -> dict[str, Any]:
    """alerts.html, rendered from the run folder's CSVs."""
    as_of, version, scored = tonight_scores(con)
    page, alerts, winback = write_report_page(
        run_dir_for(paths.runs, as_of), as_of, version, scored
    )
    return {
        "page": str(page),
        "as_of": str(as_of),
        "alerts": len(alerts),
        "winback_candidates": len(winback),
    }


def publish(paths: PipelinePaths, as_of: object) -> dict[str, Any]:
    """Swap tonight's run folder in as ``latest/`` (only once every output is written)."""
    latest = publish_latest(run_dir_for(paths.runs, as_of), paths.latest)
    return {"published": str(latest)}
