"""A failing blocking check stops everything downstream in the same run."""

from __future__ import annotations

import csv

import dagster as dg
import pytest
from conftest import make_pipeline_dirs, point_pipeline_at, run_nightly

from simulator import DemoSpec, generate_demo

GHOST_ACCOUNTS = 7


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory, test_config, defs):
    """Subscriptions that reference accounts the CRM export never mentions."""
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("bad_pipeline"))
    generate_demo(DemoSpec(accounts=40, months=6, seed=3), dirs.landing, dirs.truth)
    (subscriptions,) = (dirs.landing / "subscriptions").glob("*.csv")
    with subscriptions.open("a", newline="") as handle:
        writer = csv.writer(handle)
        for i in range(GHOST_ACCOUNTS):
            writer.writerow([f"SX{i}", f"GHOST{i}", "Pro", "monthly", 99.0, "2026-01-01", "", ""])
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, test_config)
        yield run_nightly(defs), dirs


def test_a_failed_suite_names_the_expectation_and_the_failing_rows(bad_run):
    result, _ = bad_run
    assert not result.success
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert set(failed) == {"raw_subscriptions_suite"}
    check = failed["raw_subscriptions_suite"]
    assert check.description.startswith("raw.subscriptions: 1 of 6 expectations failed")
    assert (
        f"expect_column_values_to_be_in_set on account_id: {GHOST_ACCOUNTS} rows"
        in check.description
    )
    detail = check.metadata["failed: expect_column_values_to_be_in_set [account_id]"].value
    assert detail["unexpected_count"] == GHOST_ACCOUNTS
    assert "GHOST0" in detail["sample"]


def test_nothing_downstream_of_the_failed_check_is_materialised(bad_run, defs):
    result, dirs = bad_run
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialised == {
        dg.AssetKey(["raw", "accounts"]),
        dg.AssetKey(["raw", "subscriptions"]),
        dg.AssetKey(["raw", "usage_events"]),
    }
    assert not (dirs.outputs / "latest").exists()
    assert not (dirs.outputs / "models").exists()
