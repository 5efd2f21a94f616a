"""Which recently churned accounts are worth winning back, and with what offer.

DOMAIN.md §9: segment churned accounts by reason x value, tailor the offer to the
reason, follow up at 30/60/90 days after churn and stop after that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

WINBACK_COLUMNS = [
    "account_id", "company_name", "csm_owner", "segment", "churned_on", "days_since_churn",
    "churn_reason", "churn_type", "lifetime_value", "priority", "next_follow_up_day", "offer",
    "as_of_date",
]  # fmt: skip


def build_winback(accounts: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Accounts churned within ``window_days`` of the as-of date, highest value first."""
    churned = accounts[accounts["has_churned"]].copy()
    as_of = pd.to_datetime(churned["as_of_date"])
    churned["days_since_churn"] = (as_of - pd.to_datetime(churned["churned_on"])).dt.days
    churned["lifetime_value"] = (churned["mrr"] * churned["tenure_days"] / 30.0).round(2)
    recent = churned[
        (churned["days_since_churn"] <= cfg["window_days"])
        & (churned["lifetime_value"] >= cfg["min_lifetime_value"])
    ].copy()
    if recent.empty:
        return pd.DataFrame(columns=WINBACK_COLUMNS)
    high_value = recent["lifetime_value"] >= recent["lifetime_value"].median()
    involuntary = recent["churn_type"].eq("involuntary")
    recent["priority"] = np.select(
        [involuntary | high_value, recent["churn_reason"].eq("no_longer_needed")],
        ["high", "low"],
        "medium",
    )
    follow_ups = np.array([30, 60, 90])
    recent["next_follow_up_day"] = [
        int(follow_ups[follow_ups >= d][0]) if (follow_ups >= d).any() else None
        for d in recent["days_since_churn"]
    ]
    offers = cfg["offers"]
    recent["offer"] = recent["churn_reason"].map(offers).fillna(offers["other"])
    rank = recent["priority"].map({"high": 0, "medium": 1, "low": 2})
    return (
        recent.assign(_rank=rank)
        .sort_values(["_rank", "lifetime_value"], ascending=[True, False])[WINBACK_COLUMNS]
        .reset_index(drop=True)
    )
