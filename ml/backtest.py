"""Time-ordered backtest: train on earlier observation dates, test on later ones.

Never a random split: a random split lets the model see an account's later months
while predicting its earlier ones. The training rows also stop ``embargo_days``
before the test window: a training row's label looks ``horizon_days`` ahead, so
without the gap the newest training labels would already contain the test window's
churns. Every candidate pipeline and the rule-based health score are judged on the
same test rows, so the report shows how much the model adds over the health score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from ml.candidates import CANDIDATES, GRADIENT_BOOSTING
from ml.features import LABEL, labelled_rows
from ml.forecast import forecast_backtest
from ml.metrics import (
    best_alert_budget,
    calibration_table,
    evaluate,
    require_both_classes,
    top_decile_lift,
)


def date_window(frame: pd.DataFrame) -> tuple[str, str]:
    dates = pd.to_datetime(frame["observation_date"])
    return (str(dates.min().date()), str(dates.max().date()))


def split_by_time(
    labelled: pd.DataFrame, test_months: int, embargo_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The labelled dates of the newest ``test_months`` months are the test window
    (three month starts, or about thirteen Mondays with weekly observation dates);
    training rows end ``embargo_days`` before it."""
    dates = np.sort(pd.to_datetime(labelled["observation_date"]).unique())
    if len(dates) == 0:
        raise ValueError("time-ordered backtest has no labelled observation dates")
    observed = pd.to_datetime(labelled["observation_date"])
    cutoff = first_test_day(pd.Timestamp(dates[-1]), test_months)
    if dates[0] >= cutoff:
        raise ValueError(
            f"time-ordered backtest needs labelled observation dates before the test window "
            f"(the last {test_months} months of them); the snapshots have {len(dates)}, "
            f"from {pd.Timestamp(dates[0]).date()} to {pd.Timestamp(dates[-1]).date()}"
        )
    first_test = dates[dates >= cutoff][0]
    train = labelled[observed <= first_test - pd.Timedelta(days=embargo_days)]
    if train.empty:
        raise ValueError(
            f"time-ordered backtest has no training rows: {len(dates)} labelled observation "
            f"dates, the last {test_months} months held out for testing and an embargo of "
            f"{embargo_days} days before them leave none"
        )
    return train, labelled[observed >= first_test]


def first_test_day(newest: pd.Timestamp, test_months: int) -> pd.Timestamp:
    """The first day of the test window: after the date ``test_months`` months before the
    newest labelled date (monthly: the newest ``test_months`` month starts)."""
    return newest - pd.DateOffset(months=test_months) + pd.Timedelta(days=1)


def health_bands(health_score: pd.Series, bands: dict[str, float]) -> pd.Series:
    return pd.Series(
        np.select(
            [health_score >= bands["green"], health_score >= bands["yellow"]],
            ["green", "yellow"],
            "red",
        ),
        index=health_score.index,
    )


def health_score_backtest(test: pd.DataFrame, bands: dict[str, float]) -> dict[str, Any]:
    """The health score as a ranking (lower health = riskier) on the same test rows."""
    y_true = test[LABEL].to_numpy().astype(int)
    risk = -test["health_score"].fillna(test["health_score"].median()).to_numpy()
    band = health_bands(test["health_score"], bands)
    per_band = (
        pd.DataFrame({"band": band, "churned": y_true})
        .groupby("band")["churned"]
        .agg(["size", "mean"])
        .reindex(["green", "yellow", "red"])
        .dropna(how="all")
    )
    return {
        "roc_auc": float(roc_auc_score(y_true, risk)),
        "top_decile_lift": top_decile_lift(y_true, risk),
        "churn_rate_by_band": {
            b: {"rows": int(r["size"]), "churn_rate": round(float(r["mean"]), 4)}
            for b, r in per_band.iterrows()
        },
    }


def fit_candidates(
    train: pd.DataFrame, numeric: list[str], categorical: list[str], model_config: dict[str, Any]
) -> dict[str, Pipeline]:
    """Every candidate pipeline fitted on the training window."""
    require_both_classes(train[LABEL].to_numpy(), "the backtest's training window")
    return {
        name: build(numeric, categorical, model_config).fit(train, train[LABEL])
        for name, build in CANDIDATES.items()
    }


def backtest_split(
    snapshots: pd.DataFrame, model_config: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The labelled rows split by time; the test window must hold both outcomes."""
    train, test = split_by_time(
        labelled_rows(snapshots), model_config["test_months"], model_config["embargo_days"]
    )
    require_both_classes(test[LABEL].to_numpy(), "the backtest's test window")
    return train, test


def run_backtest(
    snapshots: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    model_config: dict[str, Any],
    bands: dict[str, float],
) -> dict[str, Any]:
    """Every candidate and the health score judged on the same test window, and the
    aggregate forecast the gradient-boosting model would have made on each test date."""
    train, test = backtest_split(snapshots, model_config)
    fitted = fit_candidates(train, numeric, categorical, model_config)
    y_test = test[LABEL].to_numpy().astype(int)
    periods = test["observation_date"].nunique()
    models = {}
    for name, pipeline in fitted.items():
        probability = pipeline.predict_proba(test)[:, 1]
        models[name] = {
            **evaluate(y_test, probability),
            **best_alert_budget(
                y_test,
                probability,
                test["mrr"].fillna(0).to_numpy(),
                model_config["profit"],
                periods,
            ),
            "calibration": calibration_table(y_test, probability),
        }
    test_dates = list(pd.to_datetime(test["observation_date"]).unique())
    return {
        "train_window": date_window(train),
        "test_window": date_window(test),
        "train_rows": len(train),
        "test_rows": len(test),
        "embargo_days": model_config["embargo_days"],
        "models": models,
        "health_score": health_score_backtest(test, bands),
        "forecast": forecast_backtest(
            fitted[GRADIENT_BOOSTING], snapshots, test_dates, model_config
        ),
    }
