"""Feature drift between the training rows and tonight's scoring rows (PSI).

The population stability index compares a feature's distribution over the bins fixed
at training time (training deciles, plus a bin for missing values). Rule of thumb:
below 0.1 stable, 0.1-0.25 a shift worth a look, above 0.25 the model is scoring a
population it has not seen. The bins are saved with the model so every night compares
against the same reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

BINS = 10
FLOOR = 1e-4  # an empty bin would make the log-ratio infinite


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Share of rows per bin: the deciles between the edges, then the missing values."""
    missing = np.isnan(values)
    counts = np.bincount(
        np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1
    )
    return np.append(counts, missing.sum()) / max(len(values), 1)


def drift_reference(training: pd.DataFrame, numeric: list[str]) -> dict[str, dict[str, Any]]:
    """Bin edges (inner training deciles, de-duplicated) and training shares per feature."""
    reference = {}
    for column in numeric:
        values = training[column].to_numpy(dtype="float64")
        present = values[~np.isnan(values)]
        edges = (
            np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1]))
            if len(present)
            else np.array([])
        )
        reference[column] = {"edges": edges.tolist(), "shares": _shares(values, edges).tolist()}
    return reference


def population_stability(
    reference: dict[str, dict[str, Any]], scoring: pd.DataFrame
) -> dict[str, float]:
    """PSI per feature of ``scoring`` against the training reference, largest first."""
    psi = {}
    for column, ref in reference.items():
        if column not in scoring.columns:
            continue
        expected = np.maximum(np.asarray(ref["shares"]), FLOOR)
        actual = np.maximum(
            _shares(scoring[column].to_numpy(dtype="float64"), np.asarray(ref["edges"])), FLOOR
        )
        psi[column] = round(float(np.sum((actual - expected) * np.log(actual / expected))), 4)
    return dict(sorted(psi.items(), key=lambda item: -item[1]))
