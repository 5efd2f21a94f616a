"""Which of the customer's event groups the model keeps.

Every event name a company sends becomes five columns (``ml.features``), so a rich
vocabulary adds dozens of features, most of them restating the role totals or nothing
at all. Kept blindly, they cost the model accuracy and every score a longer reasons
step. Each group therefore earns its place on rows the backtest never tests on: a
ranking model (the gradient-boosting pipeline without its calibration, which does not
change the order) is fitted on two thirds of the accounts of the training window, and
a group stays when shuffling its columns together lowers the ROC AUC on the other third
by more than ``model.event_selection.min_auc_drop``. The fixed features always stay.
Split by account, not by time: the choice of columns is all that is learned here, and a
time split would cost a short history the months it needs for training.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from ml.candidates import gradient_boosting
from ml.features import LABEL, split_event_column


def event_groups(numeric: list[str]) -> dict[str, list[str]]:
    """The event feature columns of ``numeric`` by group, in column order."""
    groups: dict[str, list[str]] = {}
    for column in numeric:
        event = split_event_column(column)
        if event is not None:
            groups.setdefault(event[0], []).append(column)
    return groups


def validation_accounts(account_ids: pd.Series) -> pd.Series:
    """A stable third of the accounts (by a hash of the id, so the same on every run)."""
    return account_ids.map(
        lambda account: int(hashlib.sha256(str(account).encode()).hexdigest(), 16) % 3 == 0
    )


def select_event_features(
    train: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    model_config: dict[str, Any],
) -> tuple[list[str], dict[str, Any]]:
    """``numeric`` without the event groups that do not help, and a report for the
    model card (each group's AUC drop, which were kept, or why nothing was judged)."""
    groups = event_groups(numeric)
    settings = model_config["event_selection"]
    if not groups:
        return numeric, {"judged": False, "why": "no event features"}
    held_out = validation_accounts(train["account_id"])
    fit, validation = train[~held_out], train[held_out]
    if fit[LABEL].nunique() < 2 or validation[LABEL].nunique() < 2:
        return numeric, {
            "judged": False,
            "why": "too few churners in the training window to judge the event groups: all kept",
        }
    ranker = _ranking_pipeline(numeric, categorical, model_config).fit(fit, fit[LABEL])
    drops = _group_auc_drops(ranker, validation, groups, settings["repeats"], model_config)
    kept = {group for group, drop in drops.items() if drop > settings["min_auc_drop"]}
    selected = [
        c for c in numeric if split_event_column(c) is None or split_event_column(c)[0] in kept
    ]
    return selected, {
        "judged": True,
        "validation_rows": len(validation),
        "min_auc_drop": settings["min_auc_drop"],
        "auc_drop_by_group": {
            g: round(d, 4) for g, d in sorted(drops.items(), key=lambda i: -i[1])
        },
        "kept_groups": sorted(kept),
        "dropped_groups": sorted(set(groups) - kept),
    }


def _ranking_pipeline(numeric: list[str], categorical: list[str], model_config: dict) -> Pipeline:
    calibrated = gradient_boosting(numeric, categorical, model_config)
    return Pipeline(
        [
            ("encode", calibrated.named_steps["encode"]),
            ("model", calibrated.named_steps["model"].estimator),
        ]
    )


def _group_auc_drops(
    ranker: Pipeline,
    validation: pd.DataFrame,
    groups: dict[str, list[str]],
    repeats: int,
    model_config: dict[str, Any],
) -> dict[str, float]:
    """Mean ROC AUC lost when one group's columns are shuffled together (the same
    permutation for all of a group's columns keeps their relation to each other)."""
    outcome = validation[LABEL].to_numpy().astype(int)
    base = roc_auc_score(outcome, ranker.predict_proba(validation)[:, 1])
    generator = np.random.default_rng(model_config["random_state"])
    drops = {}
    for group, columns in groups.items():
        lost = []
        for _ in range(repeats):
            order = generator.permutation(len(validation))
            shuffled = validation.assign(**{c: validation[c].to_numpy()[order] for c in columns})
            lost.append(base - roc_auc_score(outcome, ranker.predict_proba(shuffled)[:, 1]))
        drops[group] = float(np.mean(lost))
    return drops
