"""Product usage events, generated month by month in chunks of accounts.

Each chunk is an account x user x day grid: a user is active on a day with a
probability built from the account's engagement, team-level decay before a cancel,
onboarding, weekends, holidays and the user's own vacations. Active days become
sessions, and sessions become events (a session start with its duration, core actions
and feature uses). Only one chunk is in memory at a time, so memory stays flat however
many events are written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from simulator import catalog
from simulator.spec import SimulationSpec

DAY_NS = np.timedelta64(1, "D")
COUNTRY_CODES = sorted({country for country, _, _ in catalog.COUNTRIES})
EVENT_NAMES = (
    catalog.SESSION_EVENT,
    catalog.CORE_ACTION_EVENT,
    *(catalog.FEATURE_EVENTS[f] for f in catalog.FEATURES),
)
SCHEMA = pa.schema(
    [
        ("event_id", pa.int64()),
        ("account_id", pa.dictionary(pa.int32(), pa.string())),
        ("user_id", pa.dictionary(pa.int32(), pa.string())),
        ("event_type", pa.dictionary(pa.int32(), pa.string())),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("session_seconds", pa.float64()),
        ("feature", pa.dictionary(pa.int32(), pa.string())),
    ]
)


def holiday_calendar(spec: SimulationSpec) -> pd.DataFrame:
    """The dips the company's users take together (a trap for alert rules): each
    country's public holidays and the company's breaks, as the ground truth records them."""
    from alerts.seasonality import build_holiday_calendar

    countries = sorted({country for country, _, _ in catalog.COUNTRIES})
    calendar, _ = build_holiday_calendar(
        countries,
        spec.history_start.year,
        spec.as_of.year,
        {
            "public_holidays": True,
            "public_holiday_activity": catalog.PUBLIC_HOLIDAY_ACTIVITY,
            "ranges": catalog.COMPANY_BREAKS,
        },
    )
    return calendar


def _holiday_factors(
    calendar: pd.DataFrame, countries: list[str], days: pd.DatetimeIndex
) -> np.ndarray:
    """Expected share of normal activity per country (rows) and day (columns): the
    lowest of the company's breaks and the country's public holidays, else 1."""
    factors = np.ones((len(countries), len(days)))
    position = {day: i for i, day in enumerate(days.date)}
    for row in calendar.itertuples(index=False):
        column = position.get(row.holiday_date)
        if column is None:
            continue
        if pd.isna(row.country):
            rows = slice(None)  # a company break: every country
        elif row.country in countries:
            rows = countries.index(row.country)
        else:
            continue
        factors[rows, column] = np.minimum(factors[rows, column], row.expected_activity)
    return factors


@dataclass(frozen=True)
class AccountState:
    """Per-account arrays the event grid needs, prepared once for all months."""

    account_ids: np.ndarray
    signup: np.ndarray
    churn: np.ndarray  # true churn (NaT: none), including churn after the as-of date
    reactivated: np.ndarray
    decay_days: np.ndarray
    engagement: np.ndarray
    risk: np.ndarray
    utc_offset_hours: np.ndarray
    core_start_day: np.ndarray  # first value: first core action this many days after signup
    adopt_step: np.ndarray  # days between adopting one more feature
    depth: np.ndarray  # how many features the account ends up using
    feature_order: np.ndarray  # adoption order of feature indices, per account
    user_start: np.ndarray  # users of account i are rows user_start[i]:user_start[i+1]
    country_index: np.ndarray  # position of the account's country in COUNTRY_CODES


def prepare_accounts(
    accounts: pd.DataFrame, lifecycle: pd.DataFrame, users: pd.DataFrame, rng: np.random.Generator
) -> AccountState:
    n = len(accounts)
    risk = accounts["latent_risk"].to_numpy()
    missed = accounts["latent_missed_onboarding"].to_numpy()
    core_bias = np.where(np.arange(len(catalog.FEATURES)) < len(catalog.CORE_FEATURES), -0.6, 0.0)
    order = (rng.random((n, len(catalog.FEATURES))) + core_bias).argsort(axis=1)
    counts = np.bincount(users["account_index"].to_numpy(), minlength=n)
    return AccountState(
        account_ids=accounts["account_id"].to_numpy().astype(str),
        signup=accounts["signup_date"].to_numpy().astype("datetime64[ns]"),
        churn=lifecycle["churn_date"].to_numpy().astype("datetime64[ns]"),
        reactivated=lifecycle["reactivated_on"].to_numpy().astype("datetime64[ns]"),
        decay_days=np.where(lifecycle["usage_decays_before_churn"], lifecycle["decay_days"], 0),
        engagement=accounts["latent_engagement"].to_numpy(),
        risk=risk,
        utc_offset_hours=accounts["utc_offset_hours"].to_numpy(),
        core_start_day=np.where(missed, rng.integers(31, 75, n), rng.integers(1, 12, n)),
        adopt_step=np.where(missed, rng.integers(25, 50, n), rng.integers(5, 20, n)),
        depth=np.clip(np.round(6 - 1.5 * risk + rng.normal(0, 0.7, n)), 1, len(catalog.FEATURES)),
        feature_order=order,
        user_start=np.concatenate([[0], np.cumsum(counts)]),
        country_index=accounts["country"].map(COUNTRY_CODES.index).to_numpy(),
    )


def _account_day_intensity(state: AccountState, a: slice, days: np.ndarray):
    """Alive mask, intensity multiplier and tenure (days) on an account x day grid."""
    day = days[None, :]
    signup = state.signup[a, None]
    churn = state.churn[a, None]
    back = state.reactivated[a, None]
    alive = (day >= signup) & ((day < churn) | np.isnat(churn) | (day >= back))
    tenure = (day - signup) / DAY_NS
    to_churn = (churn - day) / DAY_NS
    decay_days = state.decay_days[a, None]
    fading = (decay_days > 0) & (to_churn > 0) & (to_churn < decay_days) & ~(day >= back)
    # Team-level decay: usage goes daily -> weekly -> monthly before the cancel.
    decay = np.where(
        fading,
        np.maximum(
            np.clip(np.nan_to_num(to_churn / np.maximum(decay_days, 1), nan=1.0), 0.0, 1.0) ** 1.5,
            0.03,
        ),
        1.0,
    )
    onboarding = np.where((tenure < 60) & (state.core_start_day[a, None] > 30), 0.5, 1.0)
    return alive, state.engagement[a, None] * decay * onboarding, decay, tenure


def vacation_mask(offsets: np.ndarray, day_ordinal: np.ndarray) -> np.ndarray:
    """Users (rows, two vacation offsets each) x days: on one of their vacations."""
    days = day_ordinal[None, :]
    return ((days - offsets[:, :1]) % 365 < catalog.VACATION_DAYS) | (
        (days - offsets[:, 1:]) % 365 < catalog.VACATION_DAYS
    )


def month_chunks(
    spec: SimulationSpec,
    state: AccountState,
    users: pd.DataFrame,
    month: date,
    calendar: pd.DataFrame,
) -> Iterator[pa.Table]:
    """Yield the events of one calendar month, one table per chunk of accounts.

    Events are drawn for every user-day a user would be active without the traps
    (vacations, holidays), then the trap days are dropped: the company generated with a
    trap switched off (``spec.vacations`` / ``spec.holidays``) has the very same events
    on every other day, so a counterfactual run isolates what the trap alone causes.
    """
    month_end = min((pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date(), spec.as_of)
    days_index = pd.date_range(max(month, spec.history_start), month_end, freq="D")
    days = days_index.values.astype("datetime64[ns]")
    weekend = np.where(days_index.dayofweek >= 5, catalog.WEEKEND_ACTIVITY, 1.0)
    holidays = _holiday_factors(calendar, COUNTRY_CODES, days_index)
    day_ordinal = (days - np.datetime64("1970-01-01", "ns")) // DAY_NS
    n_accounts = len(state.account_ids)
    user_ids = users["user_id"].to_numpy().astype(str)
    user_rank = users["rank"].to_numpy()
    user_engagement = users["user_engagement"].to_numpy()
    created = users["created_at"].to_numpy().astype("datetime64[ns]")
    deactivated = users["deactivated_at"].to_numpy().astype("datetime64[ns]")
    vacations = users[["vacation_offset_1", "vacation_offset_2"]].to_numpy()
    team_size = np.diff(state.user_start)
    cutoff = np.datetime64(spec.as_of, "us") + np.timedelta64(1, "D")

    for chunk_no, first in enumerate(range(0, n_accounts, spec.chunk_accounts)):
        a = slice(first, min(first + spec.chunk_accounts, n_accounts))
        rng = np.random.default_rng([spec.seed, month.year, month.month, chunk_no])
        alive, intensity, decay, tenure = _account_day_intensity(state, a, days)
        u = slice(state.user_start[a.start], state.user_start[a.stop])
        acc_of_user = np.repeat(np.arange(a.start, a.stop), team_size[a]) - a.start
        # Breadth shrinks with decay: the quietest users drift away first.
        still_engaged = user_rank[u, None] < np.ceil(
            team_size[a][acc_of_user, None] * decay[acc_of_user]
        )
        exists = (days[None, :] >= created[u, None]) & (
            np.isnat(deactivated[u, None]) | (days[None, :] < deactivated[u, None])
        )
        p_active = (
            0.6 * spec.activity * intensity[acc_of_user] * user_engagement[u, None]
            * weekend[None, :]
        )  # fmt: skip
        draw = rng.random(p_active.shape)
        would_be_active = (
            alive[acc_of_user] & exists & still_engaged & (draw < np.clip(p_active, 0, 0.95))
        )
        active = would_be_active
        if spec.holidays:
            holiday = holidays[state.country_index[a][acc_of_user]]
            active = active & (draw < np.clip(p_active * holiday, 0, 0.95))
        if spec.vacations:
            active = active & ~vacation_mask(vacations[u], day_ordinal)
        yield _events_for_active_days(
            rng, state, a, u, acc_of_user, would_be_active, active, days, tenure, user_ids, cutoff
        )


def _events_for_active_days(
    rng: np.random.Generator,
    state: AccountState,
    a: slice,
    u: slice,
    acc_of_user: np.ndarray,
    would_be_active: np.ndarray,
    active: np.ndarray,
    days: np.ndarray,
    tenure: np.ndarray,
    user_ids: np.ndarray,
    cutoff: np.datetime64,
) -> pa.Table:
    """Events of the user-days active without the traps, keeping those of ``active``."""
    user_local, day_idx = np.nonzero(would_be_active)
    acc_local = acc_of_user[user_local]
    acc = acc_local + a.start
    engagement = state.engagement[acc]
    sessions = 1 + rng.poisson(0.25 * engagement)
    s_user = np.repeat(user_local, sessions)
    s_day = np.repeat(day_idx, sessions)
    s_acc = np.repeat(acc, sessions)
    s_tenure = tenure[s_acc - a.start, s_day]
    n_s = s_user.size
    # Sessions: local working hours; short sessions mark disengaged and new, unonboarded accounts.
    start_sec = rng.integers(7 * 3600, 21 * 3600, n_s) - state.utc_offset_hours[s_acc] * 3600
    early_penalty = np.where((s_tenure < 30) & (state.core_start_day[s_acc] > 30), 1.2, 0.0)
    duration = np.clip(
        np.round(rng.lognormal(np.log(900) - 0.3 * state.risk[s_acc] - early_penalty, 0.8)),
        10,
        4 * 3600,
    )
    core_ok = s_tenure >= state.core_start_day[s_acc]
    n_core = np.where(core_ok, rng.poisson(0.6 * np.exp(-0.3 * state.risk[s_acc])), 0)
    n_feat = rng.poisson(1.2, n_s)

    per_session = 1 + n_core + n_feat
    e_session = np.repeat(np.arange(n_s), per_session)
    pos = np.arange(e_session.size) - np.repeat(np.cumsum(per_session) - per_session, per_session)
    kind = np.where(pos == 0, 0, np.where(pos <= n_core[e_session], 1, 2))  # session/core/feature
    e_acc = s_acc[e_session]
    adopted = np.minimum(
        state.depth[e_acc], 1 + s_tenure[e_session] // state.adopt_step[e_acc]
    ).astype(int)
    pick = (rng.random(e_session.size) * adopted).astype(int)
    feature_idx = state.feature_order[e_acc, pick]
    type_code = np.where(kind == 0, 0, np.where(kind == 1, 1, 2 + feature_idx)).astype(np.int32)
    offset = np.where(kind == 0, 0, rng.random(e_session.size) * duration[e_session])
    occurred = (
        days[s_day[e_session]] + ((start_sec[e_session] + offset) * 1e6).astype("timedelta64[us]")
    ).astype("datetime64[us]")
    # The export is cut at midnight UTC after the as-of date; evening sessions west of
    # UTC that spill past it belong to the next delivery. Trap days are dropped here.
    session_kept = active[s_user, s_day]
    kept = np.nonzero((occurred < cutoff) & session_kept[e_session])[0]
    order = kept[np.argsort(occurred[kept], kind="stable")]

    def take(x: np.ndarray) -> np.ndarray:
        return x[order]

    is_feature = take(kind) == 2
    return pa.table(
        {
            "account_id": pa.DictionaryArray.from_arrays(
                pa.array(take(e_acc - a.start), pa.int32()), pa.array(state.account_ids[a])
            ),
            "user_id": pa.DictionaryArray.from_arrays(
                pa.array(take(s_user[e_session]), pa.int32()), pa.array(user_ids[u])
            ),
            "event_type": pa.DictionaryArray.from_arrays(
                pa.array(take(type_code)), pa.array(EVENT_NAMES)
            ),
            "occurred_at": pa.array(take(occurred), pa.timestamp("us", tz="UTC")),
            "session_seconds": pa.array(
                np.where(take(kind) == 0, take(duration[e_session]), np.nan), from_pandas=True
            ),
            "feature": pa.DictionaryArray.from_arrays(
                pa.array(take(feature_idx), pa.int32(), mask=~is_feature),
                pa.array(catalog.FEATURES),
            ),
        }
    )
