"""A history too short for the time settings stops with one message that names every
setting and values the history allows; those values do fit. Pure date arithmetic,
checked against the rules of the warehouse (observation dates, label knowledge) and the
backtest split."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
import yaml
from test_required_sources_only import SHORT_HISTORY_SETTINGS

from ml.backtest import split_by_time
from ml.history_fit import TimeSettings, history_problem, plan_dates
from pipeline_config import load_config

AS_OF = date(2026, 12, 1)
SIX_MONTHS_FROM = date(2026, 5, 31)
SETTINGS = (
    "metrics.min_history_days",
    "model.observation_dates",
    "model.horizon_days",
    "model.test_months",
    "model.embargo_days",
)


def _with(config: dict, changes: dict) -> dict:
    return {
        **config,
        "metrics": {**config["metrics"], **changes.get("metrics", {})},
        "model": {**config["model"], **changes.get("model", {})},
    }


def test_thirteen_months_fit_the_defaults():
    assert history_problem(date(2025, 10, 1), AS_OF, load_config()) is None


def test_six_months_name_every_time_setting_and_what_fits():
    message = history_problem(SIX_MONTHS_FROM, AS_OF, load_config())
    assert message is not None
    assert all(setting in message for setting in SETTINGS)
    assert "0 labelled dates" in message
    suggested = message.splitlines()[-1]
    for section, values in SHORT_HISTORY_SETTINGS.items():
        for key, value in values.items():
            assert f"{section}.{key}: {value}" in suggested


def test_the_suggested_settings_fit_and_split_as_the_backtest_does():
    config = _with(load_config(), SHORT_HISTORY_SETTINGS)
    assert history_problem(SIX_MONTHS_FROM, AS_OF, config) is None
    settings = TimeSettings.from_config(config)
    plan = plan_dates(SIX_MONTHS_FROM, AS_OF, settings)
    labelled = pd.DataFrame({"observation_date": pd.to_datetime(plan.labelled)})
    train, test = split_by_time(labelled, settings.test_months, settings.embargo_days)
    assert sorted(train["observation_date"].dt.date) == plan.train
    assert sorted(test["observation_date"].dt.date) == plan.test


def test_labels_wait_for_the_horizon_and_the_resign_gap():
    settings = TimeSettings.from_config(load_config())
    plan = plan_dates(date(2025, 1, 1), AS_OF, settings)
    newest = plan.labelled[-1]
    assert newest + timedelta(days=settings.horizon_days + settings.resign_gap_days) <= AS_OF
    assert (
        plan.dates[plan.dates.index(newest) + 1]
        + timedelta(days=settings.horizon_days + settings.resign_gap_days)
        > AS_OF
    )


def test_weekly_dates_are_mondays():
    config = _with(load_config(), {"model": {"observation_dates": "weekly"}})
    plan = plan_dates(date(2025, 1, 1), AS_OF, TimeSettings.from_config(config))
    assert {d.weekday() for d in plan.dates} == {0}


def test_renewal_observations_use_mondays_and_suggest_only_horizons_past_the_renewal():
    config = _with(load_config(), {"model": {"observation_dates": "before_renewal"}})
    settings = TimeSettings.from_config(config)
    assert {d.weekday() for d in plan_dates(date(2025, 1, 1), AS_OF, settings).dates} == {0}
    # six months fit a 30-day horizon, which ends before a renewal 30 days ahead: the
    # suggestion then observes weekly instead
    suggested = history_problem(SIX_MONTHS_FROM, AS_OF, config).splitlines()[-1]
    assert "model.observation_dates: weekly, model.horizon_days: 30" in suggested


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ({"observation_dates": "fortnightly"}, "model.observation_dates: 'fortnightly' is not"),
        ({"days_before_renewal": -3}, "model.days_before_renewal: -3 is not a whole"),
        (
            {"observation_dates": "before_renewal", "days_before_renewal": 60},
            r"model.horizon_days \(60\) ends before the renewal.*at least 67",
        ),
    ],
)
def test_observation_date_settings_that_cannot_work_are_refused(tmp_path, model, problem):
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"model": model}))
    with pytest.raises(ValueError, match=problem):
        load_config(path)


def test_three_months_are_too_short_for_any_setting():
    message = history_problem(date(2026, 9, 1), AS_OF, load_config())
    assert "deliver a longer usage history" in message
