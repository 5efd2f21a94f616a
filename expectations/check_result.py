"""The one helper that turns a suite outcome into a Dagster asset-check result."""

from __future__ import annotations

import dagster as dg

from expectations.validate import SuiteOutcome


def to_asset_check_result(
    outcome: SuiteOutcome, severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR
) -> dg.AssetCheckResult:
    """Pass/fail plus metadata naming the table, each failed rule, its count and a sample."""
    metadata: dict[str, dg.MetadataValue | str | int | float] = {
        "table": outcome.table,
        "suite": outcome.suite,
        "rows_validated": outcome.rows,
        "expectations_evaluated": outcome.evaluated,
        "expectations_failed": len(outcome.failures),
        "summary": outcome.describe(),
    }
    for failure in outcome.failures:
        key = f"failed: {failure.expectation}" + (f" [{failure.column}]" if failure.column else "")
        metadata[key] = dg.MetadataValue.json(
            {
                "unexpected_count": failure.unexpected_count,
                "unexpected_percent": failure.unexpected_percent,
                "sample": [str(v) for v in failure.sample],
                "rule": failure.rule,
            }
        )
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=severity,
        description=outcome.describe(),
        metadata=metadata,
    )
