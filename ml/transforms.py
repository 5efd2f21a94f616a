"""Numeric feature transforms fitted on training rows and saved inside the model.

Usage counts are fat-tailed: a few enterprise accounts log in a hundred times more than
the median. Clipping to the training percentiles keeps one extreme account (or a bad
night's value at scoring) from dominating; a log on the fat-tailed, non-negative
columns makes the logistic baseline's linear terms meaningful. Both are learned from
the training rows only and travel with the fitted pipeline, so scoring reuses exactly
the bounds the model was trained with.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class ClipAndLogTransform(TransformerMixin, BaseEstimator):
    """Clip every column to its training percentiles, then log1p the fat-tailed ones.

    A column counts as fat-tailed when it is non-negative and its upper clip bound is
    more than ``tail_ratio`` times its (75th percentile + 1). Missing values stay
    missing: the gradient-boosting model treats them natively and the logistic
    baseline imputes after this step.
    """

    def __init__(self, percentiles: tuple[float, float] = (1.0, 99.0), tail_ratio: float = 5.0):
        self.percentiles = percentiles
        self.tail_ratio = tail_ratio

    def fit(self, X, y=None):
        values = np.asarray(X, dtype="float64")
        low, high = self.percentiles
        with np.errstate(all="ignore"):
            empty = np.isnan(values).all(axis=0)
            filled = np.where(empty[None, :], 0.0, values)  # all-NaN columns: no bounds
            self.lower_ = np.nanpercentile(filled, low, axis=0)
            self.upper_ = np.nanpercentile(filled, high, axis=0)
            q75 = np.nanpercentile(filled, 75, axis=0)
            minimum = np.nanmin(filled, axis=0)
        self.log_columns_ = (minimum >= 0) & (self.upper_ > self.tail_ratio * (q75 + 1.0))
        self.n_features_in_ = values.shape[1]
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X):
        values = np.clip(np.asarray(X, dtype="float64"), self.lower_, self.upper_)
        values[:, self.log_columns_] = np.log1p(values[:, self.log_columns_])
        return values

    def get_feature_names_out(self, input_features=None):
        if input_features is not None:
            return np.asarray(input_features, dtype=object)
        if hasattr(self, "feature_names_in_"):
            return self.feature_names_in_
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)
