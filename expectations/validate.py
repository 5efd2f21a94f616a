"""Run a stored GX 1.x suite on a DataFrame and summarise what failed.

Great Expectations is imported inside the function: the import takes ~6 s, and the
Dagster code server should not pay it just to load definitions. The ephemeral context
writes nothing to disk, so concurrent runs cannot race on GX state.

Why DataFrames: on this stack GX's SQL data source cannot read DuckDB (duckdb-engine
returns no rows for GX's bundled metric queries), so suites run on account-level
tables pulled into pandas, and usage events as a daily profile computed in SQL
(``expectations.raw_tables``); row-level event rules run in the loader and in dbt tests.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

SUITES_DIR = Path(__file__).with_name("suites")


WARNING = "warning"  # an expectation whose meta says so reports without blocking


@dataclass(frozen=True)
class ExpectationFailure:
    expectation: str
    column: str | None
    unexpected_count: int | None
    unexpected_percent: float | None
    sample: list[Any]
    rule: str | None = None
    sample_keys: list[dict[str, Any]] = field(default_factory=list)
    observed_value: Any = None
    severity: str = "error"

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        count = f": {self.unexpected_count} rows" if self.unexpected_count is not None else ""
        observed = f" (observed {self.observed_value})" if self.observed_value is not None else ""
        sample = f" (e.g. {self.sample[:5]})" if self.sample else ""
        keys = f" keys {self.sample_keys[:5]}" if self.sample_keys else ""
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{self.expectation}{target}{rule}{count}{observed}{sample}{keys}"


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    table: str
    rows: int
    evaluated: int
    failures: list[ExpectationFailure] = field(default_factory=list)
    # every expectation's bounds as evaluated (parameters resolved), for the check's metadata
    thresholds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failures

    @property
    def blocking(self) -> bool:
        """True when a failed expectation is an error, not only a warning."""
        return any(f.severity != WARNING for f in self.failures)

    def describe(self) -> str:
        if self.success:
            return f"{self.table}: all {self.evaluated} expectations of suite {self.suite} passed"
        lines = "; ".join(f.describe() for f in self.failures)
        return (
            f"{self.table}: {len(self.failures)} of {self.evaluated} expectations failed: {lines}"
        )


def load_suite_spec(name: str) -> dict[str, Any]:
    return json.loads((SUITES_DIR / f"{name}.json").read_text())


def run_suite(
    frame: pd.DataFrame,
    suite_name: str,
    table: str,
    parameters: dict[str, Any] | None = None,
    extra_expectations: list[dict[str, Any]] | None = None,
    key_columns: list[str] | None = None,
) -> SuiteOutcome:
    """Validate ``frame`` (the contents of ``table``) against the stored suite, plus
    ``extra_expectations`` (the ones derived from the data contract). With
    ``key_columns``, failures carry a sample of the failing rows' keys."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    spec = load_suite_spec(suite_name)
    spec["expectations"] = list(extra_expectations or []) + spec["expectations"]
    suite = context.suites.add(gx.ExpectationSuite(**spec))
    batch = (
        context.data_sources.add_pandas(name=f"{suite_name}_source")
        .add_dataframe_asset(name=table)
        .add_batch_definition_whole_dataframe("whole_table")
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}_validation", data=batch, suite=suite)
    )
    result = validation.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": 10,
            **({"unexpected_index_column_names": key_columns} if key_columns else {}),
        },
    )
    failures, thresholds = [], []
    for item in result.results:
        config = item.expectation_config
        meta = config.meta or {}
        bounds = {k: _plain(v) for k, v in config.kwargs.items() if k != "batch_id"}
        thresholds.append(
            {"expectation": config.type, **bounds, "severity": meta.get("severity", "error")}
        )
        if item.success:
            continue
        details = item.result or {}
        keys = details.get("partial_unexpected_index_list") or []
        failures.append(
            ExpectationFailure(
                expectation=config.type,
                column=config.kwargs.get("column") or config.kwargs.get("column_A"),
                unexpected_count=details.get("unexpected_count"),
                unexpected_percent=details.get("unexpected_percent"),
                sample=list(details.get("partial_unexpected_list") or [])[:10],
                rule=meta.get("rule"),
                sample_keys=[
                    {k: _plain(row[k]) for k in key_columns or [] if k in row} for row in keys[:10]
                ],
                observed_value=_plain(details.get("observed_value")),
                severity=meta.get("severity", "error"),
            )
        )
    return SuiteOutcome(
        suite=suite_name,
        table=table,
        rows=len(frame),
        evaluated=len(result.results),
        failures=failures,
        thresholds=thresholds,
    )


def _plain(value: Any) -> Any:
    """numpy scalars and dates as JSON-friendly values for check metadata."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (str, int, float, bool, type(None), list, dict)):
        return value
    return str(value)
