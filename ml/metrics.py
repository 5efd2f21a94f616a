"""Ranking, calibration and profit metrics for a churn backtest.

AUC says whether churners rank above the rest; Brier and the calibration table say
whether a "30%" really means 30%; the profit figures say whether contacting the top of
the list pays for itself (DOMAIN.md §8: judge models by profit, not only AUC).
"""

from __future__ import annotations

from typing import Any

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


def require_both_classes(y_true: np.ndarray, what: str) -> None:
    if len(np.unique(y_true)) < 2:
        raise ValueError(
            f"{what} needs churners and non-churners; got {len(y_true)} rows "
            f"with {int(np.sum(y_true))} churners"
        )


def evaluate(y_true: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """Ranking and calibration metrics of predicted churn probabilities."""
    y_true = np.asarray(y_true).astype(int)
    require_both_classes(y_true, "the backtest's test window")
    return {
        "roc_auc": float(roc_auc_score(y_true, probability)),
        "pr_auc": float(average_precision_score(y_true, probability)),
        "brier": float(brier_score_loss(y_true, probability)),
        "top_decile_lift": top_decile_lift(y_true, probability),
        "test_rows": len(y_true),
        "test_churn_rate": float(y_true.mean()),
    }


def calibration_table(
    y_true: np.ndarray, probability: np.ndarray, bins: int = 10
) -> list[dict[str, Any]]:
    """Predicted vs observed churn rate per decile of predicted probability.

    Quantile bins (not fixed-width ones): most accounts sit below 10%, so fixed bins
    would put nearly everyone in the first one.
    """
    y_true = np.asarray(y_true).astype(int)
    probability = np.asarray(probability, dtype="float64")
    order = np.argsort(probability, kind="stable")
    rows = []
    for number, part in enumerate(np.array_split(order, bins), start=1):
        if len(part) == 0:
            continue
        rows.append(
            {
                "bin": number,
                "rows": len(part),
                "mean_predicted": round(float(probability[part].mean()), 4),
                "observed_rate": round(float(y_true[part].mean()), 4),
                "min_predicted": round(float(probability[part].min()), 4),
                "max_predicted": round(float(probability[part].max()), 4),
            }
        )
    return rows


def best_alert_budget(
    y_true: np.ndarray,
    y_score: np.ndarray,
    monthly_value: np.ndarray,
    profit: dict[str, float],
    periods: int,
) -> dict[str, float]:
    """The number of top-ranked accounts to contact that maximises the backtest's profit.

    Contacting an account costs ``contact_cost``; a contacted churner is saved with
    probability ``save_rate`` and then keeps paying ``monthly_value`` for
    ``months_retained`` months. Profit is counted on the backtest's real outcomes, per
    observation date (``periods``), so it reads as "per monthly run".
    """
    y_true = np.asarray(y_true).astype(int)
    order = np.argsort(-np.asarray(y_score), kind="stable")
    saved_value = (
        y_true[order] * np.asarray(monthly_value, dtype="float64")[order]
        * profit["save_rate"] * profit["months_retained"]
    )  # fmt: skip
    cumulative = np.cumsum(saved_value) - profit["contact_cost"] * np.arange(1, len(order) + 1)
    best = int(np.argmax(cumulative))
    best_profit = max(float(cumulative[best]), 0.0)  # contacting nobody earns 0
    contacted = best + 1 if cumulative[best] > 0 else 0
    return {
        "best_budget_accounts_per_period": round(contacted / periods, 1),
        "best_budget_share": round(contacted / len(order), 4),
        "profit_per_period": round(best_profit / periods, 2),
        "contact_all_profit_per_period": round(float(cumulative[-1]) / periods, 2),
    }
