"""Output assets (group ``outputs``): the files CS ops download. Each body is one call to
a step in ``reports.steps``. Every run writes ``outputs/runs/<as_of>/``; the last asset,
``publish_outputs``, depends on every other asset, so any failed blocking check upstream
stops it and yesterday's ``outputs/latest/`` stays published."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.alerts import ALERT_HISTORY, alert_state
from orchestration.assets.model import churn_forecast, churn_scores
from orchestration.assets.warehouse import alert_outcome_models, warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource
from reports import steps

DIM_ACCOUNTS = get_asset_key_for_model([warehouse_dbt_models], "dim_accounts")


@dg.asset(group_name="outputs", deps=[ALERT_HISTORY], kinds={"csv"})
def alert_list(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """alerts.csv (every open alert), alerts_by_csm/ (what each CSM acts on) and
    source_status.csv, rendered from tonight's alert state."""
    with warehouse.connect(read_only=True) as con:
        meta = steps.write_alert_list(con, pipeline.paths())
    return dg.MaterializeResult(
        metadata={
            **meta,
            "path": dg.MetadataValue.path(meta["path"]),
            "stale_sources": dg.MetadataValue.json(meta["stale_sources"]),
        }
    )


@dg.asset(group_name="outputs", deps=[DIM_ACCOUNTS], kinds={"csv"})
def winback_list(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """Recently churned accounts worth winning back, with the offer for their reason."""
    with warehouse.connect(read_only=True) as con:
        meta = steps.write_winback_list(con, pipeline.paths(), pipeline.config()["winback"])
    return dg.MaterializeResult(metadata={**meta, "path": dg.MetadataValue.path(meta["path"])})


@dg.asset(group_name="outputs", deps=[alert_list, winback_list, churn_scores], kinds={"html"})
def churn_report(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """The HTML page of tonight's CSM alerts and win-back candidates."""
    with warehouse.connect(read_only=True) as con:
        meta = steps.write_report(con, pipeline.paths())
    return dg.MaterializeResult(metadata={**meta, "page": dg.MetadataValue.path(meta["page"])})


@dg.asset(
    group_name="outputs",
    deps=[churn_report, alert_list, winback_list, churn_forecast, warehouse_dbt_models,
          alert_state, alert_outcome_models],
    kinds={"file"},
)  # fmt: skip
def publish_outputs(
    warehouse: WarehouseResource, pipeline: PipelineResource
) -> dg.MaterializeResult:
    """Publish tonight's run folder as outputs/latest/: last, after every asset and every
    blocking check upstream of it passed."""
    with warehouse.connect(read_only=True) as con:
        as_of = steps.tonight_scores(con)[0]
    meta = steps.publish(pipeline.paths(), as_of)
    return dg.MaterializeResult(metadata={"published": dg.MetadataValue.path(meta["published"])})
