"""A seeded, vectorised generator of a small SaaS company's exports.

Churn comes out of latent behaviour rather than being painted on afterwards: each
account gets a risk drawn from its segment; risk lowers engagement and feature depth,
and most voluntary churners' team-wide usage decays for weeks before they cancel.
Some churn is invisible in the exports (budget cuts, failed payments), so no model
can be perfect, and some accounts are stably quiet and never churn (a trap for naive
rules). The latent truth goes to a separate folder that no pipeline asset reads.

Files written, as a company's exports would arrive:
  <landing>/accounts/accounts_<as_of>.csv            CRM snapshot
  <landing>/subscriptions/subscriptions_<as_of>.csv  subscription periods
  <landing>/usage_events/usage_events_<YYYY-MM>.parquet  one delivery per month
  <truth>/accounts_truth.csv                          latent risk, churn date and reason
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_SHARE = (0.6, 0.3, 0.1)
SEATS_RANGE = {"SMB": (1, 6), "Mid-Market": (5, 25), "Enterprise": (20, 60)}
MRR_PER_SEAT = {"SMB": 45.0, "Mid-Market": 60.0, "Enterprise": 75.0}
MONTHLY_HAZARD = {"SMB": 0.035, "Mid-Market": 0.02, "Enterprise": 0.012}
ANNUAL_SHARE = {"SMB": 0.2, "Mid-Market": 0.6, "Enterprise": 0.9}
PLANS = {"SMB": ("Starter", "Pro"), "Mid-Market": ("Pro", "Business"), "Enterprise": ("Business",)}
FEATURES = (
    "dashboards", "reports", "exports", "integrations", "alerts",
    "api", "sharing", "automation", "search", "admin",
)  # fmt: skip
VISIBLE_REASONS = ("price", "missing_features", "technical_problems", "poor_support", "competitor")
CSMS = ("Ana Ruiz", "Ben Okafor", "Chloe Martin", "Dev Patel", "Eva Novak")
FIRST_NAMES = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie")
LAST_NAMES = ("Smith", "Garcia", "Müller", "Kim", "Rossi", "Dubois", "Silva", "Nowak")
COUNTRIES = (("US", "America/New_York"), ("GB", "Europe/London"), ("DE", "Europe/Berlin"))


@dataclass(frozen=True)
class DemoSpec:
    accounts: int = 2000
    months: int = 18
    as_of: date = date(2026, 10, 31)
    seed: int = 42

    @property
    def history_start(self) -> date:
        start = pd.Timestamp(self.as_of) - pd.DateOffset(months=self.months) + timedelta(days=1)
        return start.date()


def _accounts(spec: DemoSpec, rng: np.random.Generator) -> pd.DataFrame:
    n = spec.accounts
    segment = rng.choice(SEGMENTS, size=n, p=SEGMENT_SHARE)
    lo = np.array([SEATS_RANGE[s][0] for s in segment])
    hi = np.array([SEATS_RANGE[s][1] for s in segment])
    seats = rng.integers(lo, hi + 1)
    annual = rng.random(n) < np.array([ANNUAL_SHARE[s] for s in segment])
    earliest = pd.Timestamp(spec.history_start) - pd.DateOffset(months=6)
    span_days = (pd.Timestamp(spec.as_of) - earliest).days - 14
    signup = earliest + pd.to_timedelta(rng.integers(0, span_days, n), unit="D")
    plan = np.array([PLANS[s][rng.integers(len(PLANS[s]))] for s in segment])
    country = rng.integers(len(COUNTRIES), size=n)
    first = rng.choice(FIRST_NAMES, n)
    last = rng.choice(LAST_NAMES, n)
    ids = np.array([f"A{i:05d}" for i in range(1, n + 1)])
    return pd.DataFrame(
        {
            "account_id": ids,
            "company_name": [
                f"{a} {b} Ltd" for a, b in zip(rng.choice(LAST_NAMES, n), ids, strict=True)
            ],
            "segment": segment,
            "plan": plan,
            "contract_term": np.where(annual, "annual", "monthly"),
            "seats": seats,
            "mrr": np.round(seats * np.array([MRR_PER_SEAT[s] for s in segment]), 2),
            "signup_date": signup.date,
            "csm_owner": rng.choice(CSMS, n),
            "contact_name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
            "contact_email": [
                f"{a}.{b}@{i.lower()}.example" for a, b, i in zip(first, last, ids, strict=True)
            ],
            "country": [COUNTRIES[c][0] for c in country],
            "timezone": [COUNTRIES[c][1] for c in country],
        }
    )


def _latent_truth(spec: DemoSpec, accounts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw each account's risk and, from it, whether and when it churns and why."""
    n = len(accounts)
    revealed = rng.normal(size=n)  # the part of risk that behaviour shows
    stable_quiet = rng.random(n) < 0.05  # low usage, low risk: must not be flagged
    revealed[stable_quiet] = -1.0
    base = accounts["segment"].map(MONTHLY_HAZARD).to_numpy() / 30.0
    daily_hazard = base * np.exp(0.9 * revealed)
    hidden_shock = rng.random(n) < 0.10  # budget cut / acquisition: not in any export
    daily_hazard = daily_hazard + np.where(hidden_shock, 0.004, 0.0)
    # Most churn happens in the first 90 days: double hazard while onboarding.
    early = 2.0 * daily_hazard
    u = rng.exponential(size=n)
    t = np.where(u < early * 90, u / early, 90 + (u - early * 90) / daily_hazard)
    signup = pd.to_datetime(accounts["signup_date"])
    churn = signup + pd.to_timedelta(np.ceil(t), unit="D")
    annual = accounts["contract_term"].eq("annual").to_numpy()
    years = np.ceil((churn - signup).dt.days / 365.0).clip(lower=1)
    at_renewal = signup + pd.to_timedelta(years * 365, unit="D")
    churn = churn.where(~annual, at_renewal)
    churned = churn <= pd.Timestamp(spec.as_of)

    involuntary = churned & (rng.random(n) < 0.12)
    reason = np.where(
        involuntary,
        "payment_failure",
        np.where(hidden_shock, "no_longer_needed", rng.choice(VISIBLE_REASONS, n)),
    )
    decays = churned & ~involuntary & ~hidden_shock
    return pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "revealed_risk": np.round(revealed, 4),
            "hidden_shock": hidden_shock,
            "stable_low_usage": stable_quiet,
            "churn_date": churn.dt.date.where(churned, None),
            "churn_reason": np.where(churned, reason, None),
            "churn_type": np.where(
                churned, np.where(involuntary, "involuntary", "voluntary"), None
            ),
            "usage_decays_before_churn": decays,
            "decay_days": np.where(decays, rng.integers(45, 120, n), 0),
            "winback_propensity": np.round(
                np.where(involuntary, 0.5, 0.15) * rng.uniform(0.5, 1.5, n), 3
            ),
        }
    )


def _subscriptions(accounts: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "subscription_id": "S" + accounts["account_id"].str[1:],
            "account_id": accounts["account_id"],
            "plan": accounts["plan"],
            "contract_term": accounts["contract_term"],
            "mrr": accounts["mrr"],
            "start_date": accounts["signup_date"],
            "end_date": truth["churn_date"],
            "cancel_reason": truth["churn_reason"],
        }
    )


def _month_events(
    month_start: date,
    spec: DemoSpec,
    accounts: pd.DataFrame,
    truth: pd.DataFrame,
    adopted: np.ndarray,
    first_event_id: int,
) -> pa.Table:
    """All usage events of one calendar month, built as an account x day grid."""
    rng = np.random.default_rng([spec.seed, month_start.year, month_start.month])
    month_end = min((pd.Timestamp(month_start) + pd.offsets.MonthEnd(0)).date(), spec.as_of)
    days = pd.date_range(max(month_start, spec.history_start), month_end, freq="D")
    n_acc, n_day = len(accounts), len(days)
    day_grid = np.broadcast_to(days.values, (n_acc, n_day))
    signup = pd.to_datetime(accounts["signup_date"]).values[:, None]
    churn = pd.to_datetime(truth["churn_date"]).values[:, None]
    alive = (day_grid >= signup) & ((day_grid < churn) | np.isnat(churn))

    # Team-level decay: usage fades towards the cancel date (daily -> weekly -> monthly).
    days_to_churn = (churn - day_grid) / np.timedelta64(1, "D")
    decay_days = truth["decay_days"].to_numpy()[:, None]
    fading = truth["usage_decays_before_churn"].to_numpy()[:, None] & (days_to_churn < decay_days)
    decay = np.where(fading, np.clip(days_to_churn / np.maximum(decay_days, 1), 0.05, 1.0), 1.0)

    revealed = truth["revealed_risk"].to_numpy()[:, None]
    quiet = truth["stable_low_usage"].to_numpy()[:, None]
    engagement = np.exp(-0.35 * revealed) * np.where(quiet, 0.25, 1.0)
    weekday = np.where(days.dayofweek.values >= 5, 0.15, 1.0)[None, :]
    holiday = np.where(
        ((days.month.values == 12) & (days.day.values >= 22)) | (days.month.values == 8), 0.6, 1.0
    )[None, :]
    seats = accounts["seats"].to_numpy()[:, None]
    intensity = alive * decay * engagement * weekday * holiday
    logins = rng.poisson(0.35 * seats * intensity)
    core = rng.poisson(0.25 * seats * intensity * np.exp(-0.3 * revealed))
    feature = rng.poisson(0.5 * seats * intensity)

    counts = {"login": logins, "core_action": core, "feature_use": feature}
    parts = []
    for event_type, grid in counts.items():
        flat = grid.ravel()
        cell = np.repeat(np.arange(flat.size), flat)
        parts.append((event_type, cell))
    event_type = np.concatenate([np.full(c.size, t) for t, c in parts])
    cell = np.concatenate([c for _, c in parts])
    acc_idx, day_idx = np.divmod(cell, n_day)
    n = cell.size

    # Users: breadth shrinks with risk, so fading accounts lean on fewer people.
    breadth = np.clip(0.8 - 0.15 * revealed[:, 0], 0.2, 1.0)
    active_users = np.maximum(1, np.round(accounts["seats"].to_numpy() * breadth)).astype(int)
    user_no = (rng.random(n) * active_users[acc_idx]).astype(np.int64)
    seconds = rng.integers(7 * 3600, 19 * 3600, n)
    occurred_at = days.values[day_idx] + seconds.astype("timedelta64[s]")
    session = np.where(
        event_type == "login",
        np.round(rng.lognormal(np.log(600) - 0.3 * revealed[acc_idx, 0], 0.7)),
        np.nan,
    )
    pick = (rng.random(n) * adopted[acc_idx].sum(axis=1)).astype(int)
    feature_idx = np.argmax(np.cumsum(adopted[acc_idx], axis=1) > pick[:, None], axis=1)
    feature_name = np.where(event_type == "feature_use", np.array(FEATURES)[feature_idx], None)

    account_ids = pa.array(accounts["account_id"].to_numpy()[acc_idx])
    user_ids = pc.binary_join_element_wise(account_ids, pa.array(user_no).cast(pa.string()), "-u")
    order = np.argsort(occurred_at, kind="stable")
    table = pa.table(
        {
            "account_id": account_ids,
            "user_id": user_ids,
            "event_type": pa.array(event_type),
            "occurred_at": pa.array(occurred_at.astype("datetime64[us]"), pa.timestamp("us")),
            "session_seconds": pa.array(session, from_pandas=True),
            "feature": pa.array(feature_name, pa.string()),
        }
    )
    # Ids rise with time, as an export's sequence numbers would.
    event_ids = pa.array(first_event_id + np.arange(n, dtype=np.int64))
    return table.take(pa.array(order)).add_column(0, "event_id", event_ids)


def _adopted_features(truth: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Which features each account uses: riskier accounts use fewer (feature depth)."""
    depth = np.clip(np.round(6 - 1.5 * truth["revealed_risk"].to_numpy()), 1, len(FEATURES))
    ranks = rng.random((len(truth), len(FEATURES))).argsort(axis=1)
    return ranks < depth[:, None]


def _renewal_dates(accounts: pd.DataFrame, as_of: date) -> pd.Series:
    signup = pd.to_datetime(accounts["signup_date"])
    term_days = np.where(accounts["contract_term"].eq("annual"), 365, 30)
    elapsed = (pd.Timestamp(as_of) - signup).dt.days
    periods = np.floor(elapsed / term_days) + 1
    return (signup + pd.to_timedelta(periods * term_days, unit="D")).dt.date


def generate_demo(spec: DemoSpec, landing_dir: Path, truth_dir: Path) -> dict[str, int]:
    """Write the demo exports and the ground truth; return row counts per file kind."""
    rng = np.random.default_rng(spec.seed)
    accounts = _accounts(spec, rng)
    truth = _latent_truth(spec, accounts, rng)
    adopted = _adopted_features(truth, rng)

    for folder in ("accounts", "subscriptions", "usage_events"):
        (landing_dir / folder).mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)

    crm = accounts.assign(renewal_date=_renewal_dates(accounts, spec.as_of))
    crm.to_csv(landing_dir / "accounts" / f"accounts_{spec.as_of}.csv", index=False)
    subscriptions = _subscriptions(accounts, truth)
    subscriptions.to_csv(
        landing_dir / "subscriptions" / f"subscriptions_{spec.as_of}.csv", index=False
    )
    truth.to_csv(truth_dir / "accounts_truth.csv", index=False)

    events = 0
    month = pd.Timestamp(spec.history_start).replace(day=1).date()
    while month <= spec.as_of:
        table = _month_events(month, spec, accounts, truth, adopted, first_event_id=events + 1)
        path = landing_dir / "usage_events" / f"usage_events_{month:%Y-%m}.parquet"
        pq.write_table(table, path)
        events += table.num_rows
        month = (pd.Timestamp(month) + pd.DateOffset(months=1)).date()
    return {"accounts": len(accounts), "subscriptions": len(subscriptions), "events": events}
