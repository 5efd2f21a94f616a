"""Output assets (group ``outputs``): the files CS ops download and the offline site.
Each body is one call to a step in ``reports.steps``. Every run writes
``outputs/runs/<as_of>/``; the last asset, ``publish_outputs``, depends on every other
asset, so any failed blocking check upstream stops it and yesterday's
``outputs/latest/`` stays published."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.assets.alerts import ALERT_HISTORY, alert_state
from orchestration.assets.model import churn_forecast, churn_scores
from orchestration.assets.warehouse import alert_outcome_models, warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource
from reports import steps
from runtime.permissions import parse_umask


def _model(name: str) -> dg.AssetKey:
    return get_asset_key_for_model([warehouse_dbt_models], name)


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


@dg.asset(
    group_name="outputs",
    deps=[ALERT_HISTORY, _model("fct_winback_candidates"), _model("fct_winback_reactivations")],
    kinds={"csv"},
)
def winback_list(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """winback.csv: churned and long-inactive accounts by segment, priority, offer and the
    touch due tonight (excluded ones with the reason); winback_reactivations.csv."""
    with warehouse.connect(read_only=True) as con:
        meta = steps.write_winback_list(con, pipeline.paths())
    return dg.MaterializeResult(metadata={**meta, "path": dg.MetadataValue.path(meta["path"])})


@dg.asset(group_name="outputs", deps=[ALERT_HISTORY, churn_scores], kinds={"csv"})
def score_list(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """scores.csv: tonight's churn score and reasons of every active account."""
    with warehouse.connect(read_only=True) as con:
        meta = steps.write_score_list(con, pipeline.paths())
    return dg.MaterializeResult(metadata={**meta, "path": dg.MetadataValue.path(meta["path"])})


@dg.asset(
    group_name="outputs",
    deps=[alert_list, winback_list, _model("fct_account_features_recent")],
    kinds={"html"},
)
def outreach_drafts(
    warehouse: WarehouseResource, pipeline: PipelineResource
) -> dg.MaterializeResult:
    """drafts/: four-part outreach drafts for review (never sent) for tonight's
    critical/high alerts and win-back touches."""
    with warehouse.connect(read_only=True) as con:
        meta = steps.write_outreach_drafts(con, pipeline.paths(), pipeline.config()["outreach"])
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    group_name="outputs",
    deps=[alert_list, winback_list, score_list, outreach_drafts, churn_forecast,
          _model("fct_account_usage_weekly"), alert_outcome_models],
    kinds={"html"},
)  # fmt: skip
def cs_site(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """The offline site: inbox (index.html), account, portfolio, team, executive and
    win-back pages."""
    with warehouse.connect(read_only=True) as con:
        meta = steps.write_site(con, pipeline.paths(), pipeline.config())
    return dg.MaterializeResult(metadata={**meta, "index": dg.MetadataValue.path(meta["index"])})


@dg.asset(
    group_name="outputs",
    deps=[cs_site, alert_list, winback_list, score_list, outreach_drafts, churn_forecast,
          warehouse_dbt_models, alert_state, alert_outcome_models],
    kinds={"file"},
)  # fmt: skip
def publish_outputs(
    warehouse: WarehouseResource, pipeline: PipelineResource
) -> dg.MaterializeResult:
    """Publish tonight's run folder as runs/<as_of>/ and outputs/latest/, and the readers'
    copy of the warehouse: last, after every asset and blocking check upstream passed."""
    with warehouse.connect(read_only=True) as con:
        as_of = steps.tonight_night(con)
    umask = parse_umask(pipeline.config()["run"]["umask"])
    meta = steps.publish(pipeline.paths(), as_of, umask)
    return dg.MaterializeResult(
        metadata={
            "published": dg.MetadataValue.path(meta["published"]),
            "readers_warehouse": dg.MetadataValue.path(meta["readers_warehouse"]),
        }
    )
