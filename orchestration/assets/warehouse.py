"""The dbt models as assets; their dbt tests become asset checks. Two selections of one
project: the warehouse (group ``warehouse``), and the models that read the alerts
engine's tables (tag ``after_alerts``, group ``alerts``), built after it."""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
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
PARSE_STATE = "partial_parse.msgpack"


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
    # dbt succeeded: housekeeping from here on warns, never fails the step
    try:
        context.log.info(_parse_summary(invocation.target_path))
        _keep_parse_state(invocation.target_path)
    except (OSError, ValueError) as exc:
        context.log.warning(f"dbt's parse state was not kept for the next build: {exc}")
    # Each invocation writes its own copy of the artifacts (about 20 MB on the demo) into
    # target/<step>-<run>: kept, a nightly schedule would grow target/ by that much every
    # night. A failed build raised above and keeps its folder for debugging.
    shutil.rmtree(invocation.target_path, ignore_errors=True)


# dbt's JSON log events (its file log, in the invocation's folder) that say how it parsed
REPARSED = ("UnableToPartialParse", "ParsedFileLoadFailed", "PartialParsingNotEnabled")
REUSED = "PartialParsingEnabled"


def _parse_summary(invocation_target: Path) -> str:
    """Whether dbt parsed the whole project again, from its JSON log, for the run log."""
    reasons, reused = [], False
    for log in sorted(invocation_target.glob("dbt.log*")):
        for line in log.read_text(errors="replace").splitlines():
            if '"name": "' not in line:
                continue
            event = json.loads(line)
            name = event.get("info", {}).get("name")
            if name in REPARSED:
                reasons.append(event["info"].get("msg", name))
            reused = reused or name == REUSED
    if reasons or not reused:
        return "dbt parsed the whole project again: " + ("; ".join(reasons) or "no saved state")
    return "dbt reused the saved parse state (partial parsing)"


def _keep_parse_state(invocation_target: Path) -> None:
    """Put the invocation's parse state back where the next invocation starts from.

    dagster-dbt seeds each invocation with ``target/partial_parse.msgpack``; dbt parses
    the whole project again (about 7 s of 12 here) when that state was saved with other
    vars or another profile, which the one ``make manifest`` saved always was. Saved from
    a successful build, the next build with the same config (the alert models after the
    warehouse, the next night) parses only what changed. Replaced in one rename, so a
    reader never sees half a file.
    """
    state = invocation_target / PARSE_STATE
    if not state.exists():
        return
    shared = churn_dbt_project.project_dir / churn_dbt_project.target_path / PARSE_STATE
    handle, staged = tempfile.mkstemp(dir=shared.parent, prefix=f".{PARSE_STATE}.")
    os.close(handle)
    try:
        shutil.copyfile(state, staged)
        os.replace(staged, shared)
    finally:
        Path(staged).unlink(missing_ok=True)


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
