"""The ceiling for any model on simulated data (simulator.oracle): crafted accounts for
its mechanics, and the session's simulated history for its calibration."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from simulator.oracle import oracle_probability, read_truth

HORIZON, LEAD = 60, 7
OBSERVED = pd.Timestamp("2026-06-01")


def account(account_id: str, **overrides) -> dict:
    """A calm monthly Mid-Market customer of two years that never churns."""
    return {
        "account_id": account_id,
        "segment": "Mid-Market",
        "contract_term": "monthly",
        "signup_date": OBSERVED - pd.Timedelta(days=730),
        "risk": 0.0,
        "stable_low_usage": False,
        "hidden_shock": False,
        "missed_onboarding": False,
        "churn_date": pd.NaT,
        "usage_decays_before_churn": False,
        "decay_days": 0,
        **overrides,
    }


def probabilities(accounts: list[dict], **options) -> pd.Series:
    truth = pd.DataFrame(accounts)
    rows = pd.DataFrame({"account_id": truth["account_id"], "observation_date": OBSERVED})
    options = {"include_hidden": False, **options}
    p = oracle_probability(truth, rows, HORIZON, LEAD, **options)
    return pd.Series(p, index=truth["account_id"])


def test_riskier_accounts_and_hidden_shocks_rank_higher_where_they_should():
    accounts = [
        account("calm"),
        account("risky", risk=2.0),
        account("shocked", hidden_shock=True),
        account("quiet", stable_low_usage=True),
    ]
    revealed = probabilities(accounts)
    full = probabilities(accounts, include_hidden=True)
    assert 0 < revealed["calm"] < revealed["risky"] < 0.5
    assert revealed["quiet"] == 0  # the stable low-usage trap never churns
    assert revealed["shocked"] == pytest.approx(revealed["calm"])  # no export shows it
    assert full["shocked"] > 2 * full["calm"]


def test_annual_contracts_churn_only_at_an_anniversary_inside_the_window():
    anniversary_soon = OBSERVED - pd.Timedelta(days=730 - 30)  # 2nd anniversary in 30 days
    accounts = [
        account("renews_in_30_days", contract_term="annual", signup_date=anniversary_soon),
        account("renews_in_7_months", contract_term="annual"),
    ]
    p = probabilities(accounts, include_hidden=True)
    assert p["renews_in_7_months"] == 0
    assert p["renews_in_30_days"] > probabilities([account("monthly")])["monthly"]


def test_a_decay_under_way_reveals_the_cancel_and_a_past_churn_does_not_repeat():
    decaying = account(
        "decaying",
        churn_date=OBSERVED + pd.Timedelta(days=30),
        usage_decays_before_churn=True,
        decay_days=90,
    )
    came_back = account("came_back", churn_date=OBSERVED - pd.Timedelta(days=100))
    seen = probabilities([decaying, came_back])
    unseen = probabilities([decaying, came_back], see_decay=False)
    assert seen["decaying"] == 1.0  # 60 days into a decay of at most 119: the cancel is due
    assert unseen["decaying"] < 0.1
    assert seen["came_back"] == 0


def test_the_oracle_expects_as_many_churners_as_the_simulation_produced(demo_dirs):
    """Every alive account-month of the session's history, labelled from the truth the way
    the warehouse labels snapshots. The hazard alone is a true probability, so its sum
    must match the churn count (a wrong period-end rule is off by ~2x); seeing the decay
    must sharpen the ranking."""
    truth = read_truth(demo_dirs.truth)
    months = pd.date_range("2026-01-01", "2026-08-01", freq="MS")
    rows = truth[["account_id", "signup_date", "churn_date"]].merge(
        pd.DataFrame({"observation_date": months}), how="cross"
    )
    days_to_churn = (rows["churn_date"] - rows["observation_date"]).dt.days
    labelled = (rows["signup_date"] < rows["observation_date"]) & ~(days_to_churn < LEAD)
    rows, days_to_churn = rows[labelled], days_to_churn[labelled]
    churned = int(((days_to_churn >= LEAD) & (days_to_churn < HORIZON)).sum())
    hazard = oracle_probability(truth, rows, HORIZON, LEAD, include_hidden=True, see_decay=False)
    ceiling = oracle_probability(truth, rows, HORIZON, LEAD, include_hidden=True)
    assert churned > 30
    assert abs(hazard.sum() - churned) < 3 * np.sqrt(churned)
    y = (days_to_churn >= LEAD) & (days_to_churn < HORIZON)
    assert roc_auc_score(y, ceiling) > roc_auc_score(y, hazard) + 0.03
