"""The dbt models as assets; their dbt tests become asset checks. Two selections of one
project: the warehouse (group ``warehouse``), and the models that read the alerts
engine's tables (tag ``after_alerts``, group ``alerts``), built after it."""

import json
import shutil
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from orchestration.dbt_project import churn_dbt_project
from orchestration.resources import PipelineResource, WarehouseResource
from pipeline_config import dbt_vars

AFTER_ALERTS = "tag:after_alerts"


class ChurnDbtTranslator(DagsterDbtTranslator):
    """Groups by tag; source tests (the holiday calendar's) are asset checks too, so
    every dbt test shows in the UI as a check rather than as an observation."""

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "alerts" if "after_alerts" in dbt_resource_props.get("tags", []) else "warehouse"


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineResource):
    """``dbt build`` with the pipeline's vars. The caller requires the warehouse resource
    only to hold the run's write lock while dbt writes."""
    args = ["build", "--vars", json.dumps(dbt_vars(pipeline.config()))]
    invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    # Each invocation writes its own copy of the artifacts (about 20 MB on the demo) into
    # target/<step>-<run>: kept, a nightly schedule would grow target/ by that much every
    # night. A failed build raised above and keeps its folder for debugging.
    shutil.rmtree(invocation.target_path, ignore_errors=True)


@dbt_assets(
    manifest=churn_dbt_project.manifest_path,
    project=churn_dbt_project,
    dagster_dbt_translator=ChurnDbtTranslator(),
    exclude=AFTER_ALERTS,
)
def warehouse_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    pipeline: PipelineResource,
    warehouse: WarehouseResource,
) -> Iterator[Any]:
    yield from _build(context, dbt, pipeline)


@dbt_assets(
    manifest=churn_dbt_project.manifest_path,
    project=churn_dbt_project,
    dagster_dbt_translator=ChurnDbtTranslator(),
    select=AFTER_ALERTS,
    name="alert_outcome_models",
)
def alert_outcome_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    pipeline: PipelineResource,
    warehouse: WarehouseResource,
) -> Iterator[Any]:
    """What became of the alerts: outcomes per type and severity, churners alerted."""
    yield from _build(context, dbt, pipeline)
