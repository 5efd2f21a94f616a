"""Ingestion on hand-made files: loaded once, bad rows quarantined, bad files refused."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from ingest import SOURCES, ContractViolation, load_new_files

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


def _load(con, landing, max_reject_rate=0.5):
    return load_new_files(con, ACCOUNTS, str(landing.parent), max_reject_rate)


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
