"""The dbt models as assets (group ``warehouse``); their dbt tests become asset checks."""

import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.dbt_project import churn_dbt_project
from orchestration.resources import PipelineResource
from pipeline_config import dbt_vars


class ChurnDbtTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "warehouse"


@dbt_assets(
    manifest=churn_dbt_project.manifest_path,
    project=churn_dbt_project,
    dagster_dbt_translator=ChurnDbtTranslator(),
    pool="warehouse",
)
def warehouse_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, pipeline: PipelineResource
) -> Iterator[Any]:
    args = ["build", "--vars", json.dumps(dbt_vars(pipeline.config()))]
    yield from dbt.cli(args, context=context).stream()
