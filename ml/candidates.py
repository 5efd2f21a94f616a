"""The two model pipelines: calibrated gradient boosting, and a logistic baseline.

Both start with the same fitted transforms (``ml.transforms``), so whatever the
model learned about a feature's scale is saved with it and reused at scoring.
"""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ml.transforms import ClipAndLogTransform

GRADIENT_BOOSTING = "gradient_boosting"
LOGISTIC_BASELINE = "logistic_baseline"


class SparseSafeBoosting(HistGradientBoostingClassifier):
    """Histogram gradient boosting that accepts a column without a single value in the
    rows it is fitted on. An optional export that is empty, or began recently, leaves
    such columns in some of the calibration folds (folds follow time), and
    scikit-learn's binning refuses them. Such a column carries nothing to learn: it is
    read as a constant 0 in fit and, for the same model, in prediction."""

    def fit(self, X, y, sample_weight=None):
        values = np.asarray(X, dtype="float64")
        self.empty_columns_ = np.isnan(values).all(axis=0)
        return super().fit(self._filled(values), y, sample_weight=sample_weight)

    def _filled(self, X):
        values = np.array(X, dtype="float64")
        values[:, self.empty_columns_] = 0.0
        return values

    def predict_proba(self, X):
        return super().predict_proba(self._filled(X))

    def decision_function(self, X):
        return super().decision_function(self._filled(X))

    def predict(self, X):
        return super().predict(self._filled(X))


def _encoder(numeric: list[str], categorical: list[str], numeric_steps: list) -> ColumnTransformer:
    return ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
            ("numeric", Pipeline(numeric_steps), numeric),
        ]
    )


def _booster(config: dict) -> SparseSafeBoosting:
    return SparseSafeBoosting(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0,
        random_state=config["random_state"],
    )  # fmt: skip


def _boosting_encoder(numeric: list[str], categorical: list[str], config: dict):
    clip = ClipAndLogTransform(percentiles=tuple(config["clip_percentiles"]))
    return _encoder(numeric, categorical, [("clip_log", clip)])


def gradient_boosting(numeric: list[str], categorical: list[str], config: dict) -> Pipeline:
    """Histogram gradient boosting (missing values handled natively), with probabilities
    calibrated (``model.calibration``) on held-out folds of the training rows."""
    calibrated = CalibratedClassifierCV(_booster(config), method=config["calibration"], cv=3)
    return Pipeline(
        [("encode", _boosting_encoder(numeric, categorical, config)), ("model", calibrated)]
    )


def ranking_pipeline(numeric: list[str], categorical: list[str], config: dict) -> Pipeline:
    """The same boosting without calibration: the order of the scores only, at a third
    of the cost (feature selection compares rankings, ``ml.selection``)."""
    return Pipeline(
        [("encode", _boosting_encoder(numeric, categorical, config)), ("model", _booster(config))]
    )


def logistic_baseline(numeric: list[str], categorical: list[str], config: dict) -> Pipeline:
    """L2-regularised logistic regression on clipped, logged, imputed and scaled features
    (a missing value gets the training median plus a was-missing indicator)."""
    numeric_steps = [
        ("clip_log", ClipAndLogTransform(percentiles=tuple(config["clip_percentiles"]))),
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
        ("scale", StandardScaler()),
    ]
    return Pipeline(
        [
            ("encode", _encoder(numeric, categorical, numeric_steps)),
            ("model", LogisticRegression(C=config["logistic_c"], max_iter=2000)),
        ]
    )


CANDIDATES = {GRADIENT_BOOSTING: gradient_boosting, LOGISTIC_BASELINE: logistic_baseline}
