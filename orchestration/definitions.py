"""The one entry point Dagster loads (workspace.yaml, `dagster dev`, tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.alerts import alert_state, holiday_calendar
from orchestration.assets.ingest import ingest_assets
from orchestration.assets.model import churn_forecast, churn_model, churn_scores
from orchestration.assets.outputs import (
    alert_list,
    cs_site,
    outreach_drafts,
    publish_outputs,
    score_list,
    winback_list,
)
from orchestration.assets.warehouse import alert_outcome_models, warehouse_dbt_models
from orchestration.checks import asset_checks
from orchestration.dbt_project import churn_dbt_project
from orchestration.resources import PipelineResource, WarehouseResource
from orchestration.schedules import build_nightly_schedule, nightly_refresh

defs = dg.Definitions(
    assets=[
        *ingest_assets,
        holiday_calendar,
        warehouse_dbt_models,
        churn_model,
        churn_scores,
        churn_forecast,
        alert_state,
        alert_outcome_models,
        alert_list,
        winback_list,
        score_list,
        outreach_drafts,
        cs_site,
        publish_outputs,
    ],
    asset_checks=asset_checks,
    jobs=[nightly_refresh],
    schedules=[build_nightly_schedule()],
    resources={
        "warehouse": WarehouseResource(),
        "pipeline": PipelineResource(),
        "dbt": DbtCliResource(
            project_dir=churn_dbt_project,
            # the venv's dbt (an un-activated venv still works), through a launcher that
            # makes it die with the run that started it (runtime/dbt_child.py)
            dbt_executable=str(Path(sys.executable).with_name("churn-dbt")),
        ),
    },
    executor=dg.in_process_executor,
)
