"""Every alert rule on crafted accounts, firing and not firing at the edges of its
configured thresholds (the defaults in pipeline_config/defaults.yaml), with evidence a
CSM can check."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from crafted_signals import FIRST_NIGHT, frame, signal_row

from alerts.conditions import evaluate_conditions
from alerts.rules import RULES
from pipeline_config.loader import DEFAULTS_PATH, load_config

CONFIG = load_config(DEFAULTS_PATH)
FAILED_14_DAYS_AGO = pd.Timestamp(FIRST_NIGHT) - timedelta(days=14) + timedelta(hours=9)
FAILED_15_DAYS_AGO = FAILED_14_DAYS_AGO - timedelta(days=1)

# rule -> (changes that just fire it, [changes that just do not])
CASES = {
    "inactivity": (
        {"expected_days_since_last_login": 14.0, "days_since_last_login": 17},
        [{"expected_days_since_last_login": 13.9, "days_since_last_login": 17},
         {"expected_days_since_last_login": 14.0, "tenure_days": 13}],  # too new to be quiet
    ),
    "cohort_relative": ({"logins_vs_cohort": 0.59}, [{"logins_vs_cohort": 0.6}]),
    "usage_trend": (
        {"seasonal_logins_change_30v90": -0.3, "seasonal_logins_change_7v90": -0.3,
         "logins_prior_90d_monthly": 4.0},
        [{"seasonal_logins_change_30v90": -0.29, "seasonal_logins_change_7v90": -0.5},
         {"seasonal_logins_change_30v90": -0.5, "seasonal_logins_change_7v90": -0.29},
         {"seasonal_logins_change_30v90": -0.5, "seasonal_logins_change_7v90": -0.5,
          "logins_prior_90d_monthly": 3.9}],
    ),
    "combined": (
        {"logins_vs_cohort": 0.59, "seasonal_logins_change_30v90": -0.3},
        [{"logins_vs_cohort": 0.6, "seasonal_logins_change_30v90": -0.5},
         {"logins_vs_cohort": 0.3, "seasonal_logins_change_30v90": -0.29}],
    ),
    "feature_depth_decline": (
        {"features_used_prior_30d": 6, "features_used_30d": 4},
        [{"features_used_prior_30d": 6, "features_used_30d": 5}],
    ),
    "core_action_stop": (
        {"expected_days_since_last_core_action": 21.0, "core_actions_prior_90d": 3},
        [{"expected_days_since_last_core_action": 20.9, "core_actions_prior_90d": 30},
         {"expected_days_since_last_core_action": 40.0, "core_actions_prior_90d": 2}],
    ),
    "onboarding_missed": (
        {"first_value_missed": True, "tenure_days": 90},
        [{"first_value_missed": True, "tenure_days": 91}, {"tenure_days": 40}],
    ),
    "single_user_dependency": ({"is_single_user_dependent": True}, [{}]),
    "silent_churn": ({"is_silent_churn": True}, [{}]),
    "support_burst": ({"tickets_recent": 3}, [{"tickets_recent": 2}]),
    "stale_ticket": ({"stale_open_tickets": 1, "open_tickets": 1}, [{"open_tickets": 1}]),
    "nps_detractor": (
        {"nps_latest_score": 6, "days_since_nps": 30},
        [{"nps_latest_score": 7, "days_since_nps": 1}, {"nps_latest_score": 2, "days_since_nps": 31}],
    ),
    "payment_failure": (
        {"has_unresolved_payment_failure": True, "last_failed_payment_at": FAILED_14_DAYS_AGO},
        [{"has_unresolved_payment_failure": True, "last_failed_payment_at": FAILED_15_DAYS_AGO},
         {"has_unresolved_payment_failure": False, "last_failed_payment_at": FAILED_14_DAYS_AGO}],
    ),
    "health_below": ({"health_score": 69.9}, [{"health_score": 70.0}]),
    "model_risk": ({"churn_probability": 0.30}, [{"churn_probability": 0.2999}]),
}  # fmt: skip


def _holds(rule: str, changes: dict) -> bool:
    rows = frame([signal_row(**changes)])
    return bool(
        RULES[rule].condition(rows, CONFIG["alerts"]["rules"][rule], CONFIG["metrics"]).iloc[0]
    )


def test_every_configured_rule_is_tested_here():
    assert set(CASES) | {"renewal_risk"} == set(RULES) == set(CONFIG["alerts"]["rules"])


@pytest.mark.parametrize("rule", sorted(CASES))
def test_a_rule_fires_at_its_threshold_and_not_just_short_of_it(rule):
    firing, quiet = CASES[rule]
    assert _holds(rule, firing)
    for changes in quiet:
        assert not _holds(rule, changes), changes
    assert not _holds(rule, {})  # a healthy account


@pytest.mark.parametrize("rule", sorted(CASES))
def test_a_fired_rule_shows_its_value_and_threshold(rule):
    rows = frame([signal_row(**CASES[rule][0])])
    evidence = RULES[rule].evidence(rows, CONFIG["alerts"]["rules"][rule], CONFIG["metrics"])
    text = evidence.text.iloc[0]
    assert text and "nan" not in text.lower()
    assert pd.notna(evidence.value.iloc[0]) and pd.notna(evidence.threshold.iloc[0])


def _renewal(**changes) -> pd.DataFrame:
    base = {"contract_term": "annual", "days_to_renewal": 90, "churn_probability": 0.35}
    hits = evaluate_conditions(
        frame([signal_row(**{**base, **changes})]), CONFIG["alerts"]["rules"], CONFIG["metrics"]
    )
    return hits[hits["rule"].eq("renewal_risk")]


def test_a_renewal_is_risk_only_beside_another_serious_signal_on_a_decision_point():
    assert len(_renewal()) == 1  # annual renewal in 90 days + the model's high risk
    assert _renewal(days_to_renewal=91).empty
    assert _renewal(contract_term="monthly").empty  # monthly renewals are not decisions
    assert _renewal(churn_probability=0.05).empty  # a renewal alone is not risk
    # a low-level signal beside it (below the cohort) is not enough either
    assert _renewal(churn_probability=0.05, logins_vs_cohort=0.5).empty
