"""Alert assets: the holiday calendar the usage rules discount, and tonight's alert state
(rules, lifecycle, budget, holdout) recorded in the warehouse by the alerts engine."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from alerts.engine import run_night
from alerts.seasonality import write_holiday_calendar
from alerts.store import LIVE_SCHEMA
from ingest import SOURCES
from ml.score import SCORES_TABLE
from orchestration.assets.ingest import RAW_ACCOUNTS
from orchestration.assets.model import churn_scores
from orchestration.assets.warehouse import warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource

SIGNALS = get_asset_key_for_model([warehouse_dbt_models], "fct_account_alert_signals")
FRESHNESS = get_asset_key_for_model([warehouse_dbt_models], "fct_source_freshness")
FEEDBACK = get_asset_key_for_model([warehouse_dbt_models], "stg_cs__alert_feedback")


@dg.asset(
    key=["reference", "holiday_calendar"],
    group_name="warehouse",
    kinds={"duckdb"},
    deps=[RAW_ACCOUNTS, dg.AssetKey(["raw", "usage_events"])],
)
def holiday_calendar(
    warehouse: WarehouseResource, pipeline: PipelineResource
) -> dg.MaterializeResult:
    """Public holidays of every country the CRM names (the `holidays` package) and the
    company's own ranges (alerts.seasonality), with the activity expected on each day."""
    with warehouse.connect() as con:
        written = write_holiday_calendar(con, pipeline.config()["alerts"]["seasonality"])
    return dg.MaterializeResult(metadata={**written, "table": "reference.holiday_calendar"})


def _sources_failing_checks(context: dg.AssetExecutionContext) -> list[str]:
    """Raw sources whose checks failed in this run without stopping it (warnings): the
    rules reading them stay silent tonight."""
    keys = [
        dg.AssetCheckKey(dg.AssetKey(["raw", name]), check)
        for name in SOURCES
        for check in (f"raw_{name}_suite", "rows_reconcile")
    ]
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    return sorted(
        {
            key.asset_key.path[-1]
            for key, record in latest.items()
            if record.run_id == context.run_id and record.status.value == "FAILED"
        }
    )


ALERT_TABLES = {
    "alert_history": "one row per alert per night it was open, and the night it closed",
    "alert_type_nights": "the rule types firing for each alert each night",
    "rule_hits": "every rule condition that held (or was silenced), with its evidence",
    "state_changes": "every status change of an alert, with its night and reason",
    "source_status": "each source's freshness per night (stale: its rules stay silent)",
    "night_runs": "one row per processed night (the newest is the watermark)",
}
ALERT_HISTORY = dg.AssetKey([LIVE_SCHEMA, "alert_history"])


@dg.multi_asset(
    name="alert_state",
    group_name="alerts",
    specs=[
        dg.AssetSpec(
            [LIVE_SCHEMA, table],
            description=f"{LIVE_SCHEMA}.{table}: {what}",
            deps=[churn_scores, SIGNALS, FRESHNESS, FEEDBACK],
            kinds={"duckdb"},
        )
        for table, what in ALERT_TABLES.items()
    ],
)
def alert_state(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineResource
):
    """Tonight's alerts: every rule of the config evaluated with its grace period,
    severity from the pattern and the account, one open alert per account updated across
    nights, feedback applied, the per-CSM budget and the control group."""
    with warehouse.connect() as con:
        summary = run_night(
            con, pipeline.config(), SCORES_TABLE, failed_sources=_sources_failing_checks(context)
        )
    data = summary.as_dict()
    metadata = {
        "night": data["night"],
        "open_alerts": data["open_alerts"],
        "opened": data["opened"],
        "closed": data["closed"],
        **{f"open_{k}": v for k, v in data["by_severity"].items()},
        **{f"arr_{k}": round(v) for k, v in data["arr_by_severity"].items()},
        "automated": data["automated"],
        "value_thresholds": dg.MetadataValue.json(data["value_thresholds"]),
        "delivered": data["delivered"],
        "deferred": data["deferred"],
        "over_budget": data["over_budget"],
        "held_out": data["holdout"],
        "max_delivered_per_csm": data["max_delivered_per_csm"],
        "feedback_applied": data["feedback_applied"],
        "feedback_unmatched": len(data["feedback_unmatched"]),
        "stale_sources": dg.MetadataValue.json(data["stale_sources"]),
        "silenced_rules": dg.MetadataValue.json(data["silenced_rules"]),
    }
    for table in ALERT_TABLES:
        key = dg.AssetKey([LIVE_SCHEMA, table])
        yield dg.MaterializeResult(
            asset_key=key, metadata=metadata if key == ALERT_HISTORY else {"night": data["night"]}
        )
