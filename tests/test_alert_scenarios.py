"""Crafted accounts through the real loader, holiday calendar, dbt build and alerts engine:
a user's vacation and a company-wide break do not alert, a real team-level decline
does, and data delivered after a night cannot change that night's alerts.

Four single-user accounts log in every weekday for 220 days, except:
  A-decline   from 60 days before the end, on one weekday in three;
  A-vacation  nothing for 14 days, 40 days before the end;
  all but one nothing during the company's break (22 days around the year end, in the
              config's alerts.seasonality.ranges at 5% of normal activity); A-other works
              through it, so the usage export does not go stale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DBT_DIR

from alerts.engine import first_signal_night, replay, run_night
from alerts.seasonality import write_holiday_calendar
from ingest import SOURCES, IngestRules, load_new_files
from pipeline_config import dbt_vars, load_config, warehouse_settings

LAST_DAY = date(2026, 1, 20)  # the newest usage day: the as-of night is the day after
FIRST_DAY = LAST_DAY - timedelta(days=219)
BREAK = {"name": "Year-end shutdown", "start": "12-15", "end": "01-05", "expected_activity": 0.05}
VACATION = (LAST_DAY - timedelta(days=40), LAST_DAY - timedelta(days=27))
DECLINE_FROM = LAST_DAY - timedelta(days=60)
NIGHTS = 50  # the nights judged: they cover the vacation, the break and the decline
ACCOUNTS = ("A-steady", "A-vacation", "A-decline", "A-other")


def _in_break(day: date) -> bool:
    return (day.month == 12 and day.day >= 15) or (day.month == 1 and day.day <= 5)


def _active(account: str, day: date) -> bool:
    if day.weekday() >= 5 or (_in_break(day) and account != "A-other"):
        return False
    if account == "A-vacation" and VACATION[0] <= day <= VACATION[1]:
        return False
    if account == "A-decline" and day >= DECLINE_FROM:
        return day.toordinal() % 3 == 0
    return True


def _events(days: list[date], first_id: int) -> pd.DataFrame:
    rows = []
    for account in ACCOUNTS:
        for day in days:
            if not _active(account, day):
                continue
            at = pd.Timestamp(day) + timedelta(hours=10)
            user = f"{account}-U0"
            rows += [
                (account, "session_started", at, user, 1200.0, None),
                (account, "project_delivered", at + timedelta(minutes=5), user, None, None),
                (account, "projects_used", at + timedelta(minutes=6), user, None, "projects"),
                (account, "reports_used", at + timedelta(minutes=7), user, None, "reports"),
            ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "account_id",
            "event_type",
            "occurred_at",
            "user_id",
            "session_seconds",
            "feature",
        ],
    )
    frame.insert(0, "event_id", np.arange(first_id, first_id + len(frame)))
    frame["occurred_at"] = frame["occurred_at"].dt.tz_localize("UTC")
    return frame


def _write_company(landing: Path, last_day: date) -> None:
    signup = FIRST_DAY - timedelta(days=400)
    accounts = pd.DataFrame(
        {
            "account_id": ACCOUNTS,
            "company_name": [f"{a} Ltd" for a in ACCOUNTS],
            "segment": "Mid-Market",
            "plan": "Pro",
            "contract_term": "monthly",
            "mrr": 1000.0,
            "signup_date": signup,
            "csm_owner": "Ana Ruiz",
            "seats": 1,
            "country": "GB",
            "snapshot_date": FIRST_DAY,
        }
    )
    subscriptions = pd.DataFrame(
        {
            "subscription_id": [f"S-{a}" for a in ACCOUNTS],
            "account_id": ACCOUNTS,
            "mrr": 1000.0,
            "start_date": signup,
            "end_date": None,
            "plan": "Pro",
            "contract_term": "monthly",
            "seats": 1,
        }
    )
    for name, frame in (("accounts", accounts), ("subscriptions", subscriptions)):
        (landing / name).mkdir(parents=True, exist_ok=True)
        frame.to_csv(landing / name / f"{name}_{FIRST_DAY}.csv", index=False)
    _deliver_events(landing, FIRST_DAY, last_day, first_id=1)


def _deliver_events(landing: Path, first: date, last: date, first_id: int) -> None:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    folder = landing / "usage_events"
    folder.mkdir(parents=True, exist_ok=True)
    _events(days, first_id).to_parquet(folder / f"usage_events_{first}_{last}.parquet")


def _build(root: Path, config_path: Path, nights_from: date) -> None:
    """The nightly warehouse steps: load new files, the calendar, dbt."""
    config = load_config(config_path)
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), config=warehouse_settings()) as con:
        rules = IngestRules.from_config(config["ingest"])
        for contract in SOURCES.values():
            load_new_files(con, contract, str(root / "landing"), rules)
        write_holiday_calendar(con, config["alerts"]["seasonality"])
    command = [
        str(Path(sys.executable).with_name("dbt")), "build",
        "--vars", json.dumps(dbt_vars(config, alert_nights_from=nights_from.isoformat())),
        "--target-path", str(root / "dbt_target"),
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(warehouse), "CHURN_CONFIG": str(config_path)}
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def _scenario_config(tmp: Path, **alerts) -> Path:
    path = tmp / "pipeline.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "ingest": {"reference_date": str(LAST_DAY + timedelta(days=1))},
                "alerts": {
                    "seasonality": {"public_holidays": False, "ranges": [BREAK]},
                    "holdout": {"share": 0.0},
                    **alerts,
                },
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    root = tmp_path_factory.mktemp("alert_scenarios")
    config_path = _scenario_config(root)
    config = load_config(config_path)
    _write_company(root / "landing", LAST_DAY)
    first = LAST_DAY + timedelta(days=1) - timedelta(days=NIGHTS - 1)
    _build(root, config_path, first_signal_night(first, config["alerts"]))
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute(
            "create schema if not exists ml; create table if not exists ml.churn_scores "
            "(account_id varchar, as_of_date date, churn_probability double, reasons varchar[])"
        )
    return root, config_path, first


def _replayed(root: Path, config: dict, first: date) -> pd.DataFrame:
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        replay(con, first, LAST_DAY + timedelta(days=1), config, "ml.churn_scores")
        return con.execute(
            "select account_id, night, types from alerts_replay.alert_history where status = 'new'"
        ).df()


def test_a_vacation_and_a_company_break_do_not_alert_but_a_decline_does(company):
    root, config_path, first = company
    opened = _replayed(root, load_config(config_path), first)
    assert set(opened["account_id"]) == {"A-decline"}
    assert "usage_trend" in opened["types"].iloc[0]


def test_data_delivered_after_a_night_cannot_change_its_alerts(company):
    """Five live nights, then ten more days of usage (dated after them) and a late file
    (dated before them): the recorded nights stay exactly as they were sent, and a replay
    of them reads only what was dated before each night, so later days change nothing."""
    root, config_path, first = company
    config = load_config(config_path)
    as_of = LAST_DAY + timedelta(days=1)
    live_nights = [as_of - timedelta(days=i) for i in range(4, -1, -1)]
    warehouse = str(root / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        for night in live_nights:
            run_night(con, config, "ml.churn_scores", night=night)
        sent = con.execute("select * from alerts.alert_history order by night, alert_id").df()
        replayed = con.execute(
            "select * from alerts_replay.alert_history order by night, alert_id"
        ).df()
    assert "A-decline" in set(sent["account_id"])

    _deliver_events(root / "landing", as_of, as_of + timedelta(days=9), first_id=10_000_000)
    _build(root, config_path, first_signal_night(first, config["alerts"]))
    again = _replayed(root, config, first)
    with duckdb.connect(warehouse) as con:
        run_night(con, config, "ml.churn_scores")  # the new as-of night
        replayed_after = con.execute(
            "select * from alerts_replay.alert_history order by night, alert_id"
        ).df()
    assert len(again) > 0
    columns = ["night", "alert_id", "status", "severity", "types", "evidence"]
    pd.testing.assert_frame_equal(replayed[columns], replayed_after[columns])

    late = _events([live_nights[0] - timedelta(days=3)], first_id=20_000_000)
    late["account_id"] = "A-decline"
    late["user_id"] = "A-decline-U1"
    late.to_parquet(root / "landing" / "usage_events" / "usage_events_late.parquet")
    _build(root, config_path, first_signal_night(first, config["alerts"]))
    with duckdb.connect(warehouse) as con:
        now = con.execute(
            "select * from alerts.alert_history where night <= ? order by night, alert_id",
            [live_nights[-1]],
        ).df()
    pd.testing.assert_frame_equal(sent, now)


def _rebuild_calendar(root: Path, config_path: Path) -> None:
    """Only the holiday calendar and the table dbt derives from it."""
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        write_holiday_calendar(con, load_config(config_path)["alerts"]["seasonality"])
    command = [
        str(Path(sys.executable).with_name("dbt")), "run", "--select",
        "int_country_activity_days_listed", "--target-path", str(root / "dbt_target"),
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(root / "warehouse.duckdb")}
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_without_the_calendar_and_the_grace_period_the_traps_would_alert(company):
    """The same nights judged naively (no holiday calendar, no grace period): the break
    alerts every account and the vacation alerts the vacationer. Runs last: it changes
    the module's warehouse."""
    root, _, first = company
    (root / "naive").mkdir(exist_ok=True)
    naive_path = _scenario_config(
        root / "naive", seasonality={"public_holidays": False, "ranges": []}
    )
    naive = load_config(naive_path)
    for rule in naive["alerts"]["rules"].values():
        rule["grace_days"] = 0
    _rebuild_calendar(root, naive_path)
    opened = _replayed(root, naive, first)
    during_break = opened[pd.to_datetime(opened["night"]).dt.month.isin([12, 1])]
    assert "A-steady" in set(during_break["account_id"])
    vacation_nights = opened[
        pd.to_datetime(opened["night"]).dt.date.between(
            VACATION[0], VACATION[1] + timedelta(days=7)
        )
    ]
    assert "A-vacation" in set(vacation_nights["account_id"])
