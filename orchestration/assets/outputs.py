"""Output assets (group ``outputs``): the files CS ops download.

Each run writes into ``outputs/runs/<as_of>/``; the report asset renders the HTML page
last and only then publishes that folder as ``outputs/latest/``, so a failed run leaves
yesterday's published files in place.
"""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from ml.score import SCORES_TABLE
from orchestration.assets.model import SNAPSHOTS, churn_scores
from orchestration.assets.warehouse import warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource
from reports.alerts import build_alerts, summarise
from reports.publish import publish_latest, write_csv_safely
from reports.run_files import run_dir_for, write_alert_files, write_report_page
from reports.winback import build_winback

DIM_ACCOUNTS = get_asset_key_for_model([warehouse_dbt_models], "dim_accounts")


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
    run_dir = run_dir_for(pipeline.paths().runs, scores["as_of_date"].iloc[0])
    path = write_alert_files(alerts, run_dir)
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
        winback, run_dir_for(pipeline.paths().runs, accounts["as_of_date"].iloc[0]) / "winback.csv"
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
    run_dir = run_dir_for(pipeline.paths().runs, as_of)
    page, alerts, winback = write_report_page(run_dir, as_of, version, scored)
    latest = publish_latest(run_dir, pipeline.paths().latest)
    return dg.MaterializeResult(
        metadata={
            "page": dg.MetadataValue.path(str(page)),
            "published": dg.MetadataValue.path(str(latest)),
            "alerts": len(alerts),
            "winback_candidates": len(winback),
        }
    )
