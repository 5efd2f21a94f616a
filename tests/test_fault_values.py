"""Fault matrix, values: corrupt values in a delivered file are quarantined under a rule
that names them, counted in the ledger, and counted by the file's bad-row share check.
Hand-made files through the real loader and a real DuckDB file."""

from __future__ import annotations

import gzip

import duckdb
import pytest

from ingest import SOURCES, ContractViolation, IngestRules, load_new_files
from ingest.ledger import reconcile

HEADER = "account_id,company_name,segment,plan,contract_term,mrr,signup_date,csm_owner\n"
GOOD = "".join(f"A{i},Company {i},SMB,Pro,monthly,{100 + i},2026-01-05,Ana\n" for i in range(1, 21))


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


def _load(con, landing, max_reject_rate=0.5, source="accounts"):
    return load_new_files(con, SOURCES[source], str(landing.parent), IngestRules(max_reject_rate))


def _quarantine(con) -> list[tuple[int, str, str]]:
    return con.execute(
        "select source_row, rule, reason from raw._quarantine order by source_row"
    ).fetchall()


def _assert_reconciles(con, source="accounts"):
    result = reconcile(con, source)
    assert result.files_checked >= 1 and result.broken == []


@pytest.mark.parametrize(
    ("value", "rule"),
    [("inf", "non_finite"), ("-Infinity", "non_finite"), ("NaN", "non_finite"),
     ("1e400", "non_finite"), ("1e308", "out_of_range"), ("-5", "out_of_range")],
)  # fmt: skip
def test_non_finite_and_absurd_amounts_are_quarantined_by_rule(con, landing, value, rule):
    bad = f"A99,Broken,SMB,Pro,monthly,{value},2026-01-05,Ana\n"
    (landing / "accounts.csv").write_text(HEADER + GOOD + bad)
    (load,) = _load(con, landing)
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (21, 20, 1)
    ((row, got_rule, reason),) = _quarantine(con)
    assert (row, got_rule) == (21, rule)
    assert reason.startswith(f"mrr={value}")
    assert (
        con.execute("select count(*) from raw.accounts where account_id = 'A99'").fetchone()[0] == 0
    )
    _assert_reconciles(con)


def test_non_finite_values_in_parquet_are_caught_too(con, landing, tmp_path):
    duckdb.sql(
        "select 'P1' as payment_id, 'A1' as account_id, timestamp '2026-01-05 10:00' as "
        "attempted_at, 'inf'::double as amount, 'paid' as status union all "
        "select 'P2', 'A1', timestamp '2026-01-06 10:00', 12.5, 'paid'"
    ).write_parquet(str(tmp_path / "payments.parquet"))
    (landing / "accounts.csv").write_text(HEADER + GOOD)
    _load(con, landing)
    payments = landing.parent / "payments"
    payments.mkdir()
    (tmp_path / "payments.parquet").rename(payments / "payments.parquet")
    (load,) = _load(con, landing, source="payments")
    assert (load.rows_loaded, load.rows_quarantined) == (1, 1)
    assert ("non_finite", "amount=inf is not a finite number") in [
        (rule, reason) for _, rule, reason in _quarantine(con)
    ]
    _assert_reconciles(con, "payments")


@pytest.mark.parametrize("key", [" A7", "A7 ", "A7\t"])
def test_a_key_with_stray_whitespace_is_quarantined_not_loaded_as_another_account(
    con, landing, key
):
    (landing / "accounts.csv").write_text(
        HEADER + GOOD + f'"{key}",Padded,SMB,Pro,monthly,100,2026-01-05,Ana\n'
    )
    (load,) = _load(con, landing)
    assert (load.rows_loaded, load.rows_quarantined) == (20, 1)
    ((_, rule, reason),) = _quarantine(con)
    assert rule == "padded_key" and "whitespace" in reason
    ids = {r[0] for r in con.execute("select account_id from raw.accounts").fetchall()}
    assert all(i == i.strip() for i in ids)
    _assert_reconciles(con)


def test_latin1_rows_are_quarantined_as_an_encoding_problem(con, landing):
    text = HEADER + GOOD + "A30,Café Crème,SMB,Pro,monthly,100,2026-01-05,Zoë\n"
    (landing / "accounts.csv").write_bytes(text.encode("latin-1"))
    (load,) = _load(con, landing)
    assert (load.rows_loaded, load.rows_quarantined) == (20, 1)
    ((row, rule, reason),) = _quarantine(con)
    assert (row, rule) == (21, "invalid_encoding")
    assert "utf-8" in reason.lower()
    _assert_reconciles(con)


def test_a_latin1_file_over_the_reject_rate_is_refused_naming_the_encoding(con, landing):
    rows = "".join(f"A{i},Société {i},SMB,Pro,monthly,10,2026-01-05,Zoë\n" for i in range(40, 50))
    (landing / "accounts.csv").write_bytes((HEADER + GOOD + rows).encode("latin-1"))
    with pytest.raises(ContractViolation, match="invalid_encoding 10"):
        _load(con, landing, max_reject_rate=0.05)
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 0


@pytest.mark.parametrize("compress", [False, True])
def test_a_csv_cut_inside_a_quoted_field_quarantines_the_cut_record(con, landing, compress):
    text = (
        HEADER
        + GOOD
        + 'A40,"Multi\nline, Inc",SMB,Pro,monthly,100,2026-01-05,Ana\n'
        + 'A41,"Cut, in the mid'
    )
    name = "accounts.csv.gz" if compress else "accounts.csv"
    data = gzip.compress(text.encode()) if compress else text.encode()
    (landing / name).write_bytes(data)
    (load,) = _load(con, landing)
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (22, 21, 1)
    ((row, rule, reason),) = _quarantine(con)
    assert (row, rule) == (22, "truncated_row") and "quoted field" in reason
    multi = con.execute("select company_name from raw.accounts where account_id = 'A40'").fetchone()
    assert multi == ("Multi\nline, Inc",)
    assert (
        con.execute("select count(*) from raw.accounts where account_id = 'A41'").fetchone()[0] == 0
    )
    _assert_reconciles(con)


def test_an_empty_file_is_refused_saying_it_is_empty(con, landing):
    (landing / "accounts.csv").write_bytes(b"")
    with pytest.raises(ContractViolation, match=r"accounts\.csv: the file is empty \(0 bytes"):
        _load(con, landing)
    status, message = con.execute("select status, message from raw._load_ledger").fetchone()
    assert status == "rejected" and "empty" in message and "column0" not in message


def test_a_header_only_file_loads_zero_rows(con, landing):
    (landing / "accounts.csv").write_text(HEADER)
    (load,) = _load(con, landing)
    assert (load.status, load.rows_read, load.rows_loaded) == ("loaded", 0, 0)
    _assert_reconciles(con)


def test_corrupt_values_count_toward_the_reject_rate(con, landing):
    bad = "".join(f"A{i},X,SMB,Pro,monthly,inf,2026-01-05,Ana\n" for i in range(50, 55))
    (landing / "accounts.csv").write_text(HEADER + GOOD + bad)
    with pytest.raises(ContractViolation, match="non_finite 5"):
        _load(con, landing, max_reject_rate=0.05)
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 0


TIMED_EVENTS = (
    "event_id,account_id,event_type,occurred_at\n"
    "E1,A1,session_started,2026-03-01 23:30:00\n"  # naive: taken as UTC
    "E2,A1,session_started,2026-03-01T23:30:00-08:00\n"  # offset: converted to UTC
    "E3,A1,session_started,2026-03-29 01:30:00+01:00\n"  # a DST night in Europe
    "E4,A1,session_started,03/01/2026 11:30 PM\n"  # US text format: bad_type, not guessed
)
LOAD_IN_PROCESS = """
import sys, duckdb
from ingest import SOURCES, IngestRules, load_new_files
con = duckdb.connect(sys.argv[2])
for source in ("accounts", "usage_events"):
    load_new_files(con, SOURCES[source], sys.argv[1], IngestRules(0.5))
print(con.execute("select event_id, occurred_at from raw.usage_events order by 1").fetchall())
print(con.execute("select source_row, rule from raw._quarantine order by 1").fetchall())
"""


def test_the_process_time_zone_does_not_change_what_is_loaded(landing, tmp_path):
    """TZ=UTC and TZ=America/Los_Angeles load the same UTC timestamps."""
    import os
    import subprocess
    import sys

    (landing / "accounts.csv").write_text(HEADER + GOOD)
    (landing.parent / "usage_events").mkdir()
    (landing.parent / "usage_events" / "events.csv").write_text(TIMED_EVENTS)
    outputs = []
    for zone in ("UTC", "America/Los_Angeles"):
        done = subprocess.run(
            [sys.executable, "-c", LOAD_IN_PROCESS, str(landing.parent), str(tmp_path / f"{zone[:3]}.duckdb")],
            env={**os.environ, "TZ": zone}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert "datetime.datetime(2026, 3, 2, 7, 30)" in outputs[0]  # -08:00 converted
    assert "datetime.datetime(2026, 3, 1, 23, 30)" in outputs[0]  # naive kept as UTC
    assert "(4, 'bad_type')" in outputs[0]


def test_an_unclosed_quote_with_lines_after_it_refuses_the_file_instead_of_losing_them(
    con, landing
):
    stray = 'A50,"Acme 5, screen,SMB,Pro,monthly,100,2026-01-05,Ana\n'  # never closed
    (landing / "accounts.csv").write_text(HEADER + stray + GOOD)
    with pytest.raises(
        ContractViolation, match=r"accounts\.csv: a double quote opens a field on line 2"
    ):
        _load(con, landing)
    assert con.execute("select count(*) from raw.accounts").fetchone()[0] == 0


def test_a_gzip_stream_cut_in_transfer_is_refused_as_cut_short(con, landing):
    data = gzip.compress((HEADER + GOOD + 'A41,"Cut, in').encode())
    (landing / "accounts.csv.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ContractViolation, match=r"accounts\.csv\.gz: the compressed file is cut short"
    ):
        _load(con, landing)


def test_a_no_break_space_around_a_key_is_padding_too(con, landing):
    (landing / "accounts.csv").write_text(
        HEADER + GOOD + "A7\u00a0,Padded,SMB,Pro,monthly,100,2026-01-05,Ana\n"
    )
    (load,) = _load(con, landing)
    assert load.rows_quarantined == 1
    assert _quarantine(con)[0][1] == "padded_key"


def test_problems_in_a_cut_file_name_the_delivered_file_not_a_working_copy(con, landing):
    (landing / "accounts.csv").write_text('account_id,company_name\nA1,"Cut, in')
    with pytest.raises(ContractViolation) as refused:
        _load(con, landing)
    assert str(refused.value).startswith(f"{landing / 'accounts.csv'}: required column(s)")
