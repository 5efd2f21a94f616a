"""A company that exports only accounts, subscriptions and usage events, leaves every
optional column of them empty, names its segments and contract terms its own way and
has six months of history still gets scores, alerts and pages: optional means
optional, the vocabulary is configuration (``accounts`` in the pipeline config), for
the suites and dbt alike, and the time settings ``ml.history_fit`` suggests for six
months train and backtest the model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from conftest import (
    DBT_DIR,
    TEST_CONFIG,
    generate_small,
    make_pipeline_dirs,
    point_pipeline_at,
    rewrite_usage_events,
    run_nightly,
)

from expectations.raw_tables import contract_expectations, raw_table_frame
from expectations.validate import run_suite
from ingest import SOURCES
from pipeline_config import dbt_vars, load_config

SEGMENTS = {
    "SMB": "Starter",
    "Mid-Market": "Growth",
    "Enterprise": "Scale's top",
}  # a quote: SQL-escaped
TERMS = {"monthly": "month", "annual": "year"}
OWN_VOCABULARY = {
    "accounts": {
        "segments": list(SEGMENTS.values()),
        "contract_terms": [{"name": "month", "months": 1}, {"name": "year", "months": 12}],
    },
    "alerts": {"rules": {"renewal_risk": {"contract_terms": ["year"]}}},
}
SHORT_HISTORY_MONTHS = 6
# what ml.history_fit suggests for six months (test_history_fit checks it does)
SHORT_HISTORY_SETTINGS = {
    "metrics": {"min_history_days": 30},
    "model": {"horizon_days": 30, "test_months": 1, "embargo_days": 30},
}
# Left filled: without end dates no subscription ever ends, so nobody churns.
KEPT = {"subscriptions": {"end_date"}}


def _optional_columns(source: str) -> list[str]:
    contract = SOURCES[source]
    return [
        c.name for c in contract.columns if not c.required and c.name not in KEPT.get(source, set())
    ]


def _rewrite_required_sources(landing: Path) -> None:
    """Own vocabulary, and every optional column of the required sources emptied."""
    for source in ("accounts", "subscriptions"):
        for path in sorted((landing / SOURCES[source].folder).glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if "segment" in frame:
                frame["segment"] = frame["segment"].map(SEGMENTS)
            frame["contract_term"] = frame["contract_term"].map(TERMS)
            for column in _optional_columns(source):
                frame[column] = ""
            frame.to_csv(path, index=False)
    blank = ", ".join(f"null as {c}" for c in _optional_columns("usage_events"))
    rewrite_usage_events(landing, f"select * replace ({blank}) from {{events}}")


@pytest.fixture(scope="module")
def own_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("own_config") / "pipeline.yaml"
    merged = yaml.safe_load(TEST_CONFIG)
    merged["alerts"] = {**merged["alerts"], **OWN_VOCABULARY["alerts"]}
    merged["model"] = {**merged["model"], **SHORT_HISTORY_SETTINGS["model"]}
    merged["metrics"] = SHORT_HISTORY_SETTINGS["metrics"]
    path.write_text(yaml.safe_dump({**merged, "accounts": OWN_VOCABULARY["accounts"]}))
    return path


@pytest.fixture(scope="module")
def minimal_run(tmp_path_factory, own_config, defs):
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("minimal"))
    generate_small(dirs, months=SHORT_HISTORY_MONTHS)
    for contract in SOURCES.values():
        if not contract.required_source:
            shutil.rmtree(dirs.landing / contract.folder)
    _rewrite_required_sources(dirs.landing)
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, own_config)
        yield run_nightly(defs), dirs


def test_the_run_succeeds_with_only_the_required_columns_filled(minimal_run):
    result, dirs = minimal_run
    assert result.success, [e.message for e in result.all_events if e.is_failure][:3]
    con = duckdb.connect(str(dirs.warehouse), read_only=True)
    optional = [c.name for c in SOURCES.values() if not c.required_source]
    counts = {
        name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in optional
    }
    seats = con.execute("select count(seats) from raw.accounts").fetchone()[0]
    scored = con.execute("select count(*) from ml.churn_scores").fetchone()[0]
    segments = {
        r[0] for r in con.execute("select distinct segment from marts.dim_accounts").fetchall()
    }
    con.close()
    assert set(counts.values()) == {0}
    assert seats == 0
    assert scored > 0
    assert segments == set(SEGMENTS.values())


def test_alerts_and_pages_are_published_in_the_companys_vocabulary(minimal_run):
    _, dirs = minimal_run
    latest = dirs.outputs / "latest"
    alerts = pd.read_csv(latest / "alerts.csv")
    scores = pd.read_csv(latest / "scores.csv")
    assert len(alerts) > 0
    assert set(scores["segment"]) == set(SEGMENTS.values())
    # renewal risk reads the configured "year" term; cohort evidence names the segment
    assert alerts["types"].str.contains("renewal_risk").any()
    assert alerts["evidence"].str.contains("|".join(SEGMENTS.values())).any()
    assert (latest / "index.html").exists()


def test_yearly_terms_renew_on_the_anniversary_and_bill_once_a_year(minimal_run):
    """The term's length comes from the config: "year" renews within 365 days and is
    one billed period a year, "month" within 30 days and a period a month (the billing
    export's term is empty here: the CRM's is used)."""
    _, dirs = minimal_run
    con = duckdb.connect(str(dirs.warehouse), read_only=True)
    renewal = dict(
        con.execute(
            "select contract_term, max(days_to_renewal) from marts.fct_account_snapshots "
            "group by all"
        ).fetchall()
    )
    periods = con.execute(
        """select a.contract_term, bool_and(
                   l.billed_periods = case a.contract_term when 'year'
                       then (l.billed_months + 11) // 12 else l.billed_months end)
           from intermediate.int_account_lifetime_value_summed as l
           join marts.dim_accounts as a using (account_id)
           where l.spell_number = 1
           group by all"""
    ).fetchall()
    con.close()
    assert 30 < renewal["year"] <= 365
    assert renewal["month"] <= 30
    assert dict(periods) == {"year": True, "month": True}


def test_the_default_vocabulary_refuses_the_companys_values(minimal_run, tmp_path):
    """The same data under the default vocabulary fails the raw suites and dbt's tests,
    naming the column and counting the rows."""
    _, dirs = minimal_run
    copy = tmp_path / "copy.duckdb"
    shutil.copy(dirs.warehouse, copy)
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text(TEST_CONFIG)
    with duckdb.connect(str(copy)) as con:
        contract = SOURCES["accounts"]
        frame, parameters = raw_table_frame(con, contract, load_config(defaults))
        outcome = run_suite(
            frame, "raw_accounts", "raw.accounts", parameters, contract_expectations(contract)
        )
        rows = con.execute("select count(*) from raw.accounts").fetchone()[0]
    failed = {f.column: f.unexpected_count for f in outcome.failures}
    assert failed == {"segment": rows, "contract_term": rows}
    command = [
        str(Path(sys.executable).with_name("dbt")), "test",
        "--select", "stg_crm__accounts,test_name:in_configured_values",
        "--vars", json.dumps(dbt_vars(load_config(defaults))),
        "--target-path", str(tmp_path / "target"),
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(copy)}
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "in_configured_values_stg_crm__accounts_segment" in done.stdout
    assert "Got 3 results" in done.stdout  # one row per value outside the config


def test_a_vocabulary_without_lengths_or_names_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump({"accounts": {"segments": [], "contract_terms": [{"name": "month"}]}})
    )
    with pytest.raises(ValueError) as error:
        load_config(path)
    assert "accounts.segments" in str(error.value)
    assert "accounts.contract_terms[0]" in str(error.value)
    path.write_text(yaml.safe_dump({"accounts": OWN_VOCABULARY["accounts"]}))  # "annual" gone
    with pytest.raises(ValueError, match=r"renewal_risk\.contract_terms"):
        load_config(path)
