"""Billing exports: subscription periods, cancellations and payment attempts.

Subscription periods are the source of truth for churn (an account churns when no
period follows the last one within the re-sign gap); cancellations with a reason and
failed payments are enrichment, as in a real billing system's exports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator import catalog
from simulator.population import monthly_price
from simulator.spec import SimulationSpec


def subscription_periods(
    spec: SimulationSpec, accounts: pd.DataFrame, lifecycle: pd.DataFrame
) -> pd.DataFrame:
    """One row per period of unchanged plan and seats; ``end_date`` empty while running."""
    rows: list[tuple] = []
    as_of = pd.Timestamp(spec.as_of)
    for acc, life in zip(accounts.itertuples(), lifecycle.itertuples(), strict=True):
        boundaries: list[tuple[pd.Timestamp, str]] = []
        if pd.notna(life.plan_change_date):
            boundaries.append((life.plan_change_date, "change"))
        if pd.notna(life.late_renewal_start):
            boundaries.append((life.late_renewal_start, "lapse"))
        boundaries.sort()
        seats, start, k = acc.seats, acc.signup_date, 0
        for when, kind in boundaries:
            if pd.notna(life.churn_date) and when >= life.churn_date:
                break
            rows.append((acc.account_id, k, acc.plan, acc.contract_term, seats, start, when))
            k += 1
            if kind == "change":
                seats, start = int(life.seats_after), when
            else:
                start = when + pd.Timedelta(days=int(life.late_renewal_days))
        end = (
            life.churn_date
            if pd.notna(life.churn_date) and life.cancel_requested_at <= as_of
            else None
        )
        rows.append((acc.account_id, k, acc.plan, acc.contract_term, seats, start, end))
        if pd.notna(life.reactivated_on):
            rows.append(
                (
                    acc.account_id,
                    k + 1,
                    acc.plan,
                    acc.contract_term,
                    seats,
                    life.reactivated_on,
                    None,
                )
            )
    periods = pd.DataFrame(
        rows,
        columns=["account_id", "k", "plan", "contract_term", "seats", "start_date", "end_date"],
    )
    periods = periods[periods["start_date"] <= as_of].reset_index(drop=True)
    periods.insert(
        0,
        "subscription_id",
        periods["account_id"].str.replace("A", "S") + "-" + periods["k"].astype(str),
    )
    periods["mrr"] = monthly_price(
        periods["plan"].to_numpy(),
        periods["seats"].to_numpy(),
        periods["contract_term"].eq("annual").to_numpy(),
    )
    periods["start_date"] = pd.to_datetime(periods["start_date"]).dt.date
    periods["end_date"] = pd.to_datetime(periods["end_date"]).dt.date
    return periods.drop(columns="k")


def cancellations(
    spec: SimulationSpec, lifecycle: pd.DataFrame, periods: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per cancellation requested by the as-of date; some reasons left blank."""
    known = lifecycle[lifecycle["cancel_requested_at"].notna()]
    known = known[known["cancel_requested_at"] <= pd.Timestamp(spec.as_of)]
    last_period = periods.drop_duplicates("account_id", keep="first").set_index("account_id")
    ended = periods[periods["end_date"].notna()].groupby("account_id")["subscription_id"].last()
    reason = known["churn_reason"].where(
        (known["churn_type"] == "involuntary") | (rng.random(len(known)) > 0.1)
    )
    seconds = pd.to_timedelta(rng.integers(8 * 3600, 18 * 3600, len(known)), unit="s")
    return pd.DataFrame(
        {
            "cancellation_id": known["account_id"].str.replace("A", "C"),
            "account_id": known["account_id"],
            "subscription_id": known["account_id"]
            .map(ended)
            .fillna(known["account_id"].map(last_period["subscription_id"])),
            "requested_at": (known["cancel_requested_at"] + seconds).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "effective_date": known["churn_date"].dt.date,
            "reason": reason,
            "churn_type": known["churn_type"],
        }
    ).reset_index(drop=True)


def payments(
    spec: SimulationSpec, periods: pd.DataFrame, lifecycle: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """One row per payment attempt on each invoice inside the export window.

    Most invoices are paid first time; some fail and are recovered days later (a trap);
    an involuntary churner's last invoice fails three times and the account lapses."""
    as_of = pd.Timestamp(spec.as_of)
    start = pd.to_datetime(periods["start_date"])
    end = pd.to_datetime(periods["end_date"]).fillna(as_of + pd.Timedelta(days=1))
    term = np.where(periods["contract_term"].eq("annual"), 365, 30)
    count = np.maximum(1, np.ceil((end - start).dt.days / term)).astype(int)
    row = np.repeat(np.arange(len(periods)), count)
    nth = np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    due = start.to_numpy()[row] + pd.to_timedelta(nth * term[row], unit="D").to_numpy()
    amount = periods["mrr"].to_numpy()[row] * np.where(term[row] == 365, 12, 1)
    invoices = pd.DataFrame(
        {
            "invoice_id": periods["subscription_id"].to_numpy()[row] + "-I" + nth.astype(str),
            "account_id": periods["account_id"].to_numpy()[row],
            "due": due,
            "amount": np.round(amount, 2),
        }
    )
    involuntary = lifecycle.loc[
        lifecycle["churn_type"].eq("involuntary"), ["account_id", "churn_date"]
    ]
    last_due = invoices.merge(involuntary, on="account_id")
    last_due = last_due[last_due["due"] < last_due["churn_date"]]
    last_due = last_due.loc[last_due.groupby("account_id")["due"].idxmax()]
    fails_for_good = invoices["invoice_id"].isin(last_due["invoice_id"]).to_numpy()
    recovers = ~fails_for_good & (rng.random(len(invoices)) < 0.025)
    attempts = np.where(fails_for_good, 3, np.where(recovers, 2, 1))
    inv = np.repeat(np.arange(len(invoices)), attempts)
    attempt_no = np.arange(inv.size) - np.repeat(np.cumsum(attempts) - attempts, attempts)
    failed = fails_for_good[inv] | (recovers[inv] & (attempt_no == 0))
    seconds = rng.integers(0, 6 * 3600, inv.size)
    attempted = (
        invoices["due"].to_numpy()[inv]
        + pd.to_timedelta(attempt_no * 7, unit="D").to_numpy()
        + pd.to_timedelta(seconds, unit="s").to_numpy()
    )
    out = pd.DataFrame(
        {
            "account_id": invoices["account_id"].to_numpy()[inv],
            "invoice_id": invoices["invoice_id"].to_numpy()[inv],
            "attempted_at": attempted,
            "amount": invoices["amount"].to_numpy()[inv],
            "currency": "USD",
            "status": np.where(failed, "failed", "paid"),
            "failure_code": np.where(
                failed, rng.choice(catalog.PAYMENT_FAILURE_CODES, inv.size), None
            ),
        }
    )
    window = (out["attempted_at"] >= pd.Timestamp(spec.history_start)) & (
        out["attempted_at"] < as_of + pd.Timedelta(days=1)
    )
    out = out[window].sort_values(["attempted_at", "invoice_id"]).reset_index(drop=True)
    out.insert(0, "payment_id", [f"P{i:08d}" for i in range(1, len(out) + 1)])
    return out
