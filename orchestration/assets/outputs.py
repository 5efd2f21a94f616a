"""Output assets (group ``outputs``): the files CS ops download.

Each run writes into ``outputs/runs/<as_of>/``; the report asset renders the HTML page
last and only then publishes that folder as ``outputs/latest/``, so a failed run leaves
yesterday's published files in place.
"""

import re
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from ml.score import SCORES_TABLE
from orchestration.assets.model import SNAPSHOTS, churn_scores
from orchestration.assets.warehouse import warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource
from reports.alerts import build_alerts, summarise
from reports.publish import publish_latest, write_csv_safely, write_text_atomically
from reports.render import render_alert_page
from reports.winback import build_winback

DIM_ACCOUNTS = get_asset_key_for_model([warehouse_dbt_models], "dim_accounts")


def _run_dir(pipeline: PipelineResource, as_of: object) -> Path:
    return pipeline.paths().runs / pd.Timestamp(as_of).date().isoformat()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unassigned"


@dg.asset(group_name="outputs", deps=[churn_scores, DIM_ACCOUNTS, SNAPSHOTS], kinds={"csv"})
def alert_list(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """Tonight's alerts: all of them in alerts.csv and one file per CSM in alerts_by_csm/."""
    with warehouse.connect(read_only=True) as con:
        scores = con.execute(
            f"select * from {SCORES_TABLE} where as_of_date = (select max(as_of_date) from {SCORES_TABLE})"
        ).df()
        snapshots = con.execute(
            "select * from marts.fct_account_snapshots where is_scoring_row"
        ).df()
        accounts = con.execute("select * from marts.dim_accounts").df()
    alerts = build_alerts(scores, snapshots, accounts, pipeline.config()["alerts"])
    run_dir = _run_dir(pipeline, scores["as_of_date"].iloc[0])
    path = write_csv_safely(alerts, run_dir / "alerts.csv")
    for owner, own_alerts in alerts.groupby("csm_owner"):
        write_csv_safely(own_alerts, run_dir / "alerts_by_csm" / f"{_slug(owner)}.csv")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "alerts": len(alerts),
            **{f"severity_{k}": v for k, v in summarise(alerts).items()},
            "csm_owners": int(alerts["csm_owner"].nunique()),
            "max_per_csm_per_day": pipeline.config()["alerts"]["max_per_csm_per_day"],
        }
    )


@dg.asset(group_name="outputs", deps=[DIM_ACCOUNTS], kinds={"csv"})
def winback_list(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """Recently churned accounts worth winning back, with the offer for their reason."""
    with warehouse.connect(read_only=True) as con:
        accounts = con.execute("select * from marts.dim_accounts").df()
    winback = build_winback(accounts, pipeline.config()["winback"])
    path = write_csv_safely(
        winback, _run_dir(pipeline, accounts["as_of_date"].iloc[0]) / "winback.csv"
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "candidates": len(winback),
            "high_priority": int(winback["priority"].eq("high").sum()),
            "window_days": pipeline.config()["winback"]["window_days"],
        }
    )


@dg.asset(group_name="outputs", deps=[alert_list, winback_list, churn_scores], kinds={"html"})
def churn_report(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """The HTML alert + win-back page; publishes the run folder as outputs/latest/."""
    with warehouse.connect(read_only=True) as con:
        as_of, version, scored = con.execute(
            f"select as_of_date, any_value(model_version), count(*) from {SCORES_TABLE} "
            f"where as_of_date = (select max(as_of_date) from {SCORES_TABLE}) group by as_of_date"
        ).fetchone()
    run_dir = _run_dir(pipeline, as_of)
    alerts = pd.read_csv(run_dir / "alerts.csv", dtype={"account_id": str})
    winback = pd.read_csv(run_dir / "winback.csv", dtype={"account_id": str})
    summary = {
        "as_of_date": str(as_of),
        "model_version": version,
        "scored_accounts": scored,
        "by_severity": summarise(alerts),
        "revenue_at_risk": float(alerts["revenue_at_risk"].sum()),
    }
    page = write_text_atomically(
        run_dir / "alerts.html", render_alert_page(alerts, winback, summary)
    )
    latest = publish_latest(run_dir, pipeline.paths().latest)
    return dg.MaterializeResult(
        metadata={
            "page": dg.MetadataValue.path(str(page)),
            "published": dg.MetadataValue.path(str(latest)),
            "alerts": len(alerts),
            "winback_candidates": len(winback),
        }
    )
