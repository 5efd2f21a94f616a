"""The Great Expectations suites on the marts: pass on the session's good warehouse,
fail with the failing keys on bad rows, and warn (not block) on warning-level rules."""

from __future__ import annotations

import pytest

from expectations.marts import MART_SUITES, mart_frame, suite_parameters
from expectations.validate import run_suite
from pipeline_config import load_config

SUITES = {m.model: m for m in MART_SUITES}


def _validate(frame, mart, config, previous_rows=None):
    return run_suite(
        frame,
        mart.suite,
        mart.table,
        suite_parameters(config, previous_rows),
        key_columns=list(mart.key),
    )


@pytest.mark.parametrize("model", sorted(SUITES))
def test_the_suites_pass_on_the_nightly_warehouse(warehouse, model):
    mart = SUITES[model]
    outcome = _validate(mart_frame(warehouse, mart), mart, load_config())
    assert outcome.success, outcome.describe()
    assert outcome.rows > 0
    assert all("severity" in t for t in outcome.thresholds)


def test_out_of_range_scores_fail_and_name_the_accounts(warehouse):
    mart = SUITES["fct_account_health"]
    frame = mart_frame(warehouse, mart)
    bad = frame.index[:4]
    frame.loc[bad, "health_score"] = 130.0
    outcome = _validate(frame, mart, load_config())
    assert outcome.blocking
    (failure,) = [f for f in outcome.failures if f.column == "health_score"]
    assert failure.unexpected_count == 4
    assert {k["account_id"] for k in failure.sample_keys} == set(frame.loc[bad, "account_id"])


def test_a_flat_health_score_fails_the_spread_rule(warehouse):
    mart = SUITES["fct_account_health"]
    frame = mart_frame(warehouse, mart)
    frame["health_score"] = 80.0
    outcome = _validate(frame, mart, load_config())
    assert [f.expectation for f in outcome.failures if f.severity == "error"] == [
        "expect_column_stdev_to_be_between"
    ]


def test_growth_beyond_the_ratio_only_warns(warehouse):
    mart = SUITES["fct_churn_monthly"]
    frame = mart_frame(warehouse, mart)
    outcome = _validate(frame, mart, load_config(), previous_rows=len(frame) // 3)
    assert not outcome.success
    assert not outcome.blocking  # reported with WARN severity: downstream still runs
    assert {f.severity for f in outcome.failures} == {"warning"}


def test_shrinking_below_the_ratio_blocks(warehouse):
    mart = SUITES["fct_churn_monthly"]
    frame = mart_frame(warehouse, mart)
    outcome = _validate(frame, mart, load_config(), previous_rows=len(frame) * 2)
    assert outcome.blocking
    assert "volume: rows vs the previous run (shrink)" in outcome.describe()
