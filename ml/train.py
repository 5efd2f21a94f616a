"""Train the churn model with a time-ordered backtest.

The backtest trains on older observation months and tests on the newest labelled ones
(never a random split: a random split lets the model see an account's future months).
The model that is saved is then refitted on every labelled row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from threadpoolctl import threadpool_limits

from ml.features import LABEL, feature_columns
from ml.metrics import evaluate


@dataclass
class TrainedModel:
    pipeline: Pipeline
    numeric: list[str]
    categorical: list[str]
    metrics: dict[str, float]
    training_window: tuple[str, str]
    test_window: tuple[str, str]
    rows: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical


def build_pipeline(numeric: list[str], categorical: list[str], random_state: int) -> Pipeline:
    encode = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
            ("numeric", "passthrough", numeric),
        ]
    )
    booster = HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0,
        random_state=random_state,
    )  # fmt: skip
    calibrated = CalibratedClassifierCV(booster, method="isotonic", cv=3)
    return Pipeline([("encode", encode), ("model", calibrated)])


def split_by_time(labelled: pd.DataFrame, test_months: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    dates = np.sort(labelled["observation_date"].unique())
    if len(dates) <= test_months:
        raise ValueError(
            f"time-ordered backtest needs more than {test_months} labelled observation dates; "
            f"the snapshots have {len(dates)}"
        )
    cutoff = dates[-test_months]
    return labelled[labelled["observation_date"] < cutoff], labelled[
        labelled["observation_date"] >= cutoff
    ]


def _window(frame: pd.DataFrame) -> tuple[str, str]:
    dates = pd.to_datetime(frame["observation_date"])
    return (str(dates.min().date()), str(dates.max().date()))


def train_churn_model(snapshots: pd.DataFrame, model_config: dict[str, Any]) -> TrainedModel:
    """Backtest on the newest labelled months, then refit on all labelled rows."""
    labelled = snapshots[snapshots[LABEL].notna() & ~snapshots["is_scoring_row"]].copy()
    labelled[LABEL] = labelled[LABEL].astype(int)
    numeric, categorical = feature_columns(labelled)
    train, test = split_by_time(labelled, model_config["test_months"])
    if train[LABEL].nunique() < 2:
        raise ValueError(f"training window has {int(train[LABEL].sum())} churners; cannot train")
    seed = model_config["random_state"]
    with threadpool_limits(limits=model_config["threads"]):
        backtest = build_pipeline(numeric, categorical, seed).fit(train, train[LABEL])
        metrics = evaluate(test[LABEL].to_numpy(), backtest.predict_proba(test)[:, 1])
        final = build_pipeline(numeric, categorical, seed).fit(labelled, labelled[LABEL])
    return TrainedModel(
        pipeline=final,
        numeric=numeric,
        categorical=categorical,
        metrics=metrics,
        training_window=_window(labelled),
        test_window=_window(test),
        rows=len(labelled),
    )
