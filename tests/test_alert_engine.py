"""The alerts engine over several nights on crafted accounts, in a real DuckDB file: grace
periods, severity, one alert per account across nights, idempotent re-runs, the budget,
feedback and cooldowns, stale sources and the control group."""

from __future__ import annotations

import copy
from datetime import timedelta

import duckdb
import pandas as pd
import pytest
from crafted_signals import FIRST_NIGHT, frame, nights, signal_row, write_engine_inputs

from alerts.account_value import contact_cost_arr
from alerts.engine import replay, run_night
from alerts.lifecycle import in_holdout
from pipeline_config.loader import DEFAULTS_PATH, load_config

DECLINING = {"seasonal_logins_change_30v90": -0.5, "seasonal_logins_change_7v90": -0.6}
# a pattern the model confirms: usage falling while the churn probability is medium
CONFIRMED = {**DECLINING, "churn_probability": 0.2}


def _config(**alerts_changes) -> dict:
    config = copy.deepcopy(load_config(DEFAULTS_PATH))
    config["alerts"]["holdout"]["share"] = 0.0
    for path, value in alerts_changes.items():
        section = config["alerts"]
        *parents, leaf = path.split("__")
        for part in parents:
            section = section[part]
        section[leaf] = value
    return config


@pytest.fixture()
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    yield connection
    connection.close()


def _history(con, night=None) -> pd.DataFrame:
    where = f"where night = '{night}'" if night else ""
    return con.execute(f"select * from alerts.alert_history {where} order by night, alert_id").df()


def _run(con, config, count, rows_for, first=FIRST_NIGHT, **inputs):
    """Write crafted signals for ``count`` nights (and the lookback before them), then run
    each night as the nightly job would."""
    start = first - timedelta(days=config["alerts"]["lookback_nights"] - 1)
    all_nights = nights(start, (first - start).days + count)
    scores = write_engine_inputs(con, frame([r for n in all_nights for r in rows_for(n)]), **inputs)
    return [run_night(con, config, scores, night=n) for n in all_nights[-count:]]


def test_a_decline_alerts_only_once_it_has_lasted_the_grace_period(con):
    config = _config()
    grace = config["alerts"]["rules"]["usage_trend"]["grace_days"]
    decline_starts = FIRST_NIGHT + timedelta(days=3)

    def rows(night):
        return [signal_row("A1", night, **(CONFIRMED if night >= decline_starts else {}))]

    _run(con, config, 3 + grace + 1, rows)
    history = _history(con)
    opened = history[history["status"].eq("new")]
    assert list(opened["night"].dt.date) == [decline_starts + timedelta(days=grace - 1)]
    assert "usage_trend" in opened["types"].iloc[0]


def test_one_alert_per_account_is_updated_across_nights_and_a_rerun_changes_nothing(con):
    config = _config()

    def rows(night):
        return [signal_row("A1", night, **CONFIRMED), signal_row("A2", night)]

    _run(con, config, 2, rows)
    history = _history(con)
    assert history["alert_id"].nunique() == 1 and list(history["status"]) == ["new", "open"]
    second = FIRST_NIGHT + timedelta(days=1)
    before = _history(con, second)
    run_night(con, config, "ml.churn_scores", night=second)  # the same night again
    after = _history(con, second)
    pd.testing.assert_frame_equal(
        before.drop(columns="sla_due_at"), after.drop(columns="sla_due_at")
    )
    with pytest.raises(ValueError, match="older than the newest processed night"):
        run_night(con, config, "ml.churn_scores", night=FIRST_NIGHT)


def test_severity_depends_on_the_confirmation_and_the_account(con):
    config = _config()

    def rows(night):
        return [
            # one pattern, nothing confirming it: a single metric dipping
            signal_row("A-alone", night, **DECLINING),
            # the same pattern, confirmed by the model
            signal_row("A-confirmed", night, **CONFIRMED),
            # confirmed, on a small account
            signal_row("A-small", night, **CONFIRMED, arr=3000.0),
            # confirmed, on a high-value account near its annual renewal: several factors
            signal_row("A-big", night, **CONFIRMED, arr=80000.0, contract_term="annual",
                       days_to_renewal=40),
            # a high-value account with a single pattern is not critical
            signal_row("A-big-alone", night, **DECLINING, arr=80000.0),
        ]  # fmt: skip

    _run(con, config, 1, rows)
    severity = _history(con).set_index("account_id")["severity"]
    assert severity["A-alone"] == "medium"
    assert severity["A-confirmed"] == "high"
    assert severity["A-small"] == "medium"
    assert severity["A-big"] == "critical"
    assert severity["A-big-alone"] == "high"


def test_an_open_ticket_demotes_usage_alerts(con):
    config = _config()
    _run(con, config, 1, lambda n: [signal_row("A1", n, **CONFIRMED, open_tickets=1)])
    assert _history(con)["severity"].iloc[0] == "medium"


def test_alerts_over_a_csms_budget_wait_and_go_first_the_next_night(con):
    config = _config(budget__per_csm_per_day=1)

    def rows(night):
        # three confirmed alerts for one CSM, revenue at risk A3 > A2 > A1; tomorrow the
        # model also flags a bigger account (no grace period for the model's risk)
        accounts = [
            signal_row(f"A{i}", night, **CONFIRMED, arr=10000.0 + 1000 * i) for i in (1, 2, 3)
        ]
        risky = night > FIRST_NIGHT
        accounts.append(
            signal_row("A4", night, arr=40000.0, churn_probability=0.35 if risky else 0.02)
        )
        return accounts

    _run(con, config, 3, rows)
    nights_ = [_history(con, FIRST_NIGHT + timedelta(days=i)) for i in range(3)]

    def delivered(history):
        return sorted(history.loc[history["is_delivered_tonight"], "account_id"])

    assert delivered(nights_[0]) == ["A3"]
    assert sorted(nights_[0].loc[nights_[0]["is_deferred_tonight"], "account_id"]) == ["A1", "A2"]
    # yesterday's deferred alerts go first (the bigger one), ahead of tonight's bigger A4
    assert delivered(nights_[1]) == ["A2"]
    assert delivered(nights_[2]) == ["A1"]
    assert nights_[2].set_index("account_id").loc["A1", "deferred_nights"] == 2
    # nothing is lost: every alert is still open, A4 waiting its turn
    assert nights_[2]["status"].isin(["new", "open"]).all() and len(nights_[2]) == 4
    assert nights_[2].set_index("account_id").loc["A4", "is_deferred_tonight"]


def test_a_critical_alert_is_delivered_over_the_budget(con):
    config = _config(budget__per_csm_per_day=1)
    big = {"arr": 80000.0, "contract_term": "annual", "days_to_renewal": 40}
    _run(con, config, 1, lambda n: [signal_row(f"A{i}", n, **CONFIRMED, **big) for i in (1, 2)])
    history = _history(con)
    assert set(history["severity"]) == {"critical"}
    assert history["is_delivered_tonight"].all() and history["is_over_budget"].sum() == 1


def test_a_dismissal_closes_the_alert_and_its_types_cool_down(con):
    config = _config(lifecycle__cooldown_days__dismissed=3)
    alert_id = f"AL-A1-{FIRST_NIGHT:%Y%m%d}"
    feedback = pd.DataFrame(
        [{"feedback_id": "F1", "alert_id": alert_id, "account_id": "A1", "action": "dismissed",
          "reason_code": "expected_seasonal_dip", "comment": "team offsite",
          "submitted_at": pd.Timestamp(FIRST_NIGHT) + timedelta(hours=10), "_source_file": "f.csv"}]
    )  # fmt: skip
    _run(con, config, 6, lambda n: [signal_row("A1", n, **CONFIRMED)], feedback=feedback)
    history = _history(con)
    statuses = history.groupby("alert_id")["status"].agg(list).to_dict()
    assert statuses[alert_id] == ["new", "dismissed"]
    assert history.loc[history["status"].eq("dismissed"), "dismissal_reason"].item() == (
        "expected_seasonal_dip"
    )
    # still firing: it re-opens only once the cooldown (3 days from the dismissal) is over
    reopened = history[history["status"].eq("new") & history["alert_id"].ne(alert_id)]
    assert list(reopened["night"].dt.date) == [FIRST_NIGHT + timedelta(days=4)]


def test_a_dismissal_without_a_configured_reason_stops_the_night(con):
    config = _config()
    feedback = pd.DataFrame(
        [{"feedback_id": "F9", "alert_id": "AL-A1-20260901", "account_id": "A1",
          "action": "dismissed", "reason_code": "meh", "comment": None,
          "submitted_at": pd.Timestamp(FIRST_NIGHT), "_source_file": "feedback_0901.csv"}]
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"1 dismissal.*reason code"):
        _run(con, config, 1, lambda n: [signal_row("A1", n)], feedback=feedback)


def test_a_stale_source_silences_the_rules_that_read_it_and_says_so(con):
    config = _config()
    rows = lambda n: [signal_row("A1", n, **CONFIRMED, tickets_recent=4)]  # noqa: E731
    stale = {n: ["usage_events"] for n in nights(FIRST_NIGHT - timedelta(days=30), 40)}
    _run(con, config, 1, rows, stale=stale)
    history = _history(con)
    assert "usage_trend" not in history["types"].iloc[0]
    assert "support_burst" in history["types"].iloc[0]  # support data is fresh
    hits = con.execute("select rule, silenced_by from alerts.rule_hits").df()
    assert hits.loc[hits["rule"].eq("usage_trend"), "silenced_by"].item() == "usage_events"
    status = con.execute("select source_name from alerts.source_status where is_stale").df()
    assert list(status["source_name"]) == ["usage_events"]


def test_an_alert_expires_when_its_account_is_no_longer_observed(con):
    config = _config()

    def rows(night):
        # A1 leaves (no longer in a subscription) after the first night
        gone = night > FIRST_NIGHT
        return [signal_row("A2", night)] + ([] if gone else [signal_row("A1", night, **CONFIRMED)])

    _run(con, config, 2, rows)
    closed = _history(con, FIRST_NIGHT + timedelta(days=1))
    assert list(closed["status"]) == ["expired"]


def test_the_control_group_is_a_stable_share_of_accounts_kept_off_the_lists(con):
    members = [f"A{i:05d}" for i in range(4000)]
    share = sum(in_holdout(a, 0.1, "holdout-1") for a in members) / len(members)
    assert 0.08 < share < 0.12
    assert [in_holdout(a, 0.1, "holdout-1") for a in members[:50]] == [
        in_holdout(a, 0.1, "holdout-1") for a in members[:50]
    ]
    held = next(a for a in members if in_holdout(a, 0.1, "holdout-1"))
    config = _config(holdout__share=0.1)
    _run(con, config, 2, lambda n: [signal_row(held, n, **CONFIRMED)])
    history = _history(con)
    assert history["is_holdout"].all() and not history["is_delivered_tonight"].any()
    assert not history["is_deferred_tonight"].any()


def test_a_replay_equals_the_nights_run_one_by_one(con):
    config = _config()

    def rows(night):
        late = night >= FIRST_NIGHT + timedelta(days=2)
        return [signal_row("A1", night, **(CONFIRMED if late else {})),
                signal_row("A2", night, **CONFIRMED)]  # fmt: skip

    _run(con, config, 5, rows)
    replay(con, FIRST_NIGHT, FIRST_NIGHT + timedelta(days=4), config, "ml.churn_scores")
    columns = ["night", "alert_id", "status", "severity", "types", "is_delivered_tonight"]
    live = _history(con)[columns]
    replayed = con.execute(
        "select * from alerts_replay.alert_history order by night, alert_id"
    ).df()[columns]
    pd.testing.assert_frame_equal(live, replayed)


def test_a_small_account_gets_an_automated_sequence_instead_of_a_csm(con):
    config = _config(budget__per_csm_per_day=1)
    # a contact pays back from ARR 2,000 at the floor probability 0.3 (the confirmed pattern's
    # model says 0.2): 150 / (0.3 x 0.25 x 12/12); at a probability of 0.8 from 750
    line = contact_cost_arr(config) / config["risk_tiers"]["high"]

    def rows(night):
        return [
            signal_row("A-small", night, **CONFIRMED, arr=line * 0.9),
            signal_row("A-paying", night, **CONFIRMED, arr=line * 5),
            signal_row("A-small-risky", night, **{**CONFIRMED, "churn_probability": 0.8},
                       arr=line * 0.9),
        ]  # fmt: skip

    _run(con, config, 1, rows)
    history = _history(con).set_index("account_id")
    small, paying = history.loc["A-small"], history.loc["A-paying"]
    assert (small["touch"], paying["touch"]) == ("automated", "csm")
    assert history.loc["A-small-risky", "touch"] == "csm"  # likely lost: worth the call
    key = small["playbook_key"]
    assert small["playbook"] == config["alerts"]["touch"]["automated_playbooks"][key]
    assert paying["playbook"] == config["alerts"]["playbooks"][paying["playbook_key"]]
    # the sequence takes no CSM time: nothing delivered, deferred or due for the small one,
    # and the CSM's budget of one goes to the account worth a contact
    assert not small[["is_delivered_tonight", "is_deferred_tonight"]].any()
    assert pd.isna(small["sla_due_at"]) and paying["is_delivered_tonight"]
    assert not history.loc["A-small-risky", "is_delivered_tonight"]  # over the budget of one

    again = _config(touch__automated_below_arr=0)  # a CSM for every account
    con.execute("drop schema alerts cascade")
    _run(con, again, 1, rows)
    assert set(_history(con)["touch"]) == {"csm"}


def test_value_thresholds_can_follow_the_books_own_prices(con):
    """A consumer book (100-200 a year): fixed enterprise thresholds make every account
    "small"; auto ones rank the accounts against each other, and the tech-touch line
    follows the contact cost."""
    config = _config(severity__high_value_arr="auto", severity__low_value_arr="auto")
    config["model"]["profit"]["contact_cost"] = 10  # a short chat, not an enterprise review
    prices = {f"A{i:02d}": 100.0 + 5 * i for i in range(20)}  # 100 .. 195

    def rows(night):
        return [signal_row(a, night, **CONFIRMED, arr=arr) for a, arr in prices.items()]

    summary = _run(con, config, 1, rows)[0]
    severity = _history(con).set_index("account_id")["severity"]
    assert summary.value_thresholds == {
        "high_value_arr": pytest.approx(pd.Series(prices).quantile(0.9), abs=0.01),
        "low_value_arr": pytest.approx(pd.Series(prices).quantile(0.25), abs=0.01),
        "automated_below_arr": "auto",
        "contact_break_even_arr_at_high_risk": pytest.approx(10 / (0.25 * 0.30), abs=0.01),
    }
    # the same pattern: critical at the top of the book, high in the middle, medium below
    assert (severity["A19"], severity["A10"], severity["A00"]) == ("critical", "high", "medium")
    touch = _history(con).set_index("account_id")["touch"]
    assert touch["A06"] == "automated" and touch["A07"] == "csm"  # 133.33 is the line

    fixed = _config()
    con.execute("drop schema alerts cascade")
    _run(con, fixed, 1, rows)
    assert set(_history(con)["severity"]) == {"medium"}  # all under low_value_arr 5,000


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("severity__high_value_arr", "book", "neither 'auto' nor an amount"),
        ("touch__automated_below_arr", -1, "neither 'auto' nor an amount"),
        ("severity__value_percentiles", {"high": 20, "low": 50}, "0 <= low < high <= 100"),
        ("touch__automated_playbooks", {"renewal": "x"}, "no automated step for playbook"),
    ],
)
def test_bad_value_settings_are_refused_by_name(con, path, value, message):
    with pytest.raises(ValueError, match=message):
        _run(con, _config(**{path: value}), 1, lambda n: [signal_row("A1", n)])


def test_a_warehouse_from_before_touch_existed_gains_the_columns(con):
    """An alert table made by an earlier release: the next night adds the columns, fills
    them with what was true then (a CSM had every alert but the low ones), and the open
    alert, clear tonight, stays with its CSM."""
    config = _config()
    _run(con, config, 2, lambda n: [signal_row("A1", n, **(CONFIRMED if n <= FIRST_NIGHT else {}))])
    con.execute("delete from alerts.alert_history where night > ?", [FIRST_NIGHT])
    con.execute("delete from alerts.night_runs where night > ?", [FIRST_NIGHT])
    con.execute("alter table alerts.alert_history drop column touch")
    con.execute("alter table alerts.alert_history drop column playbook_key")
    con.execute("insert into alerts.alert_history by name select 'AL-A0-20260801' as alert_id, "
                "'A0' as account_id, date '2026-08-01' as night, 'expired' as status, "
                "'low' as severity")  # fmt: skip
    run_night(con, config, "ml.churn_scores", night=FIRST_NIGHT + timedelta(days=1))
    history = _history(con).set_index(["alert_id", "night"])["touch"]
    assert history.loc["AL-A0-20260801"].tolist() == ["automated"]
    assert history.loc[f"AL-A1-{FIRST_NIGHT:%Y%m%d}"].tolist() == ["csm", "csm"]


def test_a_csm_keeps_an_alert_it_received_when_its_value_falls(con):
    config = _config()

    def rows(night):  # the account downgrades to a tiny plan the night after delivery
        arr = 12000.0 if night <= FIRST_NIGHT else 300.0
        return [signal_row("A1", night, **CONFIRMED, arr=arr)]

    _run(con, config, 2, rows)
    first, second = _history(con).to_dict("records")
    assert first["is_delivered_tonight"] and first["touch"] == "csm"
    assert second["touch"] == "csm"
    assert second["playbook"] == config["alerts"]["playbooks"][second["playbook_key"]]


def test_contact_economics_that_can_save_nothing_are_refused(con):
    config = _config()
    config["model"]["profit"]["save_rate"] = 0
    with pytest.raises(ValueError, match=r"save_rate and months_retained, and risk_tiers\.high"):
        _run(con, config, 1, lambda n: [signal_row("A1", n, **CONFIRMED)])
