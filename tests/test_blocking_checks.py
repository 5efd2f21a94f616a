"""A failing blocking check stops everything downstream in the same run."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest
from conftest import generate_small, make_pipeline_dirs, point_pipeline_at, run_nightly

UNKNOWN_SEGMENT_ROWS = 7


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory, test_config, defs):
    """A CRM export whose rows are well-formed but carry a segment nobody configured:
    the loader accepts them, the Great Expectations suite must not."""
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("bad_pipeline"))
    generate_small(dirs, accounts=40, months=6)
    newest = sorted((dirs.landing / "accounts").glob("*.csv"))[-1]
    crm = pd.read_csv(newest, dtype=str, keep_default_na=False)
    crm.loc[crm.index[:UNKNOWN_SEGMENT_ROWS], "segment"] = "Startup"
    crm.to_csv(newest, index=False)
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, test_config)
        yield run_nightly(defs), dirs


def test_a_failed_suite_names_the_expectation_and_the_failing_rows(bad_run):
    result, _ = bad_run
    assert not result.success
    failed = {e.check_name: e for e in result.get_asset_check_evaluations() if not e.passed}
    assert set(failed) == {"raw_accounts_suite"}
    check = failed["raw_accounts_suite"]
    assert check.description.startswith("raw.accounts: 1 of ")
    assert (
        f"expect_column_values_to_be_in_set on segment: {UNKNOWN_SEGMENT_ROWS} rows"
        in check.description
    )
    detail = check.metadata["failed: expect_column_values_to_be_in_set [segment]"].value
    assert detail["unexpected_count"] == UNKNOWN_SEGMENT_ROWS
    assert "Startup" in detail["sample"]


def test_nothing_downstream_of_the_failed_check_is_materialised(bad_run):
    result, dirs = bad_run
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    # every other source checks its account ids against the CRM, so it waits for it too
    assert materialised == {dg.AssetKey(["raw", "accounts"])}
    assert not (dirs.outputs / "latest").exists()
    assert not (dirs.outputs / "models").exists()
