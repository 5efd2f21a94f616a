"""Which of the customer's own features the model keeps: event groups and CRM attributes.

Every event name a company sends becomes five columns (``ml.features``), so a rich
vocabulary adds dozens of features, most of them restating the role totals or nothing
at all; a declared CRM attribute may be noise too. Kept blindly, they cost the model
accuracy and every score a longer reasons step (on the demo, all twelve event groups
kept cost 0.012 of backtest ROC AUC on each of two test windows). Each event group and
each attribute therefore earns its place on rows the backtest never tests on: the
accounts of the training window are split in three, and for each third a ranking model
(the gradient-boosting pipeline without its calibration, which does not change the
order) is fitted on the other two. A group stays when shuffling its columns together
lowers the ROC AUC on the held-out thirds by more than
``model.feature_selection.min_auc_drop`` on average; groups that restate each other
(several event names for one experience) hide each other one at a time, so the groups
below the floor are also judged together (``_rescue_twins``). With fewer than
``model.feature_selection.min_churners`` churners none is used: a handful of churners
cannot tell a signal from noise, and on the tests' 320-account history (14 churners to
train on) the twelve demo event groups took the model below the health score. The fixed features always
stay. Split by account, not by time: the choice of columns is all that is learned
here, and a time split would cost a short history the months it needs for training.

The judging is the model step's largest cost (three fits and, per group, three
shuffled predictions per fold), so it reads at most
``model.feature_selection.max_rows`` training rows: whole accounts drawn by a hash of
their id, the same on every run. At 20,000 accounts (130,000 training rows) judging on
all of them took three quarters of the step; a sample of 30,000 rows still holds
about a thousand churners, enough to tell a drop of 0.01 from noise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from ml.candidates import ranking_pipeline
from ml.features import ATTRIBUTE_PREFIX, LABEL, split_event_column


def optional_groups(columns: list[str]) -> dict[str, list[str]]:
    """The columns to judge, by group: an event group's five columns under the group's
    name, each CRM attribute alone under its column name."""
    groups: dict[str, list[str]] = {}
    for column in columns:
        event = split_event_column(column)
        if event is not None:
            groups.setdefault(event[0], []).append(column)
        elif column.startswith(ATTRIBUTE_PREFIX):
            groups[column] = [column]
    return groups


FOLDS = 3


def _account_hashes(account_ids: pd.Series) -> pd.Series:
    """A number per account from its id: the same on every run and every machine."""
    return account_ids.map(
        lambda account: int(hashlib.sha256(str(account).encode()).hexdigest(), 16)
    )


def account_folds(account_ids: pd.Series) -> pd.Series:
    """Each account's fold, 0 to FOLDS - 1."""
    return _account_hashes(account_ids) % FOLDS


def judged_rows(train: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    """``train`` itself, or the rows of a hash-drawn share of its accounts that comes to
    about ``max_rows`` rows (whole accounts, so the folds stay apart)."""
    if len(train) <= max_rows:
        return train
    draw = (_account_hashes(train["account_id"]) // FOLDS % 10_000) / 10_000
    return train[draw < max_rows / len(train)]


def select_optional_features(
    train: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    model_config: dict[str, Any],
) -> tuple[list[str], list[str], dict[str, Any]]:
    """``numeric`` and ``categorical`` without the event groups and attributes that do
    not help, and a report for the model card (each group's AUC drop, which were kept,
    or why nothing was judged)."""
    groups = optional_groups(numeric + categorical)
    settings = model_config["feature_selection"]
    if not groups:
        return numeric, categorical, {"judged": False, "why": "no event or attribute features"}
    window_rows = len(train)
    train = judged_rows(train, settings["max_rows"])
    churners = int(train[LABEL].sum())
    folds = account_folds(train["account_id"])
    if churners < settings["min_churners"] or any(
        train.loc[folds == k, LABEL].nunique() < 2 for k in range(FOLDS)
    ):
        why = f"{churners} churners in the training window: too few to judge, none used"
        optional = {c for columns in groups.values() for c in columns}
        return (
            [c for c in numeric if c not in optional],
            [c for c in categorical if c not in optional],
            {"judged": False, "why": why, "dropped_groups": sorted(groups)},
        )
    fitted = []
    for k in range(FOLDS):
        fit, validation = train[folds != k], train[folds == k]
        ranker = ranking_pipeline(numeric, categorical, model_config).fit(fit, fit[LABEL])
        outcome = validation[LABEL].to_numpy().astype(int)
        base = roc_auc_score(outcome, ranker.predict_proba(validation)[:, 1])
        fitted.append(_Fold(ranker, validation, outcome, base))
    seed, repeats, floor = (
        model_config["random_state"],
        settings["repeats"],
        settings["min_auc_drop"],
    )

    def drop_of(names: list[str]) -> float:
        return _auc_drop(fitted, [c for name in names for c in groups[name]], repeats, seed)

    drops = {group: drop_of([group]) for group in groups}
    kept = {group for group, drop in drops.items() if drop > floor}
    rescued, weak_drop = _rescue_twins(sorted(set(groups) - kept), drop_of, floor)
    kept |= set(rescued)
    dropped = {c for group in set(groups) - kept for c in groups[group]}
    return (
        [c for c in numeric if c not in dropped],
        [c for c in categorical if c not in dropped],
        {
            "judged": True,
            "rows": len(train),
            "training_window_rows": window_rows,
            "churners": churners,
            "min_auc_drop": floor,
            "auc_drop_by_group": {
                g: round(d, 4) for g, d in sorted(drops.items(), key=lambda i: -i[1])
            },
            "kept_groups": sorted(kept),
            # kept although each alone was below the floor: another group carried
            # the same signal (ml.selection._rescue_twins)
            "kept_together_groups": rescued,
            "dropped_groups": sorted(set(groups) - kept),
            "dropped_together_auc_drop": round(weak_drop, 4),
        },
    )


def _rescue_twins(
    weak: list[str], drop_of: Callable[[list[str]], float], floor: float
) -> tuple[list[str], float]:
    """Groups that carry the same signal hide each other: shuffling one leaves its twins
    to the ranker, so each alone may lose less than the floor and all of them would go.
    The groups below the floor are therefore also shuffled together; when that loses
    more than the floor, they are ranked once by how much of it each one's return
    restores (all the others shuffled) and kept in that order until shuffling the rest
    loses no more than the floor. At most twice as many judgements as weak groups.
    Returns the groups kept this way and what shuffling the rest together loses."""
    together = drop_of(weak) if weak else 0.0
    if together <= floor:
        return [], together
    without = {group: drop_of([g for g in weak if g != group]) for group in weak}
    rescued: list[str] = []
    for group in sorted(weak, key=lambda g: (without[g], g)):
        rescued.append(group)
        rest = [g for g in weak if g not in rescued]
        together = drop_of(rest) if rest else 0.0
        if together <= floor:
            break
    return rescued, together


@dataclass(frozen=True)
class _Fold:
    """A ranking model fitted on two thirds of the accounts and the third it judges on."""

    ranker: Pipeline
    validation: pd.DataFrame
    outcome: np.ndarray
    base_auc: float  # its ROC AUC on the third, nothing shuffled


def _auc_drop(folds: list[_Fold], columns: list[str], repeats: int, seed: int) -> float:
    """Mean ROC AUC lost over the folds when ``columns`` are shuffled together (one
    permutation for all of them keeps their relation to each other)."""
    generator = np.random.default_rng(seed)
    lost = []
    for fold in folds:
        validation = fold.validation
        for _ in range(repeats):
            order = generator.permutation(len(validation))
            shuffled = validation.assign(**{c: validation[c].to_numpy()[order] for c in columns})
            score = fold.ranker.predict_proba(shuffled)[:, 1]
            lost.append(fold.base_auc - roc_auc_score(fold.outcome, score))
    return float(np.mean(lost))
