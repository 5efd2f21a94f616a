"""Ranking and calibration metrics for a churn backtest."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def top_decile_lift(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Churn rate among the 10% highest-scored accounts divided by the overall rate."""
    y_true = np.asarray(y_true)
    base_rate = y_true.mean()
    if base_rate == 0:
        return float("nan")
    top = np.argsort(-np.asarray(y_score), kind="stable")[: max(1, len(y_true) // 10)]
    return float(y_true[top].mean() / base_rate)


def evaluate(y_true: np.ndarray, y_score: np.ndarray) -> dict[str, float]:
    y_true = np.asarray(y_true).astype(int)
    if len(np.unique(y_true)) < 2:
        raise ValueError(
            f"backtest needs churners and non-churners in the test window; got {len(y_true)} rows "
            f"with {int(y_true.sum())} churners"
        )
    return {
        "roc_auc": float(roc_auc_score(y_true, y_score)),
        "pr_auc": float(average_precision_score(y_true, y_score)),
        "brier": float(brier_score_loss(y_true, y_score)),
        "top_decile_lift": top_decile_lift(y_true, y_score),
        "test_rows": len(y_true),
        "test_churn_rate": float(y_true.mean()),
    }
