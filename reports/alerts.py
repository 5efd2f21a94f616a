"""Turn tonight's scores into a short, owned, prioritised alert list per CSM.

Severity follows DOMAIN.md §5: it depends on the risk AND the account (contract value,
time to renewal). Each CSM gets at most ``max_per_csm_per_day`` alerts, the highest
revenue at risk first, because a CSM with 20+ alerts a day ignores all of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

ALERT_COLUMNS = [
    "account_id", "company_name", "csm_owner", "severity", "churn_probability", "risk_tier",
    "arr", "revenue_at_risk", "signal", "evidence", "model_reasons", "recommended_action", "due_by",
    "renewal_in_days", "as_of_date",
]  # fmt: skip
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def _dominant_signal(row: pd.Series, renewal_soon_days: int) -> tuple[str, str]:
    """The clearest observable reason behind the risk, with its numbers as evidence."""
    trend = row["logins_change_30v90"]
    if pd.notna(trend) and trend <= -0.3:
        return "usage_decline", (
            f"logins {trend:+.0%} vs prior 90-day average "
            f"({row['logins_30d']:.0f} in last 30 days vs {row['logins_prior_90d_monthly']:.0f}/month)"
        )
    if row["days_since_last_activity"] >= 14:
        return "no_recent_login", f"no activity for {row['days_since_last_activity']:.0f} days"
    if row["seats"] >= 5 and row["active_user_share_30d"] < 0.2:
        return "low_breadth", (
            f"{row['active_users_30d']:.0f} active users in 30 days of {row['seats']:.0f} seats"
        )
    if row["days_to_renewal"] <= renewal_soon_days:
        return "renewal_risk", f"renewal in {row['days_to_renewal']:.0f} days"
    return "general_risk", f"churn probability {row['churn_probability']:.0%}"


def _severity(row: pd.Series, cfg: dict[str, Any]) -> str:
    high_value = row["arr"] >= cfg["high_value_arr"]
    renewal_soon = row["days_to_renewal"] <= cfg["renewal_soon_days"]
    if row["risk_tier"] == "high":
        return "critical" if (high_value or renewal_soon) else "high"
    if row["risk_tier"] == "medium":
        return "high" if high_value and renewal_soon else "medium"
    return "low"


def build_alerts(
    scores: pd.DataFrame, snapshots: pd.DataFrame, accounts: pd.DataFrame, cfg: dict[str, Any]
) -> pd.DataFrame:
    """Alerts for accounts at or above ``min_probability``, capped per CSM."""
    # the owner tonight is the CRM's current one, not the snapshot's point-in-time one
    tonight = snapshots[snapshots["is_scoring_row"]].drop(columns=["mrr", "csm_owner"])
    frame = (
        scores[scores["churn_probability"] >= cfg["min_probability"]]
        .merge(tonight, on="account_id", how="left", validate="one_to_one")
        .merge(accounts[["account_id", "company_name", "csm_owner"]], on="account_id", how="left")
    )
    if frame.empty:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    signals = frame.apply(_dominant_signal, axis=1, args=(cfg["renewal_soon_days"],))
    frame["signal"] = [s for s, _ in signals]
    frame["evidence"] = [e for _, e in signals]
    # the model's own reasons for this account's score (ml.reasons), strongest first
    frame["model_reasons"] = frame["reasons"].map(
        lambda r: "; ".join(r) if isinstance(r, list | tuple | np.ndarray) else ""
    )
    frame["severity"] = frame.apply(_severity, axis=1, args=(cfg,))
    frame["recommended_action"] = frame["signal"].map(cfg["playbooks"])
    as_of = pd.to_datetime(frame["as_of_date"])
    sla = frame["severity"].map(cfg["sla_hours"]).astype(float)
    frame["due_by"] = (as_of + pd.to_timedelta(sla, unit="h")).dt.strftime("%Y-%m-%d %H:%M UTC")
    frame["renewal_in_days"] = frame["days_to_renewal"].astype(int)
    frame["severity_rank"] = frame["severity"].map(SEVERITY_ORDER)
    frame = frame.sort_values(
        ["csm_owner", "severity_rank", "revenue_at_risk"], ascending=[True, True, False]
    )
    capped = frame.groupby("csm_owner", sort=False).head(cfg["max_per_csm_per_day"])
    return capped.sort_values(["severity_rank", "revenue_at_risk"], ascending=[True, False])[
        ALERT_COLUMNS
    ].reset_index(drop=True)


def summarise(alerts: pd.DataFrame) -> dict[str, int]:
    counts = alerts["severity"].value_counts()
    return {sev: int(counts.get(sev, 0)) for sev in SEVERITY_ORDER}
