"""Crafted accounts at the grain the alert rules read (marts.fct_account_alert_signals):
a healthy, steady account, changed only where a test says. Shared by the rule and
engine tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

HEALTHY: dict[str, Any] = {
    "is_scoring_row": False,
    "company_name": "Steady Co",
    "segment": "Mid-Market",
    "plan": "Pro",
    "contract_term": "monthly",
    "csm_owner": "Ana Ruiz",
    "country": "US",
    "seats": 10,
    "mrr": 1000.0,
    "arr": 12000.0,
    "tenure_days": 400,
    "days_to_renewal": 200,
    "has_pending_cancellation": False,
    "logins_7d": 50,
    "logins_30d": 200,
    "logins_prior_90d_monthly": 200.0,
    "logins_change_30v90": 0.0,
    "cohort_median_logins_30d": 200.0,
    "logins_vs_cohort": 1.0,
    "core_actions_30d": 100,
    "core_actions_change_30v90": 0.0,
    "core_actions_vs_cohort": 1.0,
    "active_days_30d": 22,
    "expected_days_7d": 7.0,
    "expected_days_30d": 30.0,
    "expected_days_prior_90d": 90.0,
    "login_rate_7d": 200 / 30,
    "login_rate_30d": 200 / 30,
    "login_rate_prior_90d": 200 / 30,
    "seasonal_logins_change_30v90": 0.0,
    "seasonal_logins_change_7v90": 0.0,
    "core_actions_prior_90d": 300,
    "days_since_last_login": 1,
    "expected_days_since_last_login": 1.0,
    "days_since_last_core_action": 1,
    "expected_days_since_last_core_action": 1.0,
    "features_used_30d": 6,
    "features_used_prior_30d": 6,
    "core_features_regular_30d": 3,
    "core_features_regular_prior_30d": 3,
    "active_users_30d": 8,
    "active_user_share_30d": 0.8,
    "is_single_user_dependent": False,
    "onboarding_missed": False,
    "first_value_missed": False,
    "second_feature_missed": False,
    "is_silent_churn": False,
    "open_tickets": 0,
    "stale_open_tickets": 0,
    "tickets_recent": 0,
    "tickets_30d": 0,
    "nps_latest_score": 9,
    "is_detractor": False,
    "days_since_nps": 40,
    "failed_payments": 0,
    "last_failed_payment_at": pd.NaT,
    "has_unresolved_payment_failure": False,
    "health_score": 90.0,
    "health_band": "green",
    "churn_probability": 0.02,
    "model_reasons": "",
}
FIRST_NIGHT = date(2026, 9, 1)


def signal_row(account_id: str = "A1", night: date = FIRST_NIGHT, **changes: Any) -> dict:
    unknown = set(changes) - set(HEALTHY)
    assert not unknown, f"not a signal column: {unknown}"
    return {"account_id": account_id, "night": night, **HEALTHY, **changes}


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def nights(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def write_engine_inputs(
    con: duckdb.DuckDBPyConnection,
    signals: pd.DataFrame,
    stale: dict[date, list[str]] | None = None,
    feedback: pd.DataFrame | None = None,
) -> str:
    """The tables the engine reads, as crafted tables in a real DuckDB file: the signals
    (and scores) and source freshness of every night, and the CS feedback. Returns the
    scores table's name."""
    con.execute("create schema if not exists marts; create schema if not exists staging")
    con.execute("create schema if not exists ml")
    columns = [c for c in signals.columns if c not in ("churn_probability", "model_reasons")]
    con.register("_signals", signals)
    con.execute(
        f"create or replace table marts.fct_account_alert_signals as select {', '.join(columns)} from _signals"
    )
    con.execute(
        "create or replace table ml.churn_scores as select account_id, night as as_of_date, "
        "churn_probability, cast(null as varchar[]) as reasons from _signals"
    )
    con.unregister("_signals")
    rows = []
    for night in sorted(signals["night"].unique()):
        for source in ("usage_events", "support_tickets", "payments", "subscriptions", "accounts"):
            lag = 60 if source in (stale or {}).get(night, []) else 1
            rows.append((night, source, pd.Timestamp(night) - timedelta(days=lag), lag))
    freshness = pd.DataFrame(
        rows, columns=["night", "source_name", "newest_record_date", "days_since_newest_record"]
    )
    con.register("_freshness", freshness)
    con.execute("create or replace table marts.fct_source_freshness as select * from _freshness")
    con.unregister("_freshness")
    feedback = feedback if feedback is not None else pd.DataFrame(
        {
            "feedback_id": pd.Series(dtype=str), "alert_id": pd.Series(dtype=str),
            "account_id": pd.Series(dtype=str), "action": pd.Series(dtype=str),
            "reason_code": pd.Series(dtype=str), "comment": pd.Series(dtype=str),
            "submitted_at": pd.Series(dtype="datetime64[us]"),
            "_source_file": pd.Series(dtype=str),
        }
    )  # fmt: skip
    con.register("_feedback", feedback)
    con.execute("create or replace table staging.stg_cs__alert_feedback as select * from _feedback")
    con.unregister("_feedback")
    return "ml.churn_scores"
