"""Who the customers are: accounts with their CRM attributes and latent traits, and users.

Latent traits drive everything downstream (churn, usage, tickets, NPS). Only their
consequences reach the exports; the traits themselves go to the ground truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator import catalog
from simulator.spec import SimulationSpec


def draw_accounts(spec: SimulationSpec, rng: np.random.Generator) -> pd.DataFrame:
    """One row per account: CRM attributes at signup plus latent traits (``latent_*``)."""
    n = spec.accounts
    segment = rng.choice(catalog.SEGMENTS, size=n, p=catalog.SEGMENT_SHARE)
    lo = np.array([catalog.SEATS_RANGE[s][0] for s in segment])
    hi = np.array([catalog.SEATS_RANGE[s][1] for s in segment])
    seats = rng.integers(lo, hi + 1)
    plan_lo = np.array([catalog.SEGMENT_PLANS[s][0] for s in segment])
    plan_hi = np.array([catalog.SEGMENT_PLANS[s][1] for s in segment])
    plan_index = rng.integers(plan_lo, plan_hi + 1)
    annual = rng.random(n) < np.array([catalog.ANNUAL_SHARE[s] for s in segment])

    # A growing company: signups get more frequent towards the as-of date.
    earliest = pd.Timestamp(spec.earliest_signup)
    span_days = (pd.Timestamp(spec.as_of) - earliest).days - 14
    offset = np.floor(span_days * np.sqrt(rng.random(n))).astype(int)
    signup = (earliest + pd.to_timedelta(np.sort(offset), unit="D")).values

    ids = np.array([f"A{i:05d}" for i in range(1, n + 1)])
    country = rng.integers(len(catalog.COUNTRIES), size=n)
    first = rng.choice(catalog.FIRST_NAMES, n)
    last = rng.choice(catalog.LAST_NAMES, n)
    company = [
        f"{a} {b} {c}"
        for a, b, c in zip(
            rng.choice(catalog.COMPANY_WORDS, n),
            rng.choice(catalog.COMPANY_WORDS, n),
            rng.choice(catalog.COMPANY_SUFFIXES, n),
            strict=True,
        )
    ]
    revealed = rng.normal(size=n)  # the part of risk behaviour shows
    stable_quiet = rng.random(n) < 0.05  # always low usage, never churns: a trap for rules
    revealed[stable_quiet] = -1.2
    missed_onboarding = (rng.random(n) < 1 / (1 + np.exp(1.3 - 0.9 * revealed))) & ~stable_quiet
    return pd.DataFrame(
        {
            "account_id": ids,
            "company_name": company,
            "segment": segment,
            "plan": np.array(catalog.PLANS)[plan_index],
            "contract_term": np.where(annual, "annual", "monthly"),
            "seats": seats,
            "signup_date": signup,
            "csm_owner": rng.choice(catalog.CSMS, n),
            "contact_first_name": first,
            "contact_last_name": last,
            "country": [catalog.COUNTRIES[c][0] for c in country],
            "timezone": [catalog.COUNTRIES[c][1] for c in country],
            "utc_offset_hours": [catalog.COUNTRIES[c][2] for c in country],
            "latent_risk": np.round(revealed, 4),
            "latent_stable_low_usage": stable_quiet,
            "latent_hidden_shock": (rng.random(n) < 0.08) & ~stable_quiet,
            "latent_missed_onboarding": missed_onboarding,
            "latent_engagement": np.round(
                np.exp(-0.35 * revealed) * np.where(stable_quiet, 0.3, 1.0), 4
            ),
        }
    )


def monthly_price(plan: np.ndarray, seats: np.ndarray, annual: np.ndarray) -> np.ndarray:
    per_seat = pd.Series(plan).map(catalog.PLAN_PRICE_PER_SEAT).to_numpy()
    return np.round(per_seat * seats * np.where(annual, catalog.ANNUAL_DISCOUNT, 1.0), 2)


def draw_users(
    spec: SimulationSpec, accounts: pd.DataFrame, lifecycle: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per user. Rank 0 is the account's champion; higher ranks are quieter, and
    are the first to drift away when the team's usage decays or seats are cut."""
    max_seats = np.maximum(accounts["seats"].to_numpy(), lifecycle["seats_after"].fillna(0))
    per_account = np.maximum(1, np.round(max_seats * spec.users_per_seat)).astype(int)
    account_index = np.repeat(np.arange(len(accounts)), per_account)
    rank = np.arange(account_index.size) - np.repeat(
        np.cumsum(per_account) - per_account, per_account
    )
    n = account_index.size

    signup = accounts["signup_date"].to_numpy()[account_index]
    change = lifecycle["plan_change_date"].to_numpy()[account_index]
    seats_before = accounts["seats"].to_numpy()[account_index] * spec.users_per_seat
    seats_after = lifecycle["seats_after"].to_numpy()[account_index] * spec.users_per_seat
    joins_at_change = ~np.isnat(change) & (rank >= np.round(seats_before))
    leaves_at_change = ~np.isnat(change) & (rank >= np.maximum(1, np.round(seats_after)))
    stagger = pd.to_timedelta(np.minimum(rank, 30) * rng.integers(0, 3, n), unit="D").to_numpy()
    created = np.where(joins_at_change, change, signup + stagger)
    deactivated = np.where(leaves_at_change & ~joins_at_change, change, np.datetime64("NaT"))

    first = rng.choice(catalog.FIRST_NAMES, n)
    last = rng.choice(catalog.LAST_NAMES, n)
    account_ids = accounts["account_id"].to_numpy()[account_index]
    user_ids = np.char.add(np.char.add(account_ids.astype(str), "-U"), rank.astype(str))
    # Vacations: two 14-day breaks a year at random, with no usage and no churn.
    year_days = 365
    return pd.DataFrame(
        {
            "user_id": user_ids,
            "account_id": account_ids,
            "account_index": account_index,
            "rank": rank,
            "full_name": np.char.add(np.char.add(first.astype(str), " "), last.astype(str)),
            "email": [
                f"{f.lower()}.{ln.lower().replace(chr(39), '')}.{u.lower()}@example.com"
                for f, ln, u in zip(first, last, user_ids, strict=True)
            ],
            "role": np.where(rank == 0, "admin", "member"),
            "created_at": created,
            "deactivated_at": deactivated,
            "user_engagement": np.round(
                np.clip(rng.lognormal(-0.15 * np.minimum(rank, 8), 0.4), 0.05, 3.0), 4
            ),
            "vacation_offset_1": rng.integers(0, year_days, n),
            "vacation_offset_2": rng.integers(0, year_days, n),
        }
    )
