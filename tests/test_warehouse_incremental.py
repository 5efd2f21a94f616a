"""The warehouse's incremental path and its point-in-time guarantee, on real dbt builds.

One dataset is delivered in three nights, and ``dbt build`` runs incrementally after
each:

1. everything but October (usage events, tickets, NPS answers, payments, the October
   CRM snapshot) and one May day;
2. October: facts dated after the first night's history only;
3. late facts and corrections, each reaching back months: the late May day, a
   subscriptions snapshot with a churn, an upgrade and the oldest period starting later, a users snapshot (re-ordered)
   deactivating one user, a failed payment in September, a ticket re-opened in August, and a
   corrected September CRM snapshot, and the October one with a signup date moved;

and then a fourth run with changed health weights and burst size and no new data, and a
fifth that puts the signup date night three moved back as it was.

Then a full refresh must give exactly the same tables (every column but each table's
incremental watermark, ``inputs_loaded_at``), the October delivery must leave every
earlier snapshot's features unchanged, and the third night's corrections must show up
in the past dates they reach.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pandas.testing as pdt
import pytest
from conftest import DBT_DIR, PipelineDirs, generate_small, make_pipeline_dirs

from ingest import SOURCES, IngestRules, load_new_files
from ml.features import OUTCOMES
from pipeline_config import dbt_vars, load_config, warehouse_settings

LATE_DAY = "2026-05-14"
WATERMARK = "inputs_loaded_at"  # run state: the one column a full refresh may change
INCREMENTAL = [
    "staging.stg_crm__accounts",
    "staging.stg_crm__account_snapshots",
    "staging.stg_billing__subscriptions",
    "staging.stg_product__users",
    "staging.stg_support__tickets",
    "intermediate.int_usage_user_days_aggregated",
    "intermediate.int_account_event_type_days_aggregated",
    "intermediate.int_account_event_windows_aggregated",
    "intermediate.int_account_observations_listed",
    "intermediate.int_account_usage_windows_aggregated",
    "intermediate.int_account_adoption_windows_aggregated",
    "intermediate.int_account_feature_adoptions_listed",
    "marts.fct_account_daily_usage",
    "marts.fct_account_feature_daily_usage",
    "marts.fct_account_adoption",
    "marts.fct_account_support",
    "marts.fct_account_nps",
    "marts.fct_account_billing",
    "marts.fct_cohort_baselines",
    "marts.fct_account_health",
    "marts.fct_account_mrr_monthly",
]
DOWNSTREAM = [
    "marts.fct_account_snapshots",
    "marts.fct_account_event_features",
    "marts.fct_churn_monthly",
    "marts.fct_account_onboarding_milestones",
    "marts.fct_silent_churn",
]
OCTOBER = [
    "usage_events/usage_events_2026-10.parquet",
    "support_tickets/support_tickets_2026-10.jsonl",
    "nps_responses/nps_responses_2026-10.csv",
    "payments/payments_2026-10.csv",
    "accounts/accounts_2026-10-31.csv",
]


class Nights:
    """Deliver files, load them with the real loader and run the real dbt build."""

    def __init__(self, dirs: PipelineDirs, config: Path, held: Path) -> None:
        self.dirs, self.held = dirs, held
        self.env = {
            **os.environ,
            "CHURN_WAREHOUSE_PATH": str(dirs.warehouse),
            "CHURN_CONFIG": str(config),
        }
        self.config = load_config(config)

    def deliver(self, *names: str) -> None:
        for name in names:
            source = name.split("/")[0]
            (self.held / name).rename(self.dirs.landing / source / Path(name).name)

    def ingest(self) -> None:
        rules = IngestRules.from_config(self.config["ingest"])
        with duckdb.connect(str(self.dirs.warehouse), config=warehouse_settings()) as con:
            for contract in SOURCES.values():
                load_new_files(con, contract, str(self.dirs.landing), rules)

    def dbt_build(self, *extra: str) -> None:
        command = [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--vars",
            json.dumps(dbt_vars(self.config)),
            "--target-path",
            str(self.dirs.root / "dbt_target"),
            *extra,
        ]
        done = subprocess.run(command, cwd=DBT_DIR, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:]

    def night(self, *names: str) -> None:
        self.deliver(*names)
        self.ingest()
        self.dbt_build()

    def read(self, sql: str):
        with duckdb.connect(str(self.dirs.warehouse), read_only=True) as con:
            return con.execute(sql).df()

    def copy_tables(self, tables: list[str], schema: str) -> None:
        with duckdb.connect(str(self.dirs.warehouse)) as con:
            con.execute(f"create schema if not exists {schema}")
            for table in tables:
                name = table.split(".")[1]
                con.execute(f"create or replace table {schema}.{name} as select * from {table}")


def _hold_back(dirs: PipelineDirs, held: Path) -> date:
    """October's files wait for night two; one May day for night three.
    Returns the first UTC day the October files touch (files are cut by local time)."""
    for name in OCTOBER:
        (held / name).parent.mkdir(parents=True, exist_ok=True)
        (dirs.landing / name).rename(held / name)
    may = dirs.landing / "usage_events" / "usage_events_2026-05.parquet"
    late = held / "usage_events" / f"usage_events_{LATE_DAY}.parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        day = f"cast(occurred_at as date) = date '{LATE_DAY}'"
        con.execute(f"copy (select * from '{may}' where {day}) to '{late}' (format parquet)")
        con.execute(f"copy (select * from '{may}' where not {day}) to '{may}.tmp' (format parquet)")
        (first_day,) = con.execute(
            f"""select least(
                (select min(cast(occurred_at as date)) from '{held / OCTOBER[0]}'),
                (select min(cast(cast(updated_at as timestamptz) as date)) from '{held / OCTOBER[1]}'),
                (select min(cast(cast(responded_at as timestamptz) as date)) from '{held / OCTOBER[2]}'),
                (select min(cast(cast(attempted_at as timestamptz) as date)) from '{held / OCTOBER[3]}'))"""
        ).fetchone()
    Path(f"{may}.tmp").rename(may)
    return first_day


def _corrections(dirs: PipelineDirs, held: Path) -> dict[str, str]:
    """Night three's late facts, each dated months back, written next to the held files.
    Returns the accounts each one touches."""
    land = dirs.landing
    out: dict[str, str] = {}
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        subs = f"read_csv('{land}/subscriptions/subscriptions_2026-10-31.csv', all_varchar=true)"
        # two long-running open periods: one account churns in September, one upgrades in August
        churned, upgraded = [
            row[0]
            for row in con.execute(
                f"""select account_id from {subs}
                group by account_id
                having count(*) = 1 and max(end_date) is null and max(start_date) < '2026-03-01'
                order by account_id limit 2"""
            ).fetchall()
        ]
        out |= {"churned": churned, "upgraded": upgraded}
        # and the oldest period of all started two months later than first exported: the
        # months before it leave the monthly tables
        out["oldest"], out["oldest_start"] = con.execute(
            f"""select subscription_id, start_date from {subs}
            where coalesce(end_date, '9999-12-31') > cast(cast(start_date as date) + 90 as varchar)
            order by start_date, subscription_id limit 1"""
        ).fetchone()
        (held / "subscriptions").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""copy (
                select subscription_id, account_id, plan, contract_term, seats,
                    case when subscription_id = '{out["oldest"]}'
                        then cast(cast(start_date as date) + 61 as varchar) else start_date
                    end as start_date,
                    case
                        when account_id = '{churned}' then '2026-09-15'
                        when account_id = '{upgraded}' then '2026-08-10'
                        else end_date
                    end as end_date,
                    mrr
                from {subs}
                union all
                select subscription_id || '-up', account_id, plan, contract_term,
                    cast(cast(seats as integer) * 2 as varchar), '2026-08-10', null,
                    cast(cast(mrr as double) * 2 as varchar)
                from {subs} where account_id = '{upgraded}'
            ) to '{held}/subscriptions/subscriptions_2026-11-01.csv' (header)"""
        )
        # a full users snapshot again, re-ordered, with one active user deactivated in August
        users = f"read_csv('{land}/users/users_2026-10-31.csv', all_varchar=true)"
        user, out["deactivated"] = con.execute(
            f"""select user_id, account_id from {users} as u
            where deactivated_at is null and created_at < '2026-05-01'
                and account_id not in ('{churned}', '{upgraded}')
                and (select count(*) from {users} as o
                     where o.account_id = u.account_id and o.deactivated_at is null) >= 3
            order by user_id limit 1"""
        ).fetchone()
        (held / "users").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""copy (
                select * replace (
                    case when user_id = '{user}' then '2026-08-20' else deactivated_at end
                        as deactivated_at)
                from {users} order by user_id desc
            ) to '{held}/users/users_2026-11-01.csv' (header)"""
        )
        # a failed payment from September, exported late
        out["late_payment"] = con.execute(
            f"""select account_id from {subs}
            where account_id not in ('{churned}', '{upgraded}')
                and end_date is null and start_date < '2026-01-01'
            order by account_id desc limit 1"""
        ).fetchone()[0]
        (held / "payments").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""copy (
                select 'P-LATE-1' as payment_id, '{out["late_payment"]}' as account_id,
                    'INV-LATE' as invoice_id, '2026-09-20T10:00:00Z' as attempted_at,
                    99.0 as amount, 'USD' as currency, 'failed' as status,
                    'card_declined' as failure_code
            ) to '{held}/payments/payments_2026-09-late.csv' (header)"""
        )
        # an August ticket re-opened: its newest version closes it only in late September
        tickets = f"read_json('{land}/support_tickets/support_tickets_2026-08.jsonl')"
        (held / "support_tickets").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""copy (
                select * replace (
                    cast('2026-09-25T12:00:00' as timestamp) as closed_at,
                    'closed' as status,
                    cast('2026-09-25T12:00:00' as timestamp) as updated_at)
                from (select * from {tickets}
                      where opened_at < '2026-08-25' and closed_at < '2026-08-31'
                      qualify row_number() over (partition by ticket_id order by updated_at desc) = 1
                      order by ticket_id limit 1)
            ) to '{held}/support_tickets/support_tickets_2026-11-01.jsonl' (format json)"""
        )
        out["reopened"] = con.execute(
            f"select account_id from read_json('{held}/support_tickets/support_tickets_2026-11-01.jsonl')"
        ).fetchone()[0]
        # the September CRM snapshot delivered again with one account moved to another segment
        crm = f"read_csv('{land}/accounts/accounts_2026-09-30.csv', all_varchar=true)"
        out["moved"] = con.execute(
            f"""select account_id from {crm} where segment = 'SMB'
                and account_id not in ('{churned}', '{upgraded}') order by account_id limit 1"""
        ).fetchone()[0]
        (held / "accounts").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"""copy (
                select * replace (
                    case when account_id = '{out["moved"]}' then 'Mid-Market' else segment end
                        as segment)
                from {crm}
            ) to '{held}/accounts/accounts_2026-09-30-corrected.csv' (header)"""
        )
        # October's CRM snapshot delivered again with a young account's signup 45 days
        # late (night three), then once more as it was, rows re-ordered (the fourth run)
        october = f"read_csv('{held}/accounts/accounts_2026-10-31.csv', all_varchar=true)"
        out["resigned"], signup = con.execute(
            f"""select account_id, signup_date from {october}
            where signup_date between '2026-05-01' and '2026-06-30'
                and account_id not in ('{churned}', '{upgraded}', '{out["moved"]}')
                and account_id in (select account_id from {subs} where end_date is null)
            order by account_id limit 1"""
        ).fetchone()
        out["signup"] = signup
        con.execute(
            f"""copy (
                select * replace (
                    case when account_id = '{out["resigned"]}'
                        then cast(cast(signup_date as date) + 45 as varchar) else signup_date end
                        as signup_date)
                from {october}
            ) to '{held}/accounts/accounts_2026-10-31-late-signup.csv' (header)"""
        )
        con.execute(
            f"""copy (select * from {october} order by account_id desc)
            to '{held}/accounts/accounts_2026-10-31-fixed.csv' (header)"""
        )
    return out


def _past_state(run: Nights) -> pd.DataFrame:
    """The per-date values the corrections reach, one row per account per date."""
    return run.read(
        """select o.account_id, o.observation_date, o.segment, o.mrr, a.known_users,
            b.failed_payments, s.open_tickets
        from intermediate.int_account_observations_listed as o
        join marts.fct_account_adoption as a using (account_id, observation_date)
        join marts.fct_account_billing as b using (account_id, observation_date)
        join marts.fct_account_support as s using (account_id, observation_date)"""
    ).set_index(["account_id", "observation_date"])


CORRECTIONS = [
    f"usage_events/usage_events_{LATE_DAY}.parquet",
    "subscriptions/subscriptions_2026-11-01.csv",
    "users/users_2026-11-01.csv",
    "payments/payments_2026-09-late.csv",
    "support_tickets/support_tickets_2026-11-01.jsonl",
    "accounts/accounts_2026-09-30-corrected.csv",
    "accounts/accounts_2026-10-31-late-signup.csv",
]


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, test_config: Path) -> dict:
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("incremental"))
    generate_small(dirs)
    held = dirs.root / "held"
    october_starts = _hold_back(dirs, held)
    touched = _corrections(dirs, held)
    dirs.warehouse.parent.mkdir(parents=True, exist_ok=True)
    run = Nights(dirs, test_config, held)
    run.ingest()
    run.dbt_build()
    before_october = run.read("select * from marts.fct_account_snapshots")

    run.night(*OCTOBER)
    after_october = run.read("select * from marts.fct_account_snapshots")
    past_before = _past_state(run)
    logged = run.read("select max(loaded_at) as t from intermediate.int_source_changes_listed")[
        "t"
    ][0]

    run.night(*CORRECTIONS)
    past_after = _past_state(run)
    late_day_rows = run.read(
        f"select count(*) as n from marts.fct_account_daily_usage where activity_date = '{LATE_DAY}'"
    )["n"][0]
    changes = run.read(
        f"select * from intermediate.int_source_changes_listed where loaded_at > '{logged}'"
    )
    # a configuration change with no new data, then the signup date put right again: the
    # stored dates follow both (the full refresh below uses the same configuration)
    run.config["health"]["weights"]["nps"] = 0.3
    run.config["metrics"]["support"]["burst_tickets"] = 2
    run.dbt_build()
    run.night("accounts/accounts_2026-10-31-fixed.csv")
    run.copy_tables(INCREMENTAL + DOWNSTREAM, "incremental_copy")

    run.dbt_build("--full-refresh")
    return {
        "run": run,
        "before_october": before_october,
        "after_october": after_october,
        "past_before": past_before,
        "past_after": past_after,
        "late_day_rows": late_day_rows,
        "october_starts": october_starts,
        "touched": touched,
        "changes": changes,
    }


def _comparable(run: Nights, table: str) -> str:
    """The table's columns, doubles rounded: sums of doubles are added in whatever order
    DuckDB's threads finish, so two identical builds can differ in the last bits."""
    schema, name = table.split(".")
    columns = run.read(
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position"
    )
    return ", ".join(
        f"round({c}, 6) as {c}" if t in ("DOUBLE", "FLOAT") else c
        for c, t in zip(columns["column_name"], columns["data_type"], strict=True)
        if c != WATERMARK
    )


@pytest.mark.parametrize("table", INCREMENTAL + DOWNSTREAM)
def test_incremental_nights_equal_a_full_refresh(nights, table):
    name = table.split(".")[1]
    columns = _comparable(nights["run"], table)
    full, incremental = (
        f"select {columns} from {table}",
        f"select {columns} from incremental_copy.{name}",
    )
    diff = nights["run"].read(
        f"""select count(*) as n from (
                ({full} except all {incremental}) union all ({incremental} except all {full}))"""
    )["n"][0]
    rows = nights["run"].read(f"select count(*) as n from {table}")["n"][0]
    assert rows > 0
    assert diff == 0, f"{table}: {diff} rows differ between incremental and full refresh"


def test_a_late_file_reopens_its_old_day(nights):
    assert nights["late_day_rows"] > 0  # the late May day was filled in by night three


def test_future_events_leave_past_snapshots_unchanged(nights):
    """Every event and ticket version of the October delivery is dated on or after its
    first day: snapshots observed on or before that day must keep every feature. Labels and
    the churn dates they summarise may change (that is what the new month tells), and so
    may the first night's scoring date (2026-10-02, not a month start) which the second
    night no longer observes."""
    before, after = nights["before_october"], nights["after_october"]
    cutoff = pd.Timestamp(nights["october_starts"])
    past = before[before["is_month_start"] & (before["observation_date"] <= cutoff)]
    assert past["observation_date"].nunique() >= 4
    roles = ["is_scoring_row", "is_month_start", "is_alert_night", "is_model_row"]
    features = [c for c in before.columns if c not in [*OUTCOMES, *roles]]
    keys = ["account_id", "observation_date"]
    old = past[features].sort_values(keys).reset_index(drop=True)
    new = (
        after[after["observation_date"].isin(set(past["observation_date"]))][features]
        .sort_values(keys)
        .reset_index(drop=True)
    )
    assert len(old) == len(new)
    # the new month really added usage: the next scoring row sees October
    assert after["observation_date"].max() > before["observation_date"].max()
    pdt.assert_frame_equal(old, new, check_dtype=False)


def test_dbt_docs_generate_documents_every_mart_column(nights):
    """What an analyst runs: the catalog lists every mart, and every column of it has a
    description in the yml."""
    run = nights["run"]
    command = [str(Path(sys.executable).with_name("dbt")), "docs", "generate"]
    target = run.dirs.root / "dbt_target"
    done = subprocess.run(
        [*command, "--target-path", str(target), "--vars", json.dumps(dbt_vars(run.config))],
        cwd=DBT_DIR,
        env=run.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    catalog = json.loads((target / "catalog.json").read_text())["nodes"]
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    marts = [
        k for k, n in manifest.items() if n["resource_type"] == "model" and n["schema"] == "marts"
    ]
    assert len(marts) >= 18
    for key in marts:
        if "after_alerts" in manifest[key]["tags"]:
            continue  # built after the alerts engine, not by a plain dbt build
        described = {c for c, spec in manifest[key]["columns"].items() if spec["description"]}
        built = {c.lower() for c in catalog[key]["columns"]}
        assert built <= described, f"{key}: undocumented columns {sorted(built - described)}"


def test_late_corrections_reach_the_past_dates_they_change(nights):
    """Night three's facts are dated months back: the stored dates they reach were
    rebuilt (the full-refresh comparison above shows they were rebuilt correctly)."""
    before, after, touched = nights["past_before"], nights["past_after"], nights["touched"]

    def value(frame: pd.DataFrame, account: str, day: str, column: str):
        return frame.loc[(account, pd.Timestamp(day)), column]

    assert (touched["churned"], pd.Timestamp("2026-10-01")) in before.index
    assert (touched["churned"], pd.Timestamp("2026-10-01")) not in after.index
    upgraded = touched["upgraded"]
    assert value(after, upgraded, "2026-09-01", "mrr") == 2 * value(
        before, upgraded, "2026-09-01", "mrr"
    )
    user = touched["deactivated"]
    assert (
        value(after, user, "2026-09-01", "known_users")
        == value(before, user, "2026-09-01", "known_users") - 1
    )
    assert value(after, user, "2026-08-01", "known_users") == value(
        before, user, "2026-08-01", "known_users"
    )
    payer = touched["late_payment"]
    assert (
        value(after, payer, "2026-10-01", "failed_payments")
        == value(before, payer, "2026-10-01", "failed_payments") + 1
    )
    ticket = touched["reopened"]
    assert (
        value(after, ticket, "2026-09-01", "open_tickets")
        == value(before, ticket, "2026-09-01", "open_tickets") + 1
    )
    moved = touched["moved"]
    assert (
        value(before, moved, "2026-10-01", "segment"),
        value(after, moved, "2026-10-01", "segment"),
    ) == (
        "SMB",
        "Mid-Market",
    )


def test_the_change_log_keeps_only_what_changed(nights):
    """A full snapshot delivered again logs only its changed rows: the users export of
    night three reaches from the deactivation on, not from the oldest user's creation."""
    changes = nights["changes"]  # night three's loads
    last = changes[changes["source_name"] != "accounts"].set_index("source_name")
    assert last.loc["users", "first_affected_date"] == pd.Timestamp("2026-08-21")
    # a period re-dated reaches from the earlier start, less the re-sign gap: it could
    # join a spell that ended up to the gap before
    oldest_start = pd.Timestamp(nights["touched"]["oldest_start"])
    assert last.loc["subscriptions", "first_affected_date"] == oldest_start - pd.Timedelta(days=30)
    # the corrected September snapshot reaches October on; the moved signup every date of
    # the account (from its signup, the earlier of the two)
    crm = sorted(nights["changes"].query("source_name == 'accounts'")["first_affected_date"])
    assert crm == [pd.Timestamp(nights["touched"]["signup"]), pd.Timestamp("2026-10-01")]
    assert last.loc["payments", "first_affected_date"] == pd.Timestamp("2026-09-21")
    opened = nights["run"].read(
        "select opened_at from staging.stg_support__tickets where closed_at = '2026-09-25 12:00:00'"
    )["opened_at"][0]
    assert last.loc["support_tickets", "first_affected_date"] == opened.normalize() + pd.Timedelta(
        days=1
    )
    usage = last.loc[["usage_events"]]
    assert list(usage["first_affected_date"]) == [pd.Timestamp(LATE_DAY) + pd.Timedelta(days=1)]
