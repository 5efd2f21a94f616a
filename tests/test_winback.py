"""Crafted churned and inactive accounts through the real loader and a real dbt build of
the win-back marts (and the models they read): segments, exclusions, offers by reason,
the 30/60/90-day cadence and its stop, the touches due tonight, and reactivations.

The as-of date AS_OF is the day after the newest usage event (A-steady logs in daily).
"W-" accounts churned (their only, or newest, spell ended AGO days before AS_OF), "I-"
accounts pay but went quiet, "A-" accounts are no candidates. "heavy" usage is a login,
a delivered project and four core features every day the account is subscribed; "light"
is one bare login every tenth day, none in the last 60 days before the churn.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DBT_DIR

from ingest import SOURCES, IngestRules, load_new_files
from pipeline_config import dbt_vars, load_config, warehouse_settings
from reports.winback import WINBACK_COLUMNS, read_winback, touches_tonight

AS_OF = date(2026, 4, 1)
LAST_DAY = AS_OF - timedelta(days=1)
FIRST_DAY = AS_OF - timedelta(days=720)  # the usage export's first day


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


@dataclass(frozen=True)
class Crafted:
    account_id: str
    spells: tuple[tuple[int, int | None, float], ...]  # (start, end or None: days ago, mrr)
    reason: str | None = None  # cancellation reason of the newest ended spell's end
    churn_type: str = "voluntary"
    usage: str = "heavy"  # heavy | light
    quiet_for: int = 0  # days without a login before AS_OF while subscribed
    segment: str = "Mid-Market"
    term: str = "monthly"
    do_not_contact: bool = False


ACCOUNTS = (
    Crafted("W-price-30", ((700, 30, 1000.0),), "price"),
    Crafted("W-tech-61", ((500, 61, 300.0),), "technical_problems"),
    Crafted("W-comp-63", ((500, 63, 300.0),), "competitor"),
    Crafted("W-pay-90", ((400, 90, 200.0),), "payment_failure", churn_type="involuntary"),
    Crafted("W-old-95", ((500, 95, 300.0),), "price"),
    Crafted("W-ancient", ((800, 400, 400.0),), "complexity", segment="Enterprise"),
    Crafted("W-back", ((600, 100, 400.0), (40, None, 700.0)), "complexity", segment="Enterprise"),
    Crafted("W-short", ((80, 20, 300.0),), "price"),
    Crafted("W-annual", ((400, 35, 300.0),), "price", term="annual"),
    Crafted("W-dnc", ((500, 30, 500.0),), "price", do_not_contact=True),
    Crafted("W-feat-wait", ((500, 45, 500.0),), "missing_features"),
    Crafted("W-feat-ok", ((500, 50, 500.0),), "missing_integration"),
    Crafted("W-small", ((400, 15, 50.0),), None, usage="light"),  # no cancellation
    Crafted("I-quiet-60", ((500, None, 500.0),), quiet_for=60),
    Crafted("I-quiet-46", ((500, None, 500.0),), quiet_for=46),
    Crafted("A-steady", ((700, None, 500.0),)),
    Crafted("A-free", ((500, None, 0.0),), quiet_for=100),  # not paying: never a candidate
)
BY_ID = {a.account_id: a for a in ACCOUNTS}
UPDATES = [
    {"name": "Gantt charts", "shipped_on": str(ago(60)), "reasons": ["missing_features"]},
    {"name": "Salesforce sync", "shipped_on": str(ago(10)), "reasons": ["missing_integration"]},
]
LATER_UPDATE = {"name": "Timeline view", "shipped_on": str(ago(5)), "reasons": ["missing_features"]}
CORE = ("projects", "workflows", "reports", "integrations")


def _usage_days(account: Crafted) -> list[date]:
    days = []
    for start, end, _ in account.spells:
        first = max(ago(start), FIRST_DAY)
        last = ago(end) - timedelta(days=1) if end is not None else LAST_DAY
        if end is None and account.quiet_for:
            last = ago(account.quiet_for)  # the last login
        days += [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if account.usage == "light":
        fading = ago(account.spells[-1][1] + 60)
        days = [d for d in days if d.toordinal() % 10 == 0 and d < fading]
    return days


def _events() -> pd.DataFrame:
    rows = []
    for account in ACCOUNTS:
        user = f"{account.account_id}-U0"
        for day in _usage_days(account):
            at = pd.Timestamp(day) + timedelta(hours=10)
            rows.append((account.account_id, "session_started", at, user, 1800.0, None))
            if account.usage == "heavy":
                rows.append((account.account_id, "project_delivered", at, user, None, None))
                rows += [
                    (account.account_id, f"{f}_used", at + timedelta(minutes=i + 1), user, None, f)
                    for i, f in enumerate(CORE)
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
    frame.insert(0, "event_id", np.arange(1, len(frame) + 1))
    frame["occurred_at"] = frame["occurred_at"].dt.tz_localize("UTC")
    return frame


def _write_landing(landing: Path) -> None:
    accounts = pd.DataFrame(
        [
            {
                "account_id": a.account_id,
                "company_name": f"{a.account_id} Ltd",
                "segment": a.segment,
                "plan": "Pro",
                "contract_term": a.term,
                "mrr": a.spells[-1][2],
                "signup_date": ago(a.spells[0][0]),
                "csm_owner": "Ana Ruiz",
                "seats": 1,
                "contact_name": "Sam Lee",
                "contact_email": "sam.lee@example.com",
                "country": "GB",
                "snapshot_date": LAST_DAY,
                "do_not_contact": a.do_not_contact,
            }
            for a in ACCOUNTS
        ]
    )
    subscriptions = pd.DataFrame(
        [
            {
                "subscription_id": f"S-{a.account_id}-{i}",
                "account_id": a.account_id,
                "mrr": mrr,
                "start_date": ago(start),
                "end_date": ago(end) if end is not None else None,
                "plan": "Pro",
                "contract_term": a.term,
                "seats": 1,
            }
            for a in ACCOUNTS
            for i, (start, end, mrr) in enumerate(a.spells)
        ]
    )
    cancellations = pd.DataFrame(
        [
            {
                "cancellation_id": f"C-{a.account_id}",
                "account_id": a.account_id,
                "effective_date": ago(end),
                "requested_at": pd.Timestamp(ago(end + 14)),
                "reason": a.reason,
                "churn_type": a.churn_type,
            }
            for a in ACCOUNTS
            if a.reason
            for _, end, _ in a.spells
            if end is not None
        ]
    )
    # an outreach sent on I-quiet-46's touch day (45 days after its last login)
    outreach = pd.DataFrame(
        [{"outreach_id": "O-1", "account_id": "I-quiet-46", "sent_at": pd.Timestamp(ago(1))}]
    )
    for name, frame in (
        ("accounts", accounts),
        ("subscriptions", subscriptions),
        ("cancellations", cancellations),
        ("outreach_outcomes", outreach),
    ):
        (landing / name).mkdir(parents=True, exist_ok=True)
        frame.to_csv(landing / name / f"{name}_{LAST_DAY}.csv", index=False)
    (landing / "usage_events").mkdir(parents=True, exist_ok=True)
    _events().to_parquet(landing / "usage_events" / f"usage_events_{LAST_DAY}.parquet")


def _config(path: Path, updates: list[dict]) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "ingest": {"reference_date": str(AS_OF)},
                "alerts": {"seasonality": {"public_holidays": False}},
                "winback": {"product_updates": updates},
            }
        )
    )
    return path


def _dbt_build(warehouse: Path, config_path: Path, target: Path, select: str) -> None:
    command = [
        str(Path(sys.executable).with_name("dbt")), "build", "--select", select,
        "--indirect-selection", "empty",  # only the tests selected: the win-back models' own
        "--vars", json.dumps(dbt_vars(load_config(config_path))), "--target-path", str(target),
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(warehouse)}
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("winback")
    _write_landing(root / "landing")
    config_path = _config(root / "pipeline.yaml", UPDATES)
    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), config=warehouse_settings()) as con:
        rules = IngestRules.from_config(load_config(config_path)["ingest"])
        for contract in SOURCES.values():
            load_new_files(con, contract, str(root / "landing"), rules)
    models = "+fct_winback_candidates +fct_winback_reactivations path:models/marts/winback"
    _dbt_build(warehouse, config_path, root / "target", models)
    return warehouse


@pytest.fixture(scope="module")
def candidates(built) -> pd.DataFrame:
    """The list as read_winback returns it, indexed by account (the column stays)."""
    with duckdb.connect(str(built), read_only=True) as con:
        return read_winback(con).set_index("account_id", drop=False)


@pytest.fixture(scope="module")
def mart(built) -> pd.DataFrame:
    """Every column of the candidates mart."""
    with duckdb.connect(str(built), read_only=True) as con:
        return con.execute("select * from marts.fct_winback_candidates").df()


def _months_billed(start: date, end: date) -> int:
    """Monthly anniversaries of ``start`` before ``end`` (the start day included)."""
    return sum(
        1 for k in range(0, 600) if (pd.Timestamp(start) + pd.DateOffset(months=k)).date() < end
    )


def test_the_list_holds_churned_inactive_and_recently_returned_accounts_only(candidates):
    assert list(candidates.columns) == WINBACK_COLUMNS
    assert "contact_email" not in candidates.columns
    assert set(candidates.index) == {a for a in BY_ID if not a.startswith("A-")}
    kinds = candidates["candidate_kind"]
    assert set(kinds[kinds.eq("inactive")].index) == {"I-quiet-60", "I-quiet-46"}
    assert candidates.loc["I-quiet-60", "days_since_churn"] == 60
    assert candidates.loc["I-quiet-60", "last_login_on"] == pd.Timestamp(ago(60))
    assert candidates.loc["W-tech-61", "days_since_churn"] == 61
    assert candidates.loc["W-tech-61", "churned_on"] == pd.Timestamp(ago(61))
    assert (candidates["as_of_date"] == pd.Timestamp(AS_OF)).all()


def test_recency_buckets(candidates):
    expected = {
        "W-small": "0-30", "W-price-30": "0-30", "W-tech-61": "31-90", "W-pay-90": "31-90",
        "W-old-95": "91-180", "W-ancient": "180+", "I-quiet-60": "31-90",
    }  # fmt: skip
    assert candidates.loc[list(expected), "recency_bucket"].to_dict() == expected
    assert bool(candidates.loc["W-small", "is_provisional"])  # within the 30-day re-sign gap


def test_lifetime_value_is_the_mrr_billed_over_every_spell(candidates):
    tech = _months_billed(ago(500), ago(61))
    assert candidates.loc["W-tech-61", "billed_months"] == tech
    assert candidates.loc["W-tech-61", "lifetime_value"] == pytest.approx(300.0 * tech)
    first, second = _months_billed(ago(600), ago(100)), _months_billed(ago(40), AS_OF)
    assert candidates.loc["W-back", "lifetime_value"] == pytest.approx(
        400.0 * first + 700.0 * second
    )
    assert candidates.loc["W-back", "tenure_days"] == 500 + 40
    # an annual contract that ended at its first renewal billed one period (12 months)
    assert candidates.loc["W-annual", "billed_periods"] == 1
    assert candidates.loc["W-annual", "billed_months"] == 12


def test_value_tiers_follow_the_configured_thresholds(candidates):
    tiers = candidates.loc[["W-price-30", "W-tech-61", "W-small"], "value_tier"].to_dict()
    assert tiers == {"W-price-30": "high", "W-tech-61": "medium", "W-small": "low"}
    tiers = load_config()["winback"]["value_tiers"]
    value, mrr = candidates["lifetime_value"], candidates["last_mrr"]
    expected = np.select(
        [
            (value >= tiers["high"]) | (mrr >= tiers["high_mrr"]),
            (value >= tiers["medium"]) | (mrr >= tiers["medium_mrr"]),
        ],
        ["high", "medium"],
        "low",
    )
    assert (candidates["value_tier"].to_numpy() == expected).all()


def test_engagement_tiers_come_from_the_health_before_churn(candidates, mart):
    assert candidates.loc["W-price-30", "engagement_tier"] == "high"
    assert candidates.loc["W-small", "engagement_tier"] == "low"
    bands = load_config()["health"]["bands"]
    score = candidates["health_before_churn"]
    expected = np.select(
        [score >= bands["green"], score >= bands["yellow"], score.notna()],
        ["high", "medium", "low"],
        "unknown",
    )
    assert (candidates["engagement_tier"].to_numpy() == expected).all()
    churned = mart[mart["candidate_kind"].eq("churned")]
    assert churned["health_observed_on"].notna().all()
    assert (churned["health_observed_on"] <= churned["churned_on"]).all()
    inactive = mart[mart["candidate_kind"].eq("inactive")]
    assert (inactive["health_observed_on"] < pd.Timestamp(AS_OF)).all()


def test_each_exclusion_names_its_reason(candidates):
    reasons = candidates.set_index("account_id")["excluded_reason"]
    assert reasons["W-short"] == "poor_investment: tenure under 90 days"
    assert reasons["W-annual"].startswith("poor_investment: no continuing relationship")
    assert reasons["W-dnc"] == "do_not_contact"
    assert reasons["W-back"] == "already_back"
    assert candidates.loc["W-back", "returned_on"] == pd.Timestamp(ago(40))
    assert reasons["W-old-95"] == "past_last_touch"
    assert reasons["W-ancient"] == "past_last_touch"
    assert reasons["W-feat-wait"] == "waiting_for_product_update"
    eligible = {"W-price-30", "W-tech-61", "W-comp-63", "W-pay-90", "W-feat-ok", "W-small",
                "I-quiet-60", "I-quiet-46"}  # fmt: skip
    assert set(reasons[reasons.isna()].index) == eligible
    assert set(candidates.index[candidates["is_eligible"]]) == eligible


def test_the_offer_follows_the_churn_reason(candidates):
    offers = candidates["offer_key"].to_dict()
    assert offers["W-price-30"] == "flexible_plan"
    assert offers["W-tech-61"] == "show_improvements"
    assert offers["W-comp-63"] == "value_review"
    assert offers["W-pay-90"] == "payment_update"
    assert offers["W-small"] == "personal_note"  # no stated reason: the default offer
    assert offers["I-quiet-60"] == "re_engagement"
    assert candidates.loc["W-small", "churn_reason"] == "unknown"
    assert candidates.loc["W-pay-90", "churn_type"] == "involuntary"
    # missing integration: the update shipped after the churn, so it is offered by name
    assert offers["W-feat-ok"] == "product_update"
    assert "Salesforce sync" in candidates.loc["W-feat-ok", "offer"]
    # missing features: the only update shipped before the churn, so the offer waits
    assert offers["W-feat-wait"] == "product_update"
    assert not candidates.loc["W-feat-wait", "is_eligible"]


def test_a_product_update_shipped_after_the_churn_releases_the_waiting_offer(built, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(built, warehouse)
    config_path = _config(tmp_path / "pipeline.yaml", [*UPDATES, LATER_UPDATE])
    _dbt_build(warehouse, config_path, tmp_path / "target", "path:models/marts/winback")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = read_winback(con).set_index("account_id")
    waiting = frame.loc["W-feat-wait"]
    assert waiting["is_eligible"]
    assert pd.isna(waiting["excluded_reason"])
    assert "Timeline view" in waiting["offer"]
    assert waiting["next_touch_day"] == 60


def test_touches_fall_30_60_90_days_after_churn_and_a_missed_night_is_caught_up(candidates):
    due = candidates["touch_due_tonight"]
    assert due["W-price-30"] == 30  # the 30th day is tonight
    assert candidates.loc["W-price-30", "touch_due_on"] == pd.Timestamp(AS_OF)
    assert due["W-tech-61"] == 60  # reached last night: still due (touch_window_days = 3)
    assert candidates.loc["W-tech-61", "touch_due_on"] == pd.Timestamp(ago(1))
    assert pd.isna(due["W-comp-63"])  # day 63: the day-60 window has passed
    assert candidates.loc["W-comp-63", "next_touch_day"] == 90
    assert due["W-pay-90"] == 90
    assert pd.isna(due["W-small"]) and candidates.loc["W-small", "next_touch_day"] == 30
    assert due["I-quiet-60"] == 60  # inactive: touches on days 45, 60, 90 after the last login
    # I-quiet-46 reached its day-45 touch yesterday, but an outreach was sent that day
    assert pd.isna(due["I-quiet-46"]) and candidates.loc["I-quiet-46", "next_touch_day"] == 60
    assert pd.isna(due["W-dnc"])  # day 30, but opted out


def test_the_cadence_stops_after_the_last_touch(candidates):
    for account in ("W-old-95", "W-ancient"):
        row = candidates.loc[account]
        assert row["excluded_reason"] == "past_last_touch"
        assert pd.isna(row["touch_due_tonight"]) and pd.isna(row["next_touch_day"])
    assert pd.isna(candidates.loc["W-pay-90", "next_touch_day"])  # 90 was the last touch


def test_touches_tonight_are_the_eligible_rows_due_in_priority_order(candidates):
    tonight = touches_tonight(candidates.reset_index(drop=True))
    assert list(tonight["account_id"]) == list(
        candidates.loc[["W-price-30", "W-tech-61", "W-pay-90", "I-quiet-60"]].sort_values(
            "priority_rank"
        )["account_id"]
    )


def test_priority_puts_eligible_high_value_high_engagement_first(candidates):
    assert candidates["priority_rank"].tolist() == list(range(1, len(candidates) + 1))
    eligible = candidates["is_eligible"].to_numpy()
    assert eligible[: eligible.sum()].all() and not eligible[eligible.sum() :].any()
    first = candidates.iloc[0]
    assert first["account_id"] == "W-price-30"
    assert first["priority"] == "high"
    assert candidates.loc["W-small", "priority"] == "low"


def test_reactivations_are_counted_per_offer_segment_and_value_tier(built):
    with duckdb.connect(str(built), read_only=True) as con:
        table = con.execute("select * from marts.fct_winback_reactivations").df()
    complexity = table.set_index(["offer_key", "segment", "value_tier"]).loc[
        ("guided_setup", "Enterprise", "medium")
    ]
    assert complexity["churns"] == 2  # W-ancient and W-back's first spell
    assert complexity["reactivated"] == 1
    assert complexity["reactivation_rate"] == pytest.approx(0.5)
    assert complexity["median_days_to_return"] == 60
    assert complexity["returned_mrr"] == pytest.approx(700.0)
    assert complexity["reactivated_in_cadence"] == 1
    # W-small's churn is provisional (within the re-sign gap): not counted yet
    assert table["churns"].sum() == sum(
        1 for a in ACCOUNTS for _, end, _ in a.spells if end is not None and end >= 30
    )
    assert table.loc[table["offer_key"].ne("guided_setup"), "reactivated"].sum() == 0


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"window_days": 90}, "unknown key(s) ['window_days']"),  # the old section's key
        ({"touch_days": [60, 30]}, "winback.touch_days"),
        ({"touch_window_days": 20}, "winback.touch_window_days (20)"),
        ({"value_tiers": {"high": 100, "medium": 500}}, "winback.value_tiers"),
        ({"offers": {"price": {"offer_key": "Flexible Plan!", "text": "x"}}}, "offer_key"),
        (
            {"product_updates": [{"name": "x", "shipped_on": "2026-01-01", "reasons": ["price"]}]},
            "['price'] wait for no product update",
        ),
    ],
)
def test_a_bad_winback_section_stops_the_config_from_loading(tmp_path, section, named):
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"winback": section}))
    with pytest.raises(ValueError, match="invalid winback configuration") as raised:
        load_config(path)
    assert named in str(raised.value)


def test_product_update_dates_reach_dbt_as_text(tmp_path):
    path = tmp_path / "pipeline.yaml"  # an unquoted date: YAML reads a datetime.date
    path.write_text(
        "winback:\n  product_updates:\n"
        "    - {name: Sync, shipped_on: 2026-03-01, reasons: [missing_integration]}\n"
    )
    sent = json.loads(json.dumps(dbt_vars(load_config(path))))
    assert sent["winback"]["product_updates"][0]["shipped_on"] == "2026-03-01"
