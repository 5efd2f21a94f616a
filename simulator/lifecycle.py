"""Each account's life: when (and why) it churns, plan changes, late renewals, win-backs.

Churn comes out of a monthly hazard built from the latent traits the way DOMAIN.md
describes it: riskier accounts, missed onboarding and the first 90 days raise it, tenure
lowers it, annual contracts can only leave at renewal, some churn is invisible in usage
(budget cuts) and some is involuntary (failed payments).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator import catalog
from simulator.population import monthly_price
from simulator.spec import SimulationSpec

DAY = np.timedelta64(1, "D")
NAT = np.datetime64("NaT", "ns")
HIDDEN_SHOCK_HAZARD = 0.0025  # daily, on top of the revealed hazard
DECAY_DAYS = (45, 120)  # usage starts fading this many days before a cancel: [low, high)
DECAY_SHARE = 0.85  # voluntary, visible churns whose usage fades first
HIDDEN_REASON_SHARE = 0.7  # churns of hidden-shock accounts that the shock caused


def involuntary_share(segment: np.ndarray, annual: np.ndarray) -> np.ndarray:
    """Share of churns that are failed payments: monthly contracts only, small ones most."""
    return np.where(annual, 0.0, np.where(segment == "SMB", 0.2, 0.1))


def _days(values: np.ndarray) -> np.ndarray:
    return pd.to_timedelta(np.asarray(values), unit="D").to_numpy()


def monthly_hazard(
    accounts: pd.DataFrame, tenure_month: np.ndarray, include_hidden: bool = True
) -> np.ndarray:
    """Latent daily churn hazard per account (rows) at each tenure month (columns).

    ``include_hidden=False`` leaves out the hidden shock (a budget cut, an acquisition),
    the one cause no export shows: what remains is the risk behaviour reveals."""
    base = accounts["segment"].map(catalog.MONTHLY_HAZARD).to_numpy() / 30.0
    risk = accounts["latent_risk"].to_numpy()
    daily = base * np.exp(0.9 * risk)
    daily = np.where(accounts["latent_stable_low_usage"], 0.0, daily)
    month = np.asarray(tenure_month)
    # Most churn happens in the first 90 days; each further month of tenure lowers it.
    tenure = np.where(month < 3, 2.0, 1.0 / (1.0 + 0.05 * (month - 3)))
    onboarding = np.where(
        accounts["latent_missed_onboarding"].to_numpy()[:, None] & (month < 6), 1.8, 1.0
    )
    hidden = accounts["latent_hidden_shock"].to_numpy()[:, None] & include_hidden
    shock = np.where(hidden, HIDDEN_SHOCK_HAZARD, 0.0)
    return daily[:, None] * tenure * onboarding + shock


def _first_churn_day(accounts: pd.DataFrame, horizon_months: int, rng: np.random.Generator):
    """Days from signup to the first churn decision, or NaN if none within the horizon."""
    n = len(accounts)
    hazard = monthly_hazard(accounts, np.arange(horizon_months)[None, :])
    p_month = 1.0 - np.exp(-30.0 * hazard)
    hit = rng.random((n, horizon_months)) < p_month
    first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    return np.where(first >= 0, first * 30 + rng.integers(0, 30, n), np.nan)


def to_period_end(days: np.ndarray, annual: np.ndarray) -> np.ndarray:
    """Annual contracts end at an anniversary, monthly ones at a 30-day period end."""
    term = np.where(annual, 365, 30)
    return np.ceil(np.maximum(days, 1) / term) * term


def simulate_lifecycle(
    spec: SimulationSpec, accounts: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per account (same order) with its churn, plan change, lapse and win-back."""
    n = len(accounts)
    as_of = np.datetime64(spec.as_of, "ns")
    signup = accounts["signup_date"].to_numpy()
    annual = accounts["contract_term"].eq("annual").to_numpy()
    segment = accounts["segment"].to_numpy()
    risk = accounts["latent_risk"].to_numpy()
    hidden = accounts["latent_hidden_shock"].to_numpy()
    horizon = int((as_of - signup.min()) / DAY / 30) + 6  # churn after the as-of date too

    raw_days = _first_churn_day(accounts, horizon, rng)
    churn_days = to_period_end(np.nan_to_num(raw_days, nan=1e6), annual)
    churn = np.where(np.isnan(raw_days), NAT, signup + _days(churn_days))
    churns = ~np.isnat(churn)  # includes churn after the as-of date: truth for scoring
    churned = churns & (churn <= as_of)
    request_lead = np.where(annual, rng.integers(15, 75, n), rng.integers(1, 25, n))
    requested = np.where(churns, churn - _days(request_lead), NAT)

    involuntary = churns & (rng.random(n) < involuntary_share(segment, annual))
    hidden_reason = churns & ~involuntary & hidden & (rng.random(n) < HIDDEN_REASON_SHARE)
    reason = np.empty(n, dtype=object)
    for seg in catalog.SEGMENTS:
        rows = segment == seg
        reason[rows] = rng.choice(
            catalog.VOLUNTARY_REASONS, rows.sum(), p=catalog.REASON_WEIGHTS[seg]
        )
    reason = np.where(hidden_reason, catalog.HIDDEN_REASON, reason)
    reason = np.where(involuntary, catalog.INVOLUNTARY_REASON, reason)
    reason = np.where(churns, reason, None)
    decays = churns & ~involuntary & ~hidden_reason & (rng.random(n) < DECAY_SHARE)
    requested = np.where(involuntary, churn, requested)

    # Plan changes: safe accounts expand, risky ones shrink; shrinking often precedes a cancel.
    life_end = np.where(churned, churn, as_of)
    life_days = (life_end - signup) / DAY
    changes = (rng.random(n) < 0.18) & (life_days > 90)
    upgrade = rng.random(n) < 1 / (1 + np.exp(1.2 * risk))
    before_churn = churns & decays & (rng.random(n) < 0.35)
    changes = changes | (before_churn & (life_days > 150))
    upgrade = upgrade & ~before_churn
    change_offset = np.where(
        before_churn,
        life_days - rng.integers(30, 120, n),
        rng.uniform(60, np.maximum(life_days, 61)),
    )
    change_date = np.where(changes, signup + _days(np.floor(np.maximum(change_offset, 31))), NAT)
    factor = np.where(upgrade, rng.uniform(1.3, 1.8, n), rng.uniform(0.45, 0.8, n))
    seats_after = np.where(
        changes, np.maximum(1, np.round(accounts["seats"].to_numpy() * factor)), np.nan
    )

    # Trap: a monthly renewal paid late (shorter than the re-sign gap) is not churn.
    lapse = ~annual & ~churns & (rng.random(n) < 0.04) & (life_days > 120)
    lapse_start = np.where(
        lapse,
        signup + _days(to_period_end(rng.uniform(60, np.maximum(life_days - 40, 61)), annual)),
        NAT,
    )
    lapse_start = np.where(lapse & (lapse_start < as_of - 30 * DAY), lapse_start, NAT)

    # Win-back: depends on the reason, the account's value and its past engagement.
    mrr = monthly_price(accounts["plan"].to_numpy(), accounts["seats"].to_numpy(), annual)
    value = 1.0 + 0.25 * np.log(mrr / np.median(mrr))
    base = pd.Series(reason).map(catalog.WINBACK_BASE).fillna(0).to_numpy()
    propensity = np.clip(base * value * np.exp(-0.25 * risk), 0.0, 0.9)
    back = churned & (rng.random(n) < propensity)
    reactivated = np.where(back, churn + _days(rng.integers(35, 150, n)), NAT)
    reactivated = np.where(back & (reactivated <= as_of), reactivated, NAT)

    return pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "churn_date": churn,
            "cancel_requested_at": np.where(churns, requested, NAT),
            "churn_reason": reason,
            "churn_type": np.where(churns, np.where(involuntary, "involuntary", "voluntary"), None),
            "churned_by_as_of": churned,
            "usage_decays_before_churn": decays,
            "decay_days": np.where(decays, rng.integers(*DECAY_DAYS, n), 0),
            "plan_change_date": change_date,
            "plan_change": np.where(changes, np.where(upgrade, "upgrade", "downgrade"), None),
            "seats_after": seats_after,
            "late_renewal_start": lapse_start,
            "late_renewal_days": np.where(np.isnat(lapse_start), 0, rng.integers(3, 20, n)),
            "winback_propensity": np.round(propensity, 4),
            "reactivated_on": reactivated,
        }
    )
