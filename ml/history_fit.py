"""Does the usage history hold enough labelled observation dates for the time settings?

Five settings together decide how many dates the model can train and be backtested on:
``metrics.min_history_days`` (the first observation date), ``model.observation_dates``
(monthly, or weekly Mondays, which ``before_renewal`` uses too), ``model.horizon_days``
(a date's label is known once its horizon has passed), ``model.test_months`` (the
held-out window) and ``model.embargo_days`` (the gap before it). With a short history the defaults (about 13 months) leave too few; the
run then stops with one message that names every setting, what it does with this
history, and a set of values this history allows, instead of a bare "needs more than 3
labelled observation dates" after the warehouse has been built.

Pure date arithmetic mirroring ``int_observation_dates_listed`` and the label rule of
``fct_account_snapshots``, so it is testable without a warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import product
from typing import Any

import duckdb
import pandas as pd

from ml.backtest import first_test_day
from pipeline_config.loader import RENEWAL_WEEK_DAYS

# Values tried, in order, when suggesting settings that fit: the smallest change first.
# A suggestion leaves at least this many training dates (one date trains, but barely).
SUGGESTED_MIN_TRAIN_DATES = 3
MIN_HISTORY_STEPS = (120, 90, 60, 30)
HORIZON_STEPS = (60, 30)
TEST_MONTHS_STEPS = (3, 2, 1)


@dataclass(frozen=True)
class TimeSettings:
    min_history_days: int
    observation_dates: str
    horizon_days: int
    test_months: int
    embargo_days: int
    resign_gap_days: int  # not suggested: a definition of churn, not a time budget
    days_before_renewal: int  # not suggested either: when CS acts, not how much data there is

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TimeSettings:
        model = config["model"]
        return cls(
            min_history_days=config["metrics"]["min_history_days"],
            observation_dates=model["observation_dates"],
            horizon_days=model["horizon_days"],
            test_months=model["test_months"],
            embargo_days=model["embargo_days"],
            resign_gap_days=config["churn"]["resign_gap_days"],
            days_before_renewal=model["days_before_renewal"],
        )

    def as_config(self) -> dict[str, Any]:
        return {
            "metrics.min_history_days": self.min_history_days,
            "model.observation_dates": self.observation_dates,
            "model.horizon_days": self.horizon_days,
            "model.test_months": self.test_months,
            "model.embargo_days": self.embargo_days,
        }


@dataclass(frozen=True)
class DatePlan:
    dates: list[date]  # the model's observation dates before the as-of date
    labelled: list[date]  # those whose horizon has passed
    train: list[date]
    test: list[date]

    @property
    def fits(self) -> bool:
        return bool(self.train) and bool(self.test)


def usage_history(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """The first usage day and tonight's as-of date (the scoring rows' date)."""
    first, as_of = con.execute(
        "select (select min(activity_date) from marts.fct_account_daily_usage), "
        "(select max(observation_date) from marts.fct_account_snapshots where is_scoring_row)"
    ).fetchone()
    return pd.Timestamp(first).date(), pd.Timestamp(as_of).date()


def plan_dates(first_usage: date, as_of: date, settings: TimeSettings) -> DatePlan:
    first = first_usage + timedelta(days=settings.min_history_days)
    days = pd.date_range(first, as_of - timedelta(days=1), freq="D")
    if settings.observation_dates in ("weekly", "before_renewal"):
        chosen = days[days.weekday == 0]
    else:
        chosen = days[days.day == 1]
    dates = [d.date() for d in chosen]
    known = settings.horizon_days + settings.resign_gap_days
    labelled = [d for d in dates if d + timedelta(days=known) <= as_of]
    if not labelled:
        return DatePlan(dates, labelled, [], [])
    start = first_test_day(pd.Timestamp(labelled[-1]), settings.test_months).date()
    test = [d for d in labelled if d >= start]
    embargo_end = test[0] - timedelta(days=settings.embargo_days)
    train = [d for d in labelled if d < start and d <= embargo_end]
    return DatePlan(dates, labelled, train, test)


def suggest(first_usage: date, as_of: date, settings: TimeSettings) -> TimeSettings | None:
    """The settings this history allows with the least change: each changed setting
    counts one, and every 30 days less usage history behind an observation date one more
    (the usage windows shrink with it); among equals, the most training dates. The
    embargo follows the horizon: a shorter one would leak the test window's churns."""
    reaching_renewal = settings.days_before_renewal + RENEWAL_WEEK_DAYS
    ranked = []
    for cadence, history, horizon, test_months in product(
        dict.fromkeys((settings.observation_dates, "weekly")),
        sorted({settings.min_history_days, *MIN_HISTORY_STEPS}, reverse=True),
        sorted({settings.horizon_days, *HORIZON_STEPS}, reverse=True),
        sorted({settings.test_months, *TEST_MONTHS_STEPS}, reverse=True),
    ):
        if (
            history > settings.min_history_days
            or horizon > settings.horizon_days
            or test_months > settings.test_months
            or (cadence == "before_renewal" and horizon < reaching_renewal)
        ):
            continue
        candidate = replace(
            settings,
            observation_dates=cadence,
            min_history_days=history,
            horizon_days=horizon,
            test_months=test_months,
            embargo_days=min(settings.embargo_days, horizon),
        )
        plan = plan_dates(first_usage, as_of, candidate)
        if not plan.fits or len(plan.train) < SUGGESTED_MIN_TRAIN_DATES:
            continue
        changed = sum(
            a != b
            for key, a, b in zip(
                candidate.as_config(), candidate.as_config().values(),
                settings.as_config().values(), strict=True,
            )
            if key != "model.embargo_days"
        )  # fmt: skip
        cost = changed + (settings.min_history_days - history) // 30
        ranked.append((cost, -len(plan.train), candidate))
    return min(ranked, key=lambda r: r[:2])[2] if ranked else None


def history_problem(first_usage: date, as_of: date, config: Mapping[str, Any]) -> str | None:
    """None when the settings leave training and test dates; else the one message."""
    settings = TimeSettings.from_config(config)
    plan = plan_dates(first_usage, as_of, settings)
    if plan.fits:
        return None
    days = (as_of - first_usage).days
    first_date = plan.dates[0].isoformat() if plan.dates else "none before the as-of date"
    lines = [
        f"not enough history to train and backtest the churn model: usage from {first_usage} "
        f"to the as-of date {as_of} ({days} days). The time settings use it this way:",
        f"  metrics.min_history_days = {settings.min_history_days}: the first observation "
        f"date is {first_date}",
        f"  model.observation_dates = {settings.observation_dates}: {len(plan.dates)} "
        "observation dates",
        f"  model.horizon_days = {settings.horizon_days}: a date's label is known once its "
        f"horizon and churn.resign_gap_days ({settings.resign_gap_days}) after it have "
        f"passed; {len(plan.labelled)} labelled dates",
        f"  model.test_months = {settings.test_months}: {len(plan.test)} of them held out for "
        "the backtest",
        f"  model.embargo_days = {settings.embargo_days}: {len(plan.train)} training dates "
        "end this long before the test window",
    ]
    fitting = suggest(first_usage, as_of, settings)
    if fitting is None:
        lines.append(
            "Even the shortest values tried (metrics.min_history_days "
            f"{MIN_HISTORY_STEPS[-1]}, model.horizon_days {HORIZON_STEPS[-1]}, weekly dates, "
            f"model.test_months {TEST_MONTHS_STEPS[-1]}) leave fewer than "
            f"{SUGGESTED_MIN_TRAIN_DATES} training dates: deliver a longer usage history."
        )
    else:
        fitted = plan_dates(first_usage, as_of, fitting)
        changed = {k: v for k, v in fitting.as_config().items() if settings.as_config()[k] != v}
        lines.append(
            "This history allows, for example: "
            + ", ".join(f"{k}: {v}" for k, v in changed.items())
            + f" ({len(fitted.train)} training and {len(fitted.test)} test dates)."
        )
    return "\n".join(lines)
