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
    # run inside the patch and return outside it: a fixture that yields inside would
    # restore these variables at module teardown, over the session's own settings
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, test_config)
        result = run_nightly(defs)
    return result, dirs


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


DUPLICATED_ACCOUNTS = 3


@pytest.fixture(scope="module")
def corrupted_mart_run(nightly_run, demo_dirs, tmp_path_factory, test_config, defs):
    """A copy of the session's built warehouse whose stored health mart gains duplicate
    keys (as a faulty model change or a bad manual fix would leave it), which the
    snapshot view then shows twice; then the snapshot mart's suite and everything
    downstream of it run."""
    import shutil

    import duckdb

    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("corrupt_mart"))
    dirs.warehouse.parent.mkdir(parents=True)
    shutil.copy(demo_dirs.warehouse, dirs.warehouse)
    with duckdb.connect(str(dirs.warehouse)) as con:
        con.execute(
            f"""insert into marts.fct_account_health
                select * from marts.fct_account_health
                where observation_date = (select max(observation_date) from marts.fct_account_health)
                  and account_id in (
                    select account_id from marts.fct_account_snapshots where is_scoring_row
                    order by account_id limit {DUPLICATED_ACCOUNTS})"""
        )
    snapshots = dg.AssetKey(["marts", "fct_account_snapshots"])
    selection = dg.AssetSelection.checks(
        dg.AssetCheckKey(snapshots, "mart_fct_account_snapshots_suite")
    ) | dg.AssetSelection.assets(snapshots).downstream(include_self=False)
    job = dg.define_asset_job("after_the_mart", selection=selection)
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, test_config)
        result = (
            dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
            .resolve_job_def("after_the_mart")
            .execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
        )
    return result, dirs


def test_a_corrupted_mart_blocks_the_model_and_the_outputs(corrupted_mart_run):
    result, dirs = corrupted_mart_run
    assert not result.success
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    # the message names the table, the rule, the count and the failing keys
    assert check.description.startswith("marts.fct_account_snapshots: 1 of ")
    assert "expect_compound_columns_to_be_unique" in check.description
    assert f": {2 * DUPLICATED_ACCOUNTS} rows" in check.description
    detail = check.metadata["failed: expect_compound_columns_to_be_unique"].value
    assert detail["unexpected_count"] == 2 * DUPLICATED_ACCOUNTS
    assert {k["account_id"] for k in detail["sample_keys"]}
    assert check.metadata["thresholds"].value  # every rule's bounds are reported
    assert result.get_asset_materialization_events() == []
    assert not (dirs.outputs / "models").exists()
    assert not (dirs.outputs / "latest").exists()
