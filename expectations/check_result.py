"""The one helper that turns a suite outcome into a Dagster asset-check result."""

from __future__ import annotations

import dagster as dg

from expectations.validate import SuiteOutcome


def to_asset_check_result(
    outcome: SuiteOutcome, extra_metadata: dict[str, int | float | str] | None = None
) -> dg.AssetCheckResult:
    """Pass/fail plus metadata naming the table, each failed rule, its count, a sample of
    values and failing keys, and every expectation's threshold.

    Severity is ERROR when an error-level expectation failed (a blocking check then
    stops downstream assets) and WARN when only warning-level ones did (reported, not
    blocking)."""
    metadata: dict[str, dg.MetadataValue | str | int | float] = {
        "table": outcome.table,
        "suite": outcome.suite,
        "rows_validated": outcome.rows,
        "expectations_evaluated": outcome.evaluated,
        "expectations_failed": len(outcome.failures),
        "summary": outcome.describe(),
        "thresholds": dg.MetadataValue.json(outcome.thresholds),
        **(extra_metadata or {}),
    }
    for failure in outcome.failures:
        key = f"failed: {failure.expectation}" + (f" [{failure.column}]" if failure.column else "")
        metadata[key] = dg.MetadataValue.json(
            {
                "unexpected_count": failure.unexpected_count,
                "unexpected_percent": failure.unexpected_percent,
                "sample": [str(v) for v in failure.sample],
                "sample_keys": failure.sample_keys,
                "observed_value": failure.observed_value,
                "rule": failure.rule,
                "severity": failure.severity,
            }
        )
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
        description=outcome.describe(),
        metadata=metadata,
    )
