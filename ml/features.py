"""Which snapshot columns the model learns from, adapting to the sources a company has."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

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
# The company's own event names (or configured groups): one column per group and measure.
EVENT_FEATURES_TABLE = "marts.fct_account_event_features"
EVENT_PREFIX = "event__"
EVENT_MEASURES = [
    "events_7d",
    "events_30d",
    "events_change_30v90",
    "events_per_active_user_30d",
    "days_since_last_event",
]


# The CRM attributes declared in accounts.attributes, as they were on each date.
ATTRIBUTES_TABLE = "intermediate.int_account_attributes_listed"
ATTRIBUTE_PREFIX = "attribute__"
MISSING_CATEGORY = "(missing)"


def event_column(group: str, measure: str) -> str:
    return f"{EVENT_PREFIX}{group}__{measure}"


def split_event_column(column: str) -> tuple[str, str] | None:
    """(group, measure) of an event feature column, None for any other column."""
    if not column.startswith(EVENT_PREFIX):
        return None
    group, _, measure = column[len(EVENT_PREFIX) :].rpartition("__")
    return (group, measure) if measure in EVENT_MEASURES else None


def read_snapshots(con: duckdb.DuckDBPyConnection, scoring_only: bool = False) -> pd.DataFrame:
    """The model's point-in-time snapshot rows (``is_model_row``: the model's observation
    dates and tonight's scoring rows; the daily alert nights are the alerts engine's),
    or only tonight's scoring rows, with their event features."""
    return read_feature_rows(con, "is_scoring_row" if scoring_only else "is_model_row")


def read_feature_rows(
    con: duckdb.DuckDBPyConnection, where: str, parameters: list | None = None
) -> pd.DataFrame:
    """Snapshot rows matching ``where`` with one column per event group and measure
    (``event__<group>__<measure>``) and per declared CRM attribute (``attribute__<name>``),
    pivoted from the long tables dbt keeps, so a new event name or attribute changes no
    table's schema.

    Numeric features become float64: DuckDB's nullable integers arrive as pandas
    extension types (pd.NA), which scikit-learn's numpy path refuses.
    """
    frame = con.execute(
        f"select * from {SNAPSHOT_TABLE} where {where} order by observation_date, account_id",
        parameters or [],
    ).df()
    dates = sorted({day.date() for day in pd.to_datetime(frame["observation_date"])})
    for extra in (_event_features(con, dates), _attributes(con, dates)):
        if extra is not None:
            frame = frame.merge(extra, on=KEYS, how="left")
    numeric = numeric_columns(frame)
    frame[numeric] = frame[numeric].astype("float64")
    # one marker for a value the CRM left empty and an account missing from the table:
    # the encoder cannot order None beside NaN
    for column in categorical_columns(frame):
        if column.startswith(ATTRIBUTE_PREFIX):
            frame[column] = frame[column].where(frame[column].notna(), MISSING_CATEGORY)
    return frame


def _event_features(con: duckdb.DuckDBPyConnection, dates: list) -> pd.DataFrame | None:
    """One column per group and measure, read one group at a time and joined on the keys.
    Pivoting the whole long table at once (in pandas, or as one DuckDB aggregate of
    groups x measures columns) held 3-4 times the result in memory: at 20,000 accounts
    it set the model step's peak (1.7-1.9 GB; this way 0.5 GB, and faster)."""
    in_dates = "observation_date = any(?::date[])"
    groups = [
        group
        for (group,) in con.execute(
            f"select distinct event_group from {EVENT_FEATURES_TABLE} where {in_dates} "
            "order by event_group",
            [dates],
        ).fetchall()
    ]
    if not groups:
        return None
    columns = []
    for group in groups:
        part = con.execute(
            f"select account_id, observation_date, {', '.join(EVENT_MEASURES)} "
            f"from {EVENT_FEATURES_TABLE} where {in_dates} and event_group = ?",
            [dates, group],
        ).df()
        columns.append(part.set_index(KEYS).rename(columns=lambda m, g=group: event_column(g, m)))
    return pd.concat(columns, axis=1).reset_index()


def _attributes(con: duckdb.DuckDBPyConnection, dates: list) -> pd.DataFrame | None:
    """One column per attribute: numbers for numeric ones, text for categorical ones."""
    long = con.execute(
        f"select account_id, observation_date, attribute_name, attribute_type, value_text, "
        f"value_number from {ATTRIBUTES_TABLE} where observation_date in (select unnest(?::date[]))",
        [dates],
    ).df()
    if long.empty:
        return None
    columns = {
        ATTRIBUTE_PREFIX + name: part.set_index(KEYS)[
            "value_number" if kind == "numeric" else "value_text"
        ]
        for (name, kind), part in long.groupby(["attribute_name", "attribute_type"])
    }
    return pd.DataFrame(columns).reset_index()


def _all_missing(values: pd.Series) -> bool:
    return values.dtype == object and bool(values.eq(MISSING_CATEGORY).all())


def _is_attribute(frame: pd.DataFrame, column: str, numeric: bool) -> bool:
    return column.startswith(ATTRIBUTE_PREFIX) and (
        pd.api.types.is_numeric_dtype(frame[column]) == numeric
    )


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric feature columns of ``frame``: the fixed ones, the event ones, then the
    numeric CRM attributes."""
    fixed = [c for c in NUMERIC if c in frame.columns]
    events = sorted(c for c in frame.columns if split_event_column(c))
    return fixed + events + sorted(c for c in frame.columns if _is_attribute(frame, c, True))


def categorical_columns(frame: pd.DataFrame) -> list[str]:
    """The fixed categorical features, then the categorical CRM attributes."""
    attributes = sorted(c for c in frame.columns if _is_attribute(frame, c, False))
    return [c for c in CATEGORICAL if c in frame.columns] + attributes


def feature_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The numeric and categorical features present and not entirely empty.

    Optional sources (support, NPS, billing) may be missing for a company; the model
    then simply learns from what exists.
    """
    present = [c for c in frame.columns if frame[c].notna().any() and not _all_missing(frame[c])]
    numeric = [c for c in numeric_columns(frame) if c in present]
    return numeric, [c for c in categorical_columns(frame) if c in present]


def data_fingerprint(frame: pd.DataFrame) -> str:
    """A short hash of the rows a model was trained on, recorded in its model card."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    return hashlib.sha256(hashed).hexdigest()[:16]


def labelled_rows(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Training rows: past observation dates whose label is known."""
    labelled = snapshots[snapshots[LABEL].notna() & ~snapshots["is_scoring_row"]].copy()
    labelled[LABEL] = labelled[LABEL].astype(int)
    return labelled


def label_exclusions(con: duckdb.DuckDBPyConnection, config: Mapping[str, Any]) -> dict:
    """Churns the label rules keep out of training, for the model card: rows of the
    model's observation dates, with a known label window, whose account churned within
    ``model.lead_days`` of the date (label left empty: the act of cancelling, not a
    prediction) or that were younger than ``model.min_tenure_days`` (not observed yet)
    and churned within the horizon. Live scores include both kinds of account, so each
    one removed makes the backtest look better than live use."""
    model = config["model"]
    known = model["horizon_days"] + config["churn"]["resign_gap_days"]
    lead, tenure = model["lead_days"], model["min_tenure_days"]
    row = con.execute(
        f"""
        with rows as (
            select s.*
            from {SNAPSHOT_TABLE} as s
            where s.is_model_observation
              and s.observation_date + {int(known)}
                  <= (select max(observation_date) from {SNAPSHOT_TABLE} where is_scoring_row)
        )
        select
            count(*) filter (where is_model_row and {LABEL} = 1),
            count(*) filter (where is_model_row and churned_on >= observation_date
                             and churned_on < observation_date + {int(lead)}),
            count(*) filter (where not is_model_row and tenure_days < {int(tenure)}
                             and {LABEL} = 1)
        from rows
        """
    ).fetchone()
    trained, by_lead, by_tenure = (int(v or 0) for v in row)
    return {
        "churned_rows_trained_on": trained,
        "lead_days": {"days": lead, "churned_rows_removed": by_lead},
        "min_tenure_days": {"days": tenure, "churned_rows_removed": by_tenure},
    }
