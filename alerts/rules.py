"""One rule per alert type (DOMAIN.md §3-§4): when its condition holds, and the evidence a
CSM can check (the measured value against its threshold, the cohort median or the
account's own baseline).

Rules are vectorised over a frame of ``marts.fct_account_alert_signals`` rows (one per
account per night, plus ``churn_probability`` from the scores), so the same code decides
tonight, a replay of past nights and a calibration dry run. Every number comes from the
rule's section of ``alerts.rules`` in the config (``params``) or from ``metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Params = Mapping[str, Any]


@dataclass(frozen=True)
class Evidence:
    """What a fired rule shows: a value, what it was compared with, and the sentence."""

    value: pd.Series
    threshold: pd.Series
    reference: pd.Series  # the cohort median or own baseline behind the threshold (or NaN)
    text: pd.Series


@dataclass(frozen=True)
class Rule:
    name: str
    sources: tuple[str, ...]  # the exports it reads: when one is stale, the rule is silent
    summary: str  # the plain-language phrase a reason is built from
    condition: Callable[[pd.DataFrame, Params, Params], pd.Series]
    evidence: Callable[[pd.DataFrame, Params, Params], Evidence]


def _series(value: Any, index: pd.Index) -> pd.Series:
    return pd.Series(value, index=index, dtype="float64")


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _flag(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("boolean").fillna(False).astype(bool)


def _fmt(values: pd.Series, spec: str) -> pd.Series:
    return values.map(lambda v: "n/a" if pd.isna(v) else format(v, spec))


# --- usage (team-level: the account's users together) --------------------------------


def _inactivity(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    days = _num(f, "expected_days_since_last_login")
    return (days >= p["threshold_days"]) & (_num(f, "tenure_days") >= p["threshold_days"])


def _inactivity_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    expected = _num(f, "expected_days_since_last_login")
    raw = _num(f, "days_since_last_login")
    text = (
        "no login by anyone on the account for "
        + _fmt(raw, ".0f")
        + " days ("
        + _fmt(expected, ".1f")
        + " expected activity days after holidays; alerts at "
        + str(p["threshold_days"])
        + ")"
    )
    return Evidence(expected, _series(p["threshold_days"], f.index), raw, text)


def _cohort_relative(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _num(f, "logins_vs_cohort") < p["share_of_cohort_median"]


def _cohort_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    ratio = _num(f, "logins_vs_cohort")
    median = _num(f, "cohort_median_logins_30d")
    text = (
        _fmt(_num(f, "logins_30d"), ".0f")
        + " logins in 30 days, "
        + _fmt(ratio, ".0%")
        + " of the "
        + f["segment"].astype(str)
        + " "
        + f["plan"].astype(str)
        + " median ("
        + _fmt(median, ".0f")
        + "); alerts below "
        + format(p["share_of_cohort_median"], ".0%")
    )
    return Evidence(ratio, _series(p["share_of_cohort_median"], f.index), median, text)


def _trend(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return (
        (_num(f, "seasonal_logins_change_30v90") <= p["max_change_30v90"])
        & (_num(f, "seasonal_logins_change_7v90") <= p["max_change_7v90"])
        & (_num(f, "logins_prior_90d_monthly") >= p["min_prior_logins_monthly"])
    )


def _trend_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    change = _num(f, "seasonal_logins_change_30v90")
    baseline = _num(f, "login_rate_prior_90d") * 30
    text = (
        "logins "
        + _fmt(change, "+.0%")
        + " vs its own prior-90-day rate, holiday-adjusted ("
        + _fmt(_num(f, "login_rate_30d") * 30, ".0f")
        + " vs "
        + _fmt(baseline, ".0f")
        + " per 30 expected days; last 7 days "
        + _fmt(_num(f, "seasonal_logins_change_7v90"), "+.0%")
        + "); alerts at "
        + format(p["max_change_30v90"], "+.0%")
    )
    return Evidence(change, _series(p["max_change_30v90"], f.index), baseline, text)


def _combined(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return (_num(f, "logins_vs_cohort") < p["share_of_cohort_median"]) & (
        _num(f, "seasonal_logins_change_30v90") <= p["max_change_30v90"]
    )


def _combined_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    ratio = _num(f, "logins_vs_cohort")
    text = (
        "below the cohort floor and declining: "
        + _fmt(ratio, ".0%")
        + " of the segment x plan median (floor "
        + format(p["share_of_cohort_median"], ".0%")
        + ") and "
        + _fmt(_num(f, "seasonal_logins_change_30v90"), "+.0%")
        + " vs its own prior-90-day rate (alerts at "
        + format(p["max_change_30v90"], "+.0%")
        + ")"
    )
    return Evidence(
        ratio,
        _series(p["share_of_cohort_median"], f.index),
        _num(f, "cohort_median_logins_30d"),
        text,
    )


# --- adoption, onboarding, breadth ---------------------------------------------------


def _depth_decline(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    drop = _num(f, "features_used_prior_30d") - _num(f, "features_used_30d")
    return drop >= p["min_drop"]


def _depth_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    now = _num(f, "features_used_30d")
    before = _num(f, "features_used_prior_30d")
    text = (
        "features used fell from "
        + _fmt(before, ".0f")
        + " (days 31-60) to "
        + _fmt(now, ".0f")
        + " in the last 30 days (core features used regularly: "
        + _fmt(_num(f, "core_features_regular_30d"), ".0f")
        + " of "
        + str(len(m["core_features"]))
        + "); alerts at a drop of "
        + str(p["min_drop"])
    )
    return Evidence(before - now, _series(p["min_drop"], f.index), before, text)


def _core_action_stop(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return (_num(f, "expected_days_since_last_core_action") >= p["threshold_days"]) & (
        _num(f, "core_actions_prior_90d") >= p["min_prior_core_actions"]
    )


def _core_action_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    days = _num(f, "expected_days_since_last_core_action")
    text = (
        "no core action for "
        + _fmt(_num(f, "days_since_last_core_action"), ".0f")
        + " days ("
        + _fmt(days, ".1f")
        + " expected activity days; alerts at "
        + str(p["threshold_days"])
        + "), after "
        + _fmt(_num(f, "core_actions_prior_90d"), ".0f")
        + " in the 90 days before"
    )
    return Evidence(
        days, _series(p["threshold_days"], f.index), _num(f, "core_actions_prior_90d"), text
    )


MILESTONES = ("onboarding", "first_value", "second_feature")
_MILESTONE_DAYS = {
    "onboarding": "onboarding_days",
    "first_value": "first_value_days",
    "second_feature": "second_feature_days",
}


def _onboarding(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    missed = np.zeros(len(f), dtype=bool)
    for name in MILESTONES:
        missed |= _flag(f, f"{name}_missed").to_numpy()
    return pd.Series(missed, index=f.index) & (_num(f, "tenure_days") <= p["max_tenure_days"])


def _onboarding_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    missed = pd.Series("", index=f.index)
    count = pd.Series(0.0, index=f.index)
    for name in MILESTONES:
        flag = _flag(f, f"{name}_missed")
        label = f"{name.replace('_', ' ')} by day {m['milestones'][_MILESTONE_DAYS[name]]}"
        missed = missed.where(~flag, missed + np.where(missed.eq(""), "", ", ") + label)
        count += flag
    text = (
        "missed onboarding milestone(s): "
        + missed
        + " (day "
        + _fmt(_num(f, "tenure_days"), ".0f")
        + " since signup)"
    )
    return Evidence(count, _series(1, f.index), _num(f, "tenure_days"), text)


def _single_user(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _flag(f, "is_single_user_dependent")


def _single_user_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    users = _num(f, "active_users_30d")
    text = (
        _fmt(users, ".0f")
        + " active user in 30 days on a "
        + _fmt(_num(f, "seats"), ".0f")
        + "-seat account (a team is "
        + str(m["team_min_seats"])
        + "+ seats)"
    )
    return Evidence(users, _series(1, f.index), _num(f, "seats"), text)


def _silent_churn(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _flag(f, "is_silent_churn")


def _silent_churn_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    quarters = m["silent_churn_quarters"]
    text = pd.Series(
        f"paying, no expansion and shrinking feature depth for {quarters} quarters", index=f.index
    )
    return Evidence(_num(f, "features_used_30d"), _series(quarters, f.index), _num(f, "mrr"), text)


# --- support, sentiment, billing, renewal, health, model ------------------------------


def _burst(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _num(f, "tickets_recent") >= m["support"]["burst_tickets"]


def _burst_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    support = m["support"]
    tickets = _num(f, "tickets_recent")
    text = (
        _fmt(tickets, ".0f")
        + f" tickets in the last {support['burst_window_days']} days "
        + f"(a burst is {support['burst_tickets']})"
    )
    return Evidence(
        tickets, _series(support["burst_tickets"], f.index), _num(f, "tickets_30d"), text
    )


def _stale_ticket(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _num(f, "stale_open_tickets") > 0


def _stale_ticket_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    stale = _num(f, "stale_open_tickets")
    text = (
        _fmt(stale, ".0f")
        + f" ticket(s) open longer than {m['support']['stale_ticket_days']} days ("
        + _fmt(_num(f, "open_tickets"), ".0f")
        + " open)"
    )
    return Evidence(stale, _series(1, f.index), _num(f, "open_tickets"), text)


def _detractor(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return (_num(f, "nps_latest_score") <= p["max_score"]) & (
        _num(f, "days_since_nps") <= p["max_days_since_answer"]
    )


def _detractor_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    score = _num(f, "nps_latest_score")
    text = (
        "NPS "
        + _fmt(score, ".0f")
        + " answered "
        + _fmt(_num(f, "days_since_nps"), ".0f")
        + f" days ago (detractor: {p['max_score']} or less)"
    )
    return Evidence(score, _series(p["max_score"], f.index), _num(f, "days_since_nps"), text)


def _days_since_failure(f: pd.DataFrame) -> pd.Series:
    night = pd.to_datetime(f["night"])
    failed = pd.to_datetime(f["last_failed_payment_at"]).dt.tz_localize(None)
    return (night - failed.dt.floor("D")).dt.days.astype("float64")


def _payment(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _flag(f, "has_unresolved_payment_failure") & (
        _days_since_failure(f) <= p["max_days_since_failure"]
    )


def _payment_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    days = _days_since_failure(f)
    text = (
        "payment failed "
        + _fmt(days, ".0f")
        + " days ago and has not been paid since ("
        + _fmt(_num(f, "failed_payments"), ".0f")
        + f" failed in {m['payment_lookback_days']} days)"
    )
    return Evidence(
        days, _series(p["max_days_since_failure"], f.index), _num(f, "failed_payments"), text
    )


def renewal_due(f: pd.DataFrame, p: Params) -> pd.Series:
    """A renewal that is a decision point is near (the rule then needs another factor)."""
    return (
        f["contract_term"].isin(p["contract_terms"])
        & (_num(f, "days_to_renewal") <= p["within_days"])
        & (_num(f, "arr") >= p["min_arr"])
    )


def _renewal(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return renewal_due(f, p)


def _renewal_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    days = _num(f, "days_to_renewal")
    text = (
        f["contract_term"].astype(str)
        + " renewal in "
        + _fmt(days, ".0f")
        + " days, ARR "
        + _fmt(_num(f, "arr"), ",.0f")
        + ", with other risk signals"
    )
    return Evidence(days, _series(p["within_days"], f.index), _num(f, "arr"), text)


def _health(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _num(f, "health_score") < p["below"]


def _health_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    score = _num(f, "health_score")
    text = "health score " + _fmt(score, ".0f") + f" (follow-up below {p['below']})"
    return Evidence(score, _series(p["below"], f.index), _series(np.nan, f.index), text)


def _model(f: pd.DataFrame, p: Params, m: Params) -> pd.Series:
    return _num(f, "churn_probability") >= p["min_probability"]


def _model_evidence(f: pd.DataFrame, p: Params, m: Params) -> Evidence:
    probability = _num(f, "churn_probability")
    text = (
        "model churn probability "
        + _fmt(probability, ".0%")
        + f" (alerts at {p['min_probability']:.0%})"
    )
    if "model_reasons" in f:
        reasons = f["model_reasons"].fillna("").astype(str)
        text = text + np.where(reasons.ne(""), ": " + reasons, "")
    return Evidence(
        probability, _series(p["min_probability"], f.index), _series(np.nan, f.index), text
    )


USAGE = ("usage_events",)
RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("inactivity", USAGE, "nobody has logged in for weeks", _inactivity, _inactivity_evidence),
        Rule("cohort_relative", (*USAGE, "subscriptions"), "usage is well below similar accounts",
             _cohort_relative, _cohort_evidence),
        Rule("usage_trend", USAGE, "usage is falling against its own baseline", _trend, _trend_evidence),
        Rule("combined", (*USAGE, "subscriptions"), "usage is low for its cohort and falling",
             _combined, _combined_evidence),
        Rule("feature_depth_decline", USAGE, "it uses fewer features than a month ago",
             _depth_decline, _depth_evidence),
        Rule("core_action_stop", USAGE, "it stopped completing core actions",
             _core_action_stop, _core_action_evidence),
        Rule("onboarding_missed", USAGE, "onboarding milestones were missed",
             _onboarding, _onboarding_evidence),
        Rule("single_user_dependency", (*USAGE, "subscriptions"), "one person carries a team account",
             _single_user, _single_user_evidence),
        Rule("silent_churn", (*USAGE, "subscriptions"), "it has been flat and narrowing for quarters",
             _silent_churn, _silent_churn_evidence),
        Rule("support_burst", ("support_tickets",), "support tickets are piling up", _burst, _burst_evidence),
        Rule("stale_ticket", ("support_tickets",), "a support ticket has waited too long",
             _stale_ticket, _stale_ticket_evidence),
        Rule("nps_detractor", ("nps_responses",), "a recent NPS answer was a detractor",
             _detractor, _detractor_evidence),
        Rule("payment_failure", ("payments",), "a payment failed", _payment, _payment_evidence),
        Rule("renewal_risk", ("subscriptions",), "a renewal is near", _renewal, _renewal_evidence),
        Rule("health_below", USAGE, "its health score is low", _health, _health_evidence),
        Rule("model_risk", (), "the model rates its churn risk high", _model, _model_evidence),
    )
}  # fmt: skip
# renewal_risk fires only beside another rule: it is decided after the others
NEEDS_OTHER_RULES = frozenset({"renewal_risk"})
