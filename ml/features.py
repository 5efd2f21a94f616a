"""Which snapshot columns the model learns from, adapting to the sources a company has."""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd

LABEL = "churned_within_horizon"
CHURNED_ON = "churned_on"  # the outcome the label summarises (forecast backtests)
OUTCOMES = [LABEL, CHURNED_ON]  # look forward: never features, free to change later
KEYS = ["account_id", "observation_date"]
CATEGORICAL = ["segment", "plan", "contract_term"]
NUMERIC = [
    "seats",
    "mrr",
    "tenure_days",
    "days_to_renewal",
    "logins_7d",
    "logins_30d",
    "logins_prior_90d_monthly",
    "logins_change_30v90",
    "logins_vs_cohort",
    "core_actions_30d",
    "core_actions_change_30v90",
    "core_actions_vs_cohort",
    "session_minutes_30d",
    "session_minutes_change_30v90",
    "active_days_7d",
    "active_days_30d",
    "days_since_last_login",
    "days_since_last_core_action",
    "days_since_last_activity",
    "features_used_30d",
    "core_features_regular_30d",
    "active_users_30d",
    "active_user_share_30d",
    "milestones_missed",
    "open_tickets",
    "stale_open_tickets",
    "tickets_recent",
    "tickets_30d",
    "ticket_trend",
    "csat_90d",
    "nps_latest_score",
    "nps_trend",
    "failed_payments",
    "health_score",
]
SNAPSHOT_TABLE = "marts.fct_account_snapshots"


def read_snapshots(con: duckdb.DuckDBPyConnection, scoring_only: bool = False) -> pd.DataFrame:
    """The model's point-in-time snapshot rows (``is_model_row``: month starts and
    tonight's scoring rows, bounded by accounts x months; the daily alert nights are
    the alerts engine's), or only tonight's scoring rows.

    Numeric features become float64: DuckDB's nullable integers arrive as pandas
    extension types (pd.NA), which scikit-learn's numpy path refuses.
    """
    where = "where is_scoring_row" if scoring_only else "where is_model_row"
    frame = con.execute(
        f"select * from {SNAPSHOT_TABLE} {where} order by observation_date, account_id"
    ).df()
    numeric = [c for c in NUMERIC if c in frame.columns]
    frame[numeric] = frame[numeric].astype("float64")
    return frame


def feature_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The numeric and categorical features present and not entirely empty.

    Optional sources (support, NPS, billing) may be missing for a company; the model
    then simply learns from what exists.
    """
    present = [c for c in frame.columns if frame[c].notna().any()]
    return [c for c in NUMERIC if c in present], [c for c in CATEGORICAL if c in present]


def data_fingerprint(frame: pd.DataFrame) -> str:
    """A short hash of the rows a model was trained on, recorded in its model card."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    return hashlib.sha256(hashed).hexdigest()[:16]


def labelled_rows(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Training rows: past observation dates whose label is known."""
    labelled = snapshots[snapshots[LABEL].notna() & ~snapshots["is_scoring_row"]].copy()
    labelled[LABEL] = labelled[LABEL].astype(int)
    return labelled
