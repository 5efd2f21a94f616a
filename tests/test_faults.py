"""Every fault the simulator injects ends the way the data contract says it should."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest
from conftest import generate_small, make_pipeline_dirs, point_pipeline_at, run_nightly

from ingest import SOURCES, IngestRules, load_new_files
from simulator.faults import inject_faults

QUARANTINED = ["duplicate_keys", "null_keys", "bad_types", "future_timestamps",
               "unknown_accounts", "truncated_file"]  # fmt: skip


@pytest.mark.parametrize("kind", QUARANTINED)
def test_each_bad_row_is_quarantined_with_its_rule_and_the_file_still_loads(
    kind, warehouse, row_faults
):
    fault = row_faults[kind]
    rules = warehouse.execute(
        "select rule, count(*) from raw._quarantine where file_path = ? group by rule",
        [fault.file],
    ).fetchall()
    assert dict(rules) == {fault.expected: fault.rows}
    status, read, loaded, quarantined, deduplicated = warehouse.execute(
        "select status, rows_read, rows_loaded, rows_quarantined, rows_deduplicated "
        "from raw._load_ledger where file_path = ?",
        [fault.file],
    ).fetchone()
    assert status == "loaded" and quarantined == fault.rows
    assert read == loaded + quarantined + deduplicated


def test_exact_duplicate_rows_are_counted_not_loaded_twice(warehouse, row_faults):
    fault = row_faults["duplicate_rows"]
    read, loaded, quarantined, deduplicated = warehouse.execute(
        "select rows_read, rows_loaded, rows_quarantined, rows_deduplicated "
        "from raw._load_ledger where file_path = ?",
        [fault.file],
    ).fetchone()
    assert (quarantined, deduplicated) == (0, fault.rows)
    assert read == loaded + fault.rows
    distinct = warehouse.execute(
        "select count(*) = count(distinct payment_id) from raw.payments"
    ).fetchone()[0]
    assert distinct


def test_a_file_delivered_twice_under_another_name_is_a_no_op(warehouse, row_faults):
    fault = row_faults["duplicate_file"]
    status, original = warehouse.execute(
        "select status, duplicate_of from raw._load_ledger where file_path = ?", [fault.file]
    ).fetchone()
    assert status == "duplicate_content"
    assert original == fault.file.replace("_resent", "")
    assert (
        warehouse.execute(
            "select count(*) from raw.usage_events where _source_file = ?", [fault.file]
        ).fetchone()[0]
        == 0
    )


def test_a_missing_optional_column_is_filled_with_null_and_noted(warehouse, row_faults):
    fault = row_faults["missing_column"]
    message = warehouse.execute(
        "select message from raw._load_ledger where file_path = ?", [fault.file]
    ).fetchone()[0]
    assert "csat" in message
    rows, rated = warehouse.execute(
        "select count(*), count(csat) from raw.support_tickets where _source_file = ?",
        [fault.file],
    ).fetchone()
    assert rows > 0 and rated == 0


def test_a_late_file_loads_when_it_arrives_and_only_once(
    nightly_run, demo_dirs, row_faults, tmp_path
):
    """The held-back part of an old month, delivered after newer months were loaded."""
    fault = row_faults["late_file"]
    warehouse = tmp_path / "copy.duckdb"
    shutil.copy(demo_dirs.warehouse, warehouse)
    landing = tmp_path / "landing"
    (landing / "usage_events").mkdir(parents=True)
    shutil.copy(fault.file, landing / "usage_events")
    con = duckdb.connect(str(warehouse))
    before = con.execute("select count(*) from raw.usage_events").fetchone()[0]
    (load,) = load_new_files(con, SOURCES["usage_events"], str(landing), IngestRules())
    assert (load.rows_loaded, load.rows_quarantined, load.rows_deduplicated) == (fault.rows, 0, 0)
    assert load_new_files(con, SOURCES["usage_events"], str(landing), IngestRules()) == []
    assert con.execute("select count(*) from raw.usage_events").fetchone()[0] == before + fault.rows
    con.close()


def _step_failures(result) -> dict[str, str]:
    """Each failed step's error message, with the messages of the errors that caused it."""
    failures = {}
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error, messages = event.event_specific_data.error, []
            while error is not None:
                messages.append(error.message)
                error = error.cause
            failures[event.step_key] = "\n".join(messages)
    return failures


@pytest.fixture(scope="module", params=["renamed_column", "corrupt_file"])
def fatal_run(request, tmp_path_factory, test_config, defs):
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp(request.param))
    generate_small(dirs, accounts=40, months=6)
    (fault,) = inject_faults(dirs.landing, [request.param], dirs.late)
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, test_config)
        yield fault, run_nightly(defs), dirs


def test_an_unusable_file_stops_the_run_naming_the_file_and_the_problem(fatal_run):
    fault, result, dirs = fatal_run
    assert not result.success
    message = _step_failures(result)["raw__usage_events"]
    assert fault.file in message
    expected = "occurred_at" if fault.kind == "renamed_column" else "unreadable"
    assert expected in message
    con = duckdb.connect(str(dirs.warehouse), read_only=True)
    status, rows = con.execute(
        "select l.status, (select count(*) from raw.usage_events where _source_file = ?) "
        "from raw._load_ledger l where l.file_path = ?",
        [fault.file, fault.file],
    ).fetchone()
    con.close()
    assert (status, rows) == ("rejected", 0)


def test_nothing_downstream_of_an_unusable_file_is_materialised(fatal_run):
    _, result, dirs = fatal_run
    materialised = {e.asset_key.path[0] for e in result.get_asset_materialization_events()}
    assert materialised == {"raw"}
    assert not (dirs.outputs / "latest").exists()
