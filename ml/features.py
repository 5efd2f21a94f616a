"""Which snapshot columns the model learns from, adapting to the sources a company has."""

from __future__ import annotations

import duckdb
import pandas as pd

LABEL = "churned_within_horizon"
KEYS = ["account_id", "observation_date"]
CATEGORICAL = ["segment", "plan", "contract_term"]
NUMERIC = [
    "seats",
    "mrr",
    "tenure_days",
    "days_to_renewal",
    "logins_30d",
    "logins_prior_90d_monthly",
    "login_trend",
    "active_days_30d",
    "core_actions_30d",
    "core_action_trend",
    "session_minutes_30d",
    "avg_daily_active_users_30d",
    "active_user_share_30d",
    "max_daily_features_30d",
    "days_since_last_activity",
]
SNAPSHOT_TABLE = "marts.fct_account_snapshots"


def read_snapshots(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """All point-in-time snapshot rows (account grain: bounded by accounts x months)."""
    return con.execute(f"select * from {SNAPSHOT_TABLE} order by observation_date, account_id").df()


def feature_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The numeric and categorical features present and not entirely empty.

    Optional sources (support, NPS, billing) may be missing for a company; the model
    then simply learns from what exists.
    """
    present = [c for c in frame.columns if frame[c].notna().any()]
    return [c for c in NUMERIC if c in present], [c for c in CATEGORICAL if c in present]
