"""Train the churn model: a time-ordered backtest of every candidate, then the final fit.

The backtest (``ml.backtest``) judges the calibrated gradient-boosting model, the
logistic baseline and the health score on the same later months. The model that is
saved is the gradient-boosting pipeline refitted on every labelled row, together with
what scoring needs later: the typical value of each feature (for reasons) and the
training distribution of each feature (for drift).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ml.backtest import backtest_split, date_window, run_backtest
from ml.candidates import CANDIDATES, GRADIENT_BOOSTING
from ml.drift import drift_reference
from ml.features import LABEL, feature_columns, labelled_rows
from ml.reasons import typical_values
from ml.selection import select_optional_features


@dataclass
class TrainedModel:
    pipeline: Pipeline
    kind: str
    numeric: list[str]
    categorical: list[str]
    backtest: dict[str, Any]
    training_window: tuple[str, str]
    rows: int
    typical: dict[str, Any] = field(default_factory=dict)
    drift_reference: dict[str, dict[str, Any]] = field(default_factory=dict)
    # churns the label rules kept out of training (ml.features.label_exclusions)
    label_exclusions: dict[str, Any] = field(default_factory=dict)
    # which event groups and CRM attributes earned their place (ml.selection)
    feature_selection: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    @property
    def metrics(self) -> dict[str, float]:
        """The saved model's own backtest figures (without its calibration table)."""
        own = self.backtest["models"][self.kind]
        return {k: v for k, v in own.items() if k != "calibration"}


def train_churn_model(
    snapshots: pd.DataFrame,
    model_config: dict[str, Any],
    bands: dict[str, float],
    label_exclusions: dict[str, Any] | None = None,
) -> TrainedModel:
    """Backtest on the newest labelled months, then refit on all labelled rows.
    ``label_exclusions`` (what the lead time and tenure floor removed) goes on the card."""
    labelled = labelled_rows(snapshots)
    if labelled.empty:
        raise ValueError("no labelled snapshot rows: the history is shorter than the horizon")
    numeric, categorical = feature_columns(labelled)
    if not numeric:
        raise ValueError("no usable numeric feature: every snapshot feature column is empty")
    with threadpool_limits(limits=model_config["threads"]):
        # chosen on the backtest's training window, so the test window judges the choice too
        numeric, categorical, selection = select_optional_features(
            backtest_split(snapshots, model_config)[0], numeric, categorical, model_config
        )
        backtest = run_backtest(snapshots, numeric, categorical, model_config, bands)
        final = CANDIDATES[GRADIENT_BOOSTING](numeric, categorical, model_config)
        final.fit(labelled, labelled[LABEL])
    return TrainedModel(
        pipeline=final,
        kind=GRADIENT_BOOSTING,
        numeric=numeric,
        categorical=categorical,
        backtest=backtest,
        training_window=date_window(labelled),
        rows=len(labelled),
        typical=typical_values(labelled, numeric, categorical),
        drift_reference=drift_reference(labelled, numeric),
        label_exclusions=label_exclusions or {},
        feature_selection=selection,
    )
