"""Support tickets and NPS responses.

Tickets arrive at a rate that grows with team size and risk. Before a cancel for
technical problems or poor support, a burst of urgent tickets arrives and is answered
slowly; a few healthy accounts have a quickly solved burst too (a trap). NPS answers
fall with risk and during the decay before a cancel.

Tickets are exported monthly as a help desk would: each file holds the tickets opened
or changed that month, in their state at the end of the month, so a ticket opened in
March and closed in April appears in both files (the newer version wins).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator import catalog
from simulator.spec import SimulationSpec

HOUR = pd.Timedelta(hours=1)


def _alive_at(when: pd.Series, accounts: pd.DataFrame, lifecycle: pd.DataFrame, idx: np.ndarray):
    signup = accounts["signup_date"].to_numpy()[idx]
    churn = lifecycle["churn_date"].to_numpy()[idx]
    back = lifecycle["reactivated_on"].to_numpy()[idx]
    t = when.to_numpy()
    return (t >= signup) & (np.isnat(churn) | (t < churn) | (~np.isnat(back) & (t >= back)))


def _pick_user(users: pd.DataFrame, user_start: np.ndarray, idx: np.ndarray, rng) -> np.ndarray:
    size = user_start[idx + 1] - user_start[idx]
    return users["user_id"].to_numpy()[user_start[idx] + (rng.random(idx.size) * size).astype(int)]


def tickets(
    spec: SimulationSpec,
    accounts: pd.DataFrame,
    lifecycle: pd.DataFrame,
    users: pd.DataFrame,
    user_start: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per ticket in its final state (as of the as-of date)."""
    n = len(accounts)
    start, end = pd.Timestamp(spec.history_start), pd.Timestamp(spec.as_of) + pd.Timedelta(days=1)
    span_days = (end - start).days
    risk = accounts["latent_risk"].to_numpy()
    rate = 0.012 * np.sqrt(accounts["seats"].to_numpy()) * np.exp(0.35 * risk)  # per day
    counts = rng.poisson(rate * span_days)
    idx = np.repeat(np.arange(n), counts)
    opened = start + pd.to_timedelta(rng.random(idx.size) * span_days * 86400, unit="s")
    burst_kind = np.zeros(idx.size, dtype=int)

    reason = lifecycle["churn_reason"].to_numpy()
    driven = np.isin(reason, catalog.SUPPORT_DRIVEN_REASONS)
    healthy_burst = (rng.random(n) < 0.03) & ~driven
    burst_accounts = np.nonzero(driven | healthy_burst)[0]
    burst_size = rng.integers(3, 6, burst_accounts.size)
    b_idx = np.repeat(burst_accounts, burst_size)
    churn = lifecycle["churn_date"].to_numpy()[b_idx]
    random_day = start + pd.to_timedelta(rng.random(b_idx.size) * span_days, unit="D")
    lead = pd.to_timedelta(
        np.repeat(rng.integers(20, 60, burst_accounts.size), burst_size), unit="D"
    )
    anchor = np.where(driven[b_idx], churn - lead.to_numpy(), random_day.to_numpy())
    within_week = pd.to_timedelta(rng.random(b_idx.size) * 7, unit="D").to_numpy()
    idx = np.concatenate([idx, b_idx])
    opened = pd.Series(np.concatenate([opened.to_numpy(), anchor + within_week]))
    burst_kind = np.concatenate([burst_kind, np.where(driven[b_idx], 2, 1)])
    keep = (opened >= start).to_numpy() & (opened < end).to_numpy()
    keep &= _alive_at(opened, accounts, lifecycle, idx)
    idx, opened, burst_kind = idx[keep], opened[keep].reset_index(drop=True), burst_kind[keep]

    m = idx.size
    slow = burst_kind == 2
    priority = np.where(
        burst_kind > 0,
        rng.choice(catalog.TICKET_PRIORITIES[2:], m),
        rng.choice(catalog.TICKET_PRIORITIES, m, p=(0.3, 0.5, 0.15, 0.05)),
    )
    category = np.where(
        burst_kind > 0,
        rng.choice(("bug", "performance"), m),
        rng.choice(catalog.TICKET_CATEGORIES, m, p=(0.35, 0.2, 0.1, 0.12, 0.15, 0.08)),
    )
    first_response = opened + pd.to_timedelta(
        rng.lognormal(np.log(np.where(slow, 70, 6)), 0.8), unit="h"
    )
    resolution = first_response + pd.to_timedelta(
        rng.lognormal(np.log(np.where(slow, 150, 20)), 1.0), unit="h"
    )
    rated = rng.random(m) < 0.55
    csat = np.clip(np.round(4.4 - 0.4 * risk[idx] - 1.8 * slow + rng.normal(0, 0.7, m)), 1, 5)
    frame = pd.DataFrame(
        {
            "ticket_id": [f"T{i:07d}" for i in range(1, m + 1)],
            "account_id": accounts["account_id"].to_numpy()[idx],
            "requester_user_id": _pick_user(users, user_start, idx, rng),
            "opened_at": opened,
            "first_response_at": first_response,
            "closed_at": resolution,
            "priority": priority,
            "category": category,
            "csat": np.where(rated, csat, np.nan),
            "subject": pd.Series(category).map(catalog.TICKET_SUBJECTS).to_numpy(),
        }
    )
    return frame.sort_values(["opened_at", "ticket_id"]).reset_index(drop=True)


def ticket_versions(spec: SimulationSpec, tickets: pd.DataFrame) -> pd.DataFrame:
    """Each ticket as exported at the end of the month it opened in and, if it closed in a
    later month, again at the end of that month. ``export_month`` names the file."""
    as_of_end = pd.Timestamp(spec.as_of) + pd.Timedelta(days=1)
    opened_month = tickets["opened_at"].dt.to_period("M")
    closed_month = tickets["closed_at"].dt.to_period("M")
    versions = []
    for month, later in ((opened_month, False), (closed_month, True)):
        rows = (
            tickets[(closed_month != opened_month) & (tickets["closed_at"] < as_of_end)]
            if later
            else tickets
        )
        month = month[rows.index]
        cutoff = np.minimum(
            (month.dt.end_time + pd.Timedelta(1, "ns")).to_numpy(), as_of_end.to_datetime64()
        )
        version = rows.copy()
        for column in ("first_response_at", "closed_at"):
            version[column] = version[column].where(version[column] < cutoff)
        version["csat"] = version["csat"].where(version["closed_at"].notna())
        version["status"] = np.where(
            version["closed_at"].notna(),
            "closed",
            np.where(version["first_response_at"].notna(), "pending", "open"),
        )
        version["updated_at"] = version[["opened_at", "first_response_at", "closed_at"]].max(axis=1)
        version["export_month"] = month.astype(str).to_numpy()
        versions.append(version)
    return (
        pd.concat(versions)
        .sort_values(["export_month", "opened_at", "ticket_id"])
        .reset_index(drop=True)
    )


def nps_responses(
    spec: SimulationSpec,
    accounts: pd.DataFrame,
    lifecycle: pd.DataFrame,
    users: pd.DataFrame,
    user_start: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Quarterly in-app survey: up to two users per live account answer."""
    survey_months = [m for m in spec.month_starts() if m.month in (1, 4, 7, 10)]
    frames = []
    for month in survey_months:
        n = len(accounts)
        respondents = rng.binomial(2, 0.3, n)
        idx = np.repeat(np.arange(n), respondents)
        when = pd.Series(
            pd.Timestamp(month) + pd.to_timedelta(rng.integers(0, 14 * 86400, idx.size), unit="s")
        )
        answered = (when <= pd.Timestamp(spec.as_of)).to_numpy()
        idx, when = idx[answered], when[answered].reset_index(drop=True)
        alive = _alive_at(when, accounts, lifecycle, idx)
        idx, when = idx[alive], when[alive].reset_index(drop=True)
        churn = lifecycle["churn_date"].to_numpy()[idx]
        days_to_churn = (churn - when.to_numpy()) / np.timedelta64(1, "D")
        decaying = lifecycle["usage_decays_before_churn"].to_numpy()[idx] & (days_to_churn < 120)
        score = np.clip(
            np.round(
                8.2
                - 1.2 * accounts["latent_risk"].to_numpy()[idx]
                - 2.5 * decaying
                + rng.normal(0, 1.4, idx.size)
            ),
            0,
            10,
        ).astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "account_id": accounts["account_id"].to_numpy()[idx],
                    "user_id": _pick_user(users, user_start, idx, rng),
                    "responded_at": when,
                    "score": score,
                    "comment": np.where(
                        score <= 6,
                        rng.choice(
                            ("too expensive", "too slow", "missing integrations", ""), idx.size
                        ),
                        "",
                    ),
                    "survey_month": str(month)[:7],
                }
            )
        )
    out = pd.concat(frames).sort_values("responded_at").reset_index(drop=True)
    out.insert(0, "response_id", [f"N{i:07d}" for i in range(1, len(out) + 1)])
    return out
