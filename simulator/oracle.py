"""The best possible churn ranking on simulated data: the ceiling for any model.

For every (account, observation date) row this module computes the probability that
the account churns within the model's label window, ``[date + lead_days, date +
horizon_days)``, using the simulator's own mechanics and the ground truth written
next to the exports:

- the monthly hazard of the first churn decision (``lifecycle.monthly_hazard``),
  turned into a churn date the way the simulator does it: monthly contracts end at the
  next 30-day period end, annual ones at the next anniversary;
- the usage decay that precedes most voluntary cancels: once an account's usage has
  started fading, its churn is revealed, and only the remaining length of the decay
  (uniform in ``lifecycle.DECAY_DAYS``) is uncertain;
- an account that has already churned once and came back does not churn again.

``include_hidden=False`` gives the revealed ceiling: the hidden shock (a budget cut, an
acquisition), which no export shows, is left out of the hazard. ``True`` gives the full
latent risk, for reference. Both are upper bounds, not models: they know the exact
latent traits and the day a decay starts, which behaviour only shows gradually.
Pending cancellation requests are left out, as the model leaves them out: a model that
sees the act of cancelling has nothing left to predict.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulator.lifecycle import (
    DECAY_DAYS,
    DECAY_SHARE,
    HIDDEN_REASON_SHARE,
    involuntary_share,
    monthly_hazard,
    to_period_end,
)

TRUTH_FILE = "accounts_truth.csv"
LATENT_TRAITS = ["risk", "stable_low_usage", "hidden_shock", "missed_onboarding"]
DATES = ["signup_date", "churn_date"]


def read_truth(truth_dir: Path) -> pd.DataFrame:
    """The simulator's per-account ground truth, as ``generate`` wrote it."""
    return pd.read_csv(truth_dir / TRUTH_FILE, dtype={"account_id": str}, parse_dates=DATES)


def _decision_cdf(truth: pd.DataFrame, days: int, include_hidden: bool) -> np.ndarray:
    """``cdf[a, d]`` = probability that account ``a`` decides to churn before tenure day
    ``d`` (its first decision; columns 0..days). Decision days are uniform within the
    tenure month, as in ``lifecycle._first_churn_day``."""
    months = -(-days // 30)
    latent = truth.rename(columns={c: f"latent_{c}" for c in LATENT_TRAITS})
    hazard = monthly_hazard(latent, np.arange(months)[None, :], include_hidden)
    p_month = 1.0 - np.exp(-30.0 * hazard)
    survived = np.cumprod(1.0 - p_month, axis=1)
    first = p_month * np.hstack([np.ones((len(truth), 1)), survived[:, :-1]])
    daily = np.repeat(first / 30.0, 30, axis=1)[:, :days]
    return np.hstack([np.zeros((len(truth), 1)), np.cumsum(daily, axis=1)])


def _hazard_probability(
    accounts: pd.DataFrame,
    account: np.ndarray,
    tenure: np.ndarray,
    lead_days: int,
    horizon_days: int,
    hidden: bool,
) -> np.ndarray:
    """P(churn day in [tenure + lead, tenure + horizon) | no churn before tenure + lead)
    for rows of ``accounts`` (positions ``account``) at tenure days ``tenure``. The
    decision distribution is computed once per account, not once per row."""
    days = int(tenure.max()) + horizon_days + 1
    cdf = _decision_cdf(accounts, days, hidden)
    annual = accounts["contract_term"].eq("annual").to_numpy()[account]
    decision_day = np.arange(days + 1)
    churn_day = {term: to_period_end(decision_day, np.full(days + 1, term)) for term in (0, 1)}

    def churned_before(day: np.ndarray) -> np.ndarray:
        """P(churn day < day): decisions before the first decision day whose period end
        reaches ``day`` (churn day never decreases with the decision day)."""
        first = np.where(
            annual,
            np.searchsorted(churn_day[1], day, side="left"),
            np.searchsorted(churn_day[0], day, side="left"),
        )
        return cdf[account, np.minimum(first, days)]

    start = churned_before(tenure + lead_days)
    end = churned_before(tenure + horizon_days)
    alive = 1.0 - start
    return np.divide(end - start, alive, out=np.zeros_like(alive), where=alive > 1e-12)


def _decay_probability(days_into_decay: np.ndarray, lead_days: int, horizon_days: int):
    """P(churn in the window | the decay began ``days_into_decay`` days ago and has not
    ended within ``lead_days``): the decay length is uniform in DECAY_DAYS."""
    low = np.maximum(DECAY_DAYS[0], days_into_decay + lead_days)
    possible = np.maximum(DECAY_DAYS[1] - low, 0)
    in_window = np.clip(days_into_decay + horizon_days - low, 0, possible)
    return np.divide(in_window, possible, out=np.zeros(len(low), dtype=float), where=possible > 0)


def _unseen_share(
    facts: pd.DataFrame, lead_days: int, horizon_days: int, include_hidden: bool
) -> np.ndarray:
    """Share of an account's churns in the window whose usage shows no decay yet at the
    observation date: failed payments, shock-caused and the quiet rest, plus decays that
    start after the date (a churn k days out whose decay is shorter than k)."""
    annual = facts["contract_term"].eq("annual").to_numpy()
    hidden = facts["hidden_shock"].to_numpy(dtype=bool) & include_hidden
    decaying_kind = (
        (1.0 - involuntary_share(facts["segment"].to_numpy(), annual))
        * (1.0 - HIDDEN_REASON_SHARE * hidden)
        * DECAY_SHARE
    )
    days_out = np.arange(lead_days, horizon_days)
    low, high = DECAY_DAYS
    starts_later = np.clip((days_out - low) / (high - low), 0.0, 1.0).mean()
    return 1.0 - decaying_kind * (1.0 - starts_later)


def oracle_probability(
    truth: pd.DataFrame,
    rows: pd.DataFrame,
    horizon_days: int,
    lead_days: int,
    include_hidden: bool,
    see_decay: bool = True,
) -> np.ndarray:
    """The ceiling's churn probability for each of ``rows`` (account_id, observation_date).

    ``see_decay=False`` ranks by the hazard alone, as if usage never faded before a
    cancel: the gap to the ceiling is what behaviour reveals about decisions already
    taken."""
    facts = rows[["account_id", "observation_date"]].merge(
        truth, on="account_id", how="left", validate="many_to_one"
    )
    if facts["signup_date"].isna().any():
        missing = facts.loc[facts["signup_date"].isna(), "account_id"].unique()[:5].tolist()
        raise ValueError(f"{TRUTH_FILE} has no row for accounts {missing}")
    observed = pd.to_datetime(facts["observation_date"])
    tenure = (observed - facts["signup_date"]).dt.days.clip(lower=0).to_numpy()
    accounts = truth[truth["account_id"].isin(facts["account_id"])].reset_index(drop=True)
    account = pd.Index(accounts["account_id"]).get_indexer(facts["account_id"])
    probability = _hazard_probability(
        accounts, account, tenure, lead_days, horizon_days, include_hidden
    )

    to_churn = (facts["churn_date"] - observed).dt.days.to_numpy()
    decay_days = facts["decay_days"].to_numpy()
    decaying = (
        see_decay
        & facts["usage_decays_before_churn"].to_numpy(dtype=bool)
        & ((to_churn > 0) & (to_churn < decay_days))
    )
    if see_decay:  # no decay yet: most churns in the window would already show one
        probability = probability * _unseen_share(facts, lead_days, horizon_days, include_hidden)
    revealed = _decay_probability(decay_days - to_churn, lead_days, horizon_days)
    probability = np.where(decaying, revealed, probability)
    came_back = np.nan_to_num(to_churn, nan=1.0) <= 0  # churned before, won back since
    return np.where(came_back, 0.0, probability)
