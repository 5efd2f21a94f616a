"""The nightly job (every asset, in one process) and its schedule from the config."""

from __future__ import annotations

import dagster as dg

from pipeline_config import load_config

nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,  # one DuckDB writer; no per-step process start-up
    description="Ingest new files, build the warehouse, retrain and score, publish outputs.",
)


def build_nightly_schedule() -> dg.ScheduleDefinition:
    schedule = load_config()["schedule"]
    return dg.ScheduleDefinition(
        name="nightly_refresh_schedule",
        job=nightly_refresh,
        cron_schedule=schedule["nightly_cron"],
        execution_timezone=schedule["timezone"],
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
