"""Ingestion on hand-made files: loaded once, bad rows quarantined, bad files refused."""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb
import pytest

from ingest import SOURCES, ContractViolation, IngestRules, load_new_files

ACCOUNTS = SOURCES["accounts"]
HEADER = "account_id,company_name,segment,plan,contract_term,mrr,signup_date,csm_owner\n"
GOOD = "A1,Acme,SMB,Pro,monthly,100,2026-01-05,Ana\nA2,Beta,SMB,Pro,annual,200,2026-02-01,Ben\n"


@pytest.fixture
def landing(tmp_path):
    folder = tmp_path / "landing" / "accounts"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield connection
    connection.close()


def _load(con, landing, max_reject_rate=0.5, source=ACCOUNTS):
    return load_new_files(con, source, str(landing.parent), IngestRules(max_reject_rate))


def test_a_rerun_and_a_duplicate_delivery_under_another_name_load_nothing_twice(con, landing):
    (landing / "accounts_2026-03-01.csv").write_text(HEADER + GOOD)
    assert [x.status for x in _load(con, landing)] == ["loaded"]
    assert _load(con, landing) == []
    shutil.copy(landing / "accounts_2026-03-01.csv", landing / "accounts_copy.csv")
    (duplicate,) = _load(con, landing)
    assert duplicate.status == "duplicate_content"
    assert duplicate.duplicate_of.endswith("accounts_2026-03-01.csv")
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 2


def test_bad_rows_are_quarantined_with_their_rule_and_counts_reconcile(con, landing):
    bad = ",NoKey,SMB,Pro,monthly,10,2026-01-01,Ana\nA3,Gamma,SMB,Pro,monthly,lots,2026-01-01,Ana\n"
    (landing / "accounts_a.csv").write_text(HEADER + GOOD + bad)
    (load,) = _load(con, landing)
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (4, 2, 2)
    quarantined = con.execute(
        "select source_row, rule, reason from raw._quarantine order by source_row"
    ).fetchall()
    assert quarantined == [
        (3, "null_required", "account_id is empty"),
        (4, "bad_type", "mrr=lots is not DOUBLE"),
    ]


def test_a_missing_required_column_refuses_the_whole_file_naming_it(con, landing):
    path = landing / "accounts_b.csv"
    path.write_text(HEADER.replace(",mrr", "") + "A1,Acme,SMB,Pro,monthly,2026-01-05,Ana\n")
    with pytest.raises(ContractViolation, match=r"accounts_b\.csv: required column\(s\) \['mrr'\]"):
        _load(con, landing)
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 0
    status, message = con.execute("select status, message from raw._load_ledger").fetchone()
    assert status == "rejected" and "mrr" in message


def test_a_file_over_the_reject_rate_is_rolled_back(con, landing):
    bad = "".join(f"A{i},X,SMB,Pro,monthly,oops,2026-01-01,Ana\n" for i in range(5))
    (landing / "accounts_c.csv").write_text(HEADER + GOOD + bad)
    with pytest.raises(ContractViolation, match=r"5 of 7 rows broke the accounts contract"):
        _load(con, landing, max_reject_rate=0.05)
    counts = con.execute(
        "select (select count(*) from raw.accounts), (select count(*) from raw._quarantine)"
    ).fetchone()
    assert counts == (0, 0)


def test_a_missing_optional_column_is_filled_with_null(con, landing):
    (landing / "accounts_d.csv").write_text(HEADER + GOOD)
    _load(con, landing)
    assert con.execute("select count(*) from raw.accounts where seats is null").fetchone()[0] == 2


def test_range_and_future_rules_quarantine_with_the_value_named(con, landing):
    bad = (
        "A3,Gamma,SMB,Pro,monthly,-5,2026-01-01,Ana\n"
        "A4,Delta,SMB,Pro,monthly,10,2999-01-01,Ana\n"
        "A5,Eps,SMB,Pro,monthly,10,1970-01-01,Ana\n"
    )
    (landing / "accounts_e.csv").write_text(HEADER + GOOD + bad)
    _load(con, landing, max_reject_rate=0.9)
    quarantined = con.execute("select rule, reason from raw._quarantine order by source_row")
    (range_rule, range_reason), (future_rule, future_reason), (old_rule, old_reason) = (
        quarantined.fetchall()
    )
    assert (range_rule, range_reason) == ("out_of_range", "mrr=-5 outside [0, 1,000,000,000]")
    assert future_rule == "future_timestamp"
    assert future_reason.startswith("signup_date=2999-01-01 is after the load time")
    assert (old_rule, old_reason) == ("out_of_range", "signup_date=1970-01-01 before 2000-01-01")


def test_header_case_and_extra_columns_do_not_break_a_file_and_are_noted(con, landing):
    header = HEADER.replace("mrr", "MRR").rstrip("\n") + ",Favourite_Colour\n"
    rows = "".join(line + ",blue\n" for line in GOOD.splitlines())
    (landing / "accounts_f.csv").write_text(header + rows)
    (load,) = _load(con, landing)
    assert load.rows_loaded == 2
    assert "extra column(s) kept in _extra_columns: favourite_colour" in load.message
    assert con.execute("select sum(mrr) from raw.accounts").fetchone()[0] == 300
    kept = con.execute("select _extra_columns ->> 'favourite_colour' from raw.accounts").fetchall()
    assert kept == [("blue",), ("blue",)]  # nothing the export sent is lost


def test_a_key_seen_in_an_earlier_file_with_other_content_is_quarantined(con, tmp_path):
    events = tmp_path / "landing" / "usage_events"
    events.mkdir(parents=True)
    accounts = tmp_path / "landing" / "accounts"
    accounts.mkdir()
    (accounts / "a.csv").write_text(HEADER + GOOD)
    _load(con, accounts)
    head = "event_id,account_id,event_type,occurred_at\n"
    (events / "e1.csv").write_text(
        head + "1,A1,login,2026-01-01T10:00:00Z\n2,A1,login,2026-01-02T10:00:00+02:00\n"
    )
    (events / "e2.csv").write_text(
        head
        + "1,A1,login,2026-01-01T10:00:00Z\n2,A1,login,2026-01-03 10:00:00\n3,ZZ,login,2026-01-03 10:00:00\n"
    )
    contract = SOURCES["usage_events"]
    _first, second = _load(con, events, max_reject_rate=0.9, source=contract)
    assert (second.rows_loaded, second.rows_quarantined, second.rows_deduplicated) == (0, 2, 1)
    assert con.execute(
        "select rule from raw._quarantine where file_path like '%e2.csv' order by source_row"
    ).fetchall() == [("duplicate_key",), ("unknown_account",)]
    # offsets are honoured and timestamps stored as UTC
    assert con.execute(
        "select min(occurred_at), max(occurred_at) from raw.usage_events"
    ).fetchone() == (
        datetime(2026, 1, 1, 10),
        datetime(2026, 1, 2, 8),
    )


def test_an_object_storage_landing_zone_loads_through_fsspec(con):
    """fsspec's in-memory filesystem stands in for a bucket: listing, checksums and
    DuckDB's reads all go through it, for more than one source on one connection."""
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/accounts/a.csv", (HEADER + GOOD).encode())
    tickets = [
        '{"ticket_id": "T1", "account_id": "A1", "opened_at": "2026-01-01T10:00:00Z"}',
        '{"ticket_id": 2, "account_id": "A2", "opened_at": "2026-01-02T10:00:00Z", "csat": "5"}',
        '{"ticket_id": "T3", "account_id": "", "opened_at": "2026-01-03T10:00:00Z"}',
    ]
    fs.pipe("/bucket/support_tickets/t.jsonl", "\n".join(tickets).encode())
    rules = IngestRules(max_reject_rate=0.5)
    (accounts,) = load_new_files(con, ACCOUNTS, "memory://bucket", rules)
    (loaded,) = load_new_files(con, SOURCES["support_tickets"], "memory://bucket", rules)
    assert accounts.rows_loaded == 2
    assert (loaded.rows_loaded, loaded.rows_quarantined) == (2, 1)
    # JSON values are read as text: a numeric id is "2", not a quoted JSON value
    ids = con.execute("select ticket_id from raw.support_tickets order by 1").fetchall()
    assert ids == [("2",), ("T1",)]


def test_a_quarantined_json_record_lists_its_keys_in_one_order(con, tmp_path):
    """The same delivery quarantines the same record text in every run: JSON keys are
    read in sorted order, not in the order a parallel DISTINCT happens to return them
    (a re-run after a crash once differed from the clean run only in that order)."""
    folder = tmp_path / "landing" / "support_tickets"
    folder.mkdir(parents=True)
    lines = [
        '{"opened_at": "2026-01-01T10:00:00Z", "ticket_id": "T1", "account_id": "", "zeta": 1}',
        '{"zeta": 2, "account_id": "", "ticket_id": "T2", "opened_at": "2026-01-02T10:00:00Z"}',
    ]
    (folder / "t.jsonl").write_text("\n".join(lines))
    rules = IngestRules(max_reject_rate=1.0)
    load_new_files(con, SOURCES["support_tickets"], str(folder.parent), rules)
    keys = con.execute("select json_keys(record) from raw._quarantine order by source_row")
    first, second = (row[0] for row in keys.fetchall())
    # the delivered keys sorted, then the contract's absent optional columns
    assert first[:5] == ["_source_row", "account_id", "opened_at", "ticket_id", "zeta"]
    assert first == second


def test_rows_after_a_malformed_line_keep_their_own_row_numbers(con, landing):
    (landing / "accounts_g.csv").write_text(HEADER + "A1,Acme,SMB\n" + GOOD)
    (load,) = _load(con, landing)
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (3, 2, 1)
    assert con.execute("select source_row, rule from raw._quarantine").fetchall() == [
        (1, "malformed_row")
    ]
    rows = con.execute("select account_id, _source_row from raw.accounts order by 2").fetchall()
    assert rows == [("A1", 2), ("A2", 3)]


def test_a_file_name_that_duckdb_would_read_as_a_pattern_is_refused(con, landing):
    (landing / "accounts[1].csv").write_text(HEADER + GOOD)
    with pytest.raises(ContractViolation, match=r"accounts\[1\]\.csv: file names may not contain"):
        _load(con, landing)
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 0


def test_reconciliation_catches_a_row_lost_after_loading(con, landing):
    from ingest.ledger import reconcile

    (landing / "accounts_h.csv").write_text(
        HEADER + GOOD + ",NoKey,SMB,Pro,monthly,1,2026-01-01,Ana\n"
    )
    _load(con, landing)
    assert reconcile(con, "accounts").broken == []
    con.execute("delete from raw.accounts where account_id = 'A2'")
    (broken,) = reconcile(con, "accounts").broken
    assert broken[0].endswith("accounts_h.csv")
    assert broken[1:] == (
        3,
        2,
        1,
        0,
        1,
        1,
    )  # read, loaded, quarantined, de-duplicated, in table, in quarantine
