"""The aggregate churn forecast (ml.forecast): its arithmetic, its interval's coverage, and
its backtest and nightly tables on the session's run."""

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from ml.artifacts import load_model
from ml.features import CHURNED_ON
from ml.forecast import (
    FORECASTS_TABLE,
    aggregate_forecast,
    forecasts_vs_actuals,
    window_probability,
    write_forecast,
)
from ml.score import SCORES_TABLE
from pipeline_config import load_config
from simulator.oracle import read_truth

FORECAST = {"days": 30, "interval": 0.9, "draws": 4000}
MODEL = {"horizon_days": 60, "lead_days": 7, "forecast": FORECAST}


def test_the_window_probability_scales_with_the_window_under_a_constant_hazard():
    p = np.array([0.0, 0.1, 0.5, 1.0])
    same = window_probability(p, {**MODEL, "forecast": {**FORECAST, "days": 53}})
    np.testing.assert_allclose(same, p)
    month = window_probability(p, MODEL)
    assert month[0] == 0 and month[-1] == 1
    assert np.all(month[1:3] < p[1:3])
    # two back-to-back months at the monthly probability survive like the label window
    np.testing.assert_allclose((1 - month) ** (53 / 30), 1 - p)


def test_the_forecast_sums_the_probabilities_and_brackets_them():
    rng = np.random.default_rng(3)
    probability = rng.uniform(0, 0.2, 1000)
    mrr = rng.lognormal(6, 1, 1000)
    forecast = aggregate_forecast(probability, mrr, FORECAST, seed=1)
    assert forecast["expected_logos"] == pytest.approx(probability.sum(), abs=0.01)
    assert forecast["expected_mrr_lost"] == pytest.approx(probability @ mrr, abs=0.01)
    assert forecast["logos_low"] < forecast["expected_logos"] < forecast["logos_high"]
    assert forecast["mrr_lost_low"] < forecast["expected_mrr_lost"] < forecast["mrr_lost_high"]
    certain = aggregate_forecast(np.ones(10), np.full(10, 5.0), FORECAST, seed=1)
    assert (certain["logos_low"], certain["logos_high"], certain["mrr_lost_low"]) == (10, 10, 50)


def test_a_90_percent_interval_covers_about_90_percent_of_calibrated_outcomes():
    """Outcomes drawn from the very probabilities: the interval must hold ~90% of them
    (a normal approximation or a mixed-up quantile would not)."""
    rng = np.random.default_rng(5)
    probability = rng.beta(0.3, 8, 1500)
    mrr = rng.lognormal(6, 1.2, 1500)
    forecast = aggregate_forecast(probability, mrr, FORECAST, seed=2)
    outcomes = rng.random((400, probability.size)) < probability
    logos, lost = outcomes.sum(axis=1), outcomes @ mrr
    logo_cover = np.mean((logos >= forecast["logos_low"]) & (logos <= forecast["logos_high"]))
    mrr_cover = np.mean((lost >= forecast["mrr_lost_low"]) & (lost <= forecast["mrr_lost_high"]))
    assert 0.85 <= logo_cover <= 0.97
    assert 0.85 <= mrr_cover <= 0.95


def test_the_backtest_table_counts_the_churns_the_ground_truth_holds(nightly_run, demo_dirs):
    """The card's forecast backtest: one row per test date, actual losses matching the
    simulator's own churn dates for the accounts observed that day."""
    _, card = load_model(demo_dirs.outputs / "models")
    rows = card["backtest"]["forecast"]
    assert [r["date"] for r in rows] == sorted({r["date"] for r in rows})
    assert len(rows) == load_config()["model"]["test_months"]
    truth = read_truth(demo_dirs.truth)
    con = duckdb.connect(str(demo_dirs.warehouse), read_only=True)
    try:
        for row in rows:
            day = pd.Timestamp(row["date"])
            observed = con.execute(
                "select account_id from marts.fct_account_snapshots "
                "where observation_date = ? and is_model_row and not is_scoring_row",
                [day.date()],
            ).df()
            assert row["accounts"] == len(observed)
            churned = truth[truth["account_id"].isin(observed["account_id"])]["churn_date"]
            in_window = ((churned >= day) & (churned < day + pd.Timedelta(days=30))).sum()
            assert abs(row["actual_logos"] - in_window) <= max(1, 0.1 * in_window)
            assert row["logos_low"] <= row["expected_logos"] <= row["logos_high"]
    finally:
        con.close()


def test_tonights_forecast_is_stored_once_per_night(nightly_run, warehouse):
    stored = warehouse.execute(f"select * from {FORECASTS_TABLE}").df()
    scores = warehouse.execute(
        f"select sum(churn_probability) as p, count(*) as n, max(as_of_date) as d "
        f"from {SCORES_TABLE}"
    ).df()
    assert len(stored) == 1
    assert stored["accounts"].iloc[0] == scores["n"].iloc[0]
    assert stored["as_of_date"].iloc[0] == scores["d"].iloc[0]
    # a month of a 53-day probability: below the scores' sum, above half of it
    assert 0.5 * scores["p"].iloc[0] < stored["expected_logos"].iloc[0] < scores["p"].iloc[0]


def test_closed_nightly_forecasts_are_compared_with_what_was_lost(nightly_run, demo_dirs, tmp_path):
    """An older night's forecast (scores written for a past month start) is judged
    against dim_accounts once its window and the re-sign gap have passed; the loss
    matches the snapshots' own churn dates for those accounts."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_dirs.warehouse, copy)
    con = duckdb.connect(str(copy))
    try:
        day = con.execute(
            "select max(observation_date) from marts.fct_account_snapshots "
            "where not is_scoring_row and churned_within_horizon is not null"
        ).fetchone()[0]
        past = con.execute(
            f"select account_id, observation_date, mrr, {CHURNED_ON} "
            "from marts.fct_account_snapshots where observation_date = ?",
            [day],
        ).df()
        con.execute(
            f"insert into {SCORES_TABLE} by name select account_id, observation_date as "
            "as_of_date, 0.05 as churn_probability, 'low' as risk_tier, mrr * 12 as arr, "
            "0 as revenue_at_risk, 'old' as model_version from past"
        )
        end = pd.Timestamp(day) + pd.Timedelta(days=30)
        write_forecast(
            con,
            {
                "as_of_date": day,
                "window_end": end.date(),
                **aggregate_forecast(np.full(len(past), 0.05), past["mrr"], FORECAST, 1),
                "model_version": "old",
            },
        )
        closed = forecasts_vs_actuals(con, SCORES_TABLE, resign_gap_days=30)
    finally:
        con.close()
    assert [r["as_of_date"] for r in closed] == [str(day)]  # tonight's window is still open
    churned_on = pd.to_datetime(past[CHURNED_ON])
    lost = (churned_on >= pd.Timestamp(day)) & (churned_on < end)
    assert closed[0]["actual_logos"] == lost.sum() > 0
    assert closed[0]["actual_mrr_lost"] == pytest.approx(past.loc[lost, "mrr"].sum(), abs=0.01)
