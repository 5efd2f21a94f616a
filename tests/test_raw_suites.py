"""The raw-table suites pass on the session's data and fail on stale, thin or shrunken
data, naming the rule. Runs the real suites on a copy of the session's warehouse."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from expectations.raw_tables import contract_expectations, raw_table_frame
from expectations.validate import run_suite
from ingest import SOURCES
from pipeline_config import load_config


@pytest.fixture
def copy(nightly_run, demo_dirs, tmp_path):
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_dirs.warehouse, path)
    con = duckdb.connect(str(path))
    yield con
    con.close()


def _validate(con, source):
    contract = SOURCES[source]
    frame, parameters = raw_table_frame(con, contract, load_config())
    return run_suite(
        frame, f"raw_{source}", f"raw.{source}", parameters, contract_expectations(contract)
    )


def _failed(outcome) -> dict[str, int | None]:
    return {f"{f.expectation}:{f.column}": f.unexpected_count for f in outcome.failures}


@pytest.mark.parametrize("source", list(SOURCES))
def test_every_raw_suite_passes_on_good_data(copy, source):
    outcome = _validate(copy, source)
    assert outcome.success, outcome.describe()
    assert outcome.evaluated >= 1


def test_events_that_stopped_arriving_fail_freshness(copy):
    copy.execute("delete from raw.usage_events where occurred_at >= '2026-10-25'")
    failed = _failed(_validate(copy, "usage_events"))
    assert "expect_column_min_to_be_between:days_before_reference" in failed


def test_a_day_with_a_fraction_of_its_usual_events_fails_volume(copy):
    copy.execute(
        "delete from raw.usage_events where cast(occurred_at as date) = '2026-10-28' "
        "and hash(event_id) % 10 <> 0"
    )
    failed = _failed(_validate(copy, "usage_events"))
    assert failed == {"expect_column_values_to_be_between:ratio_to_weekday_median": 1}


def test_a_crm_snapshot_that_lost_accounts_fails_volume(copy):
    newest = copy.execute("select max(_source_file) from raw.accounts").fetchone()[0]
    copy.execute(
        "delete from raw.accounts where _source_file = ? and account_id > 'A00200'", [newest]
    )
    failed = _failed(_validate(copy, "accounts"))
    assert "expect_column_values_to_be_between:ratio_to_previous_file" in failed


def test_a_day_with_no_events_at_all_fails_volume(copy):
    copy.execute("delete from raw.usage_events where cast(occurred_at as date) = '2026-10-29'")
    failed = _failed(_validate(copy, "usage_events"))
    assert failed == {"expect_column_values_to_be_between:ratio_to_weekday_median": 1}
