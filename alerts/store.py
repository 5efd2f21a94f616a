"""The alert tables in the warehouse (DESIGN.md decision 9: alert state is data).

Live nights go to schema ``alerts``; a replay of past nights to ``alerts_replay``, so a
replay never mixes with what CSMs were sent. Per schema:
  alert_history   one row per alert per night it was open, and the night it closed
  alert_type_nights  one row per alert per night per rule type firing for it (the
                  history's type lists, flat, for SQL that has no list functions)
  state_changes   every status change, with the night it happened and why
  rule_hits       every rule condition that held (eligible or still in its grace
                  period) or was silenced by a stale source, with its evidence
  source_status   per night and source: the newest record, and whether it was stale
  night_runs      one row per processed night (counts; the newest is the watermark)
A night is written in one transaction that first deletes that night's rows, so
re-running it replaces them (idempotent).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from alerts.lifecycle import CLOSED, OPEN

LIVE_SCHEMA = "alerts"
REPLAY_SCHEMA = "alerts_replay"

_TABLES = {
    "alert_history": """
        night date not null, alert_id varchar not null, account_id varchar not null,
        company_name varchar, csm_owner varchar, segment varchar, status varchar not null,
        severity varchar not null, opened_severity varchar, peak_severity varchar,
        types varchar[], all_types varchar[], primary_type varchar, is_multi_factor boolean,
        evidence varchar, reason varchar, touch varchar, playbook_key varchar, playbook varchar,
        arr double, days_to_renewal integer,
        churn_probability double, revenue_at_risk double, opened_night date,
        last_fired_night date, clear_nights integer, closed_night date, close_reason varchar,
        close_note varchar, is_holdout boolean, first_delivered_night date,
        is_delivered_tonight boolean, is_deferred_tonight boolean, deferred_nights integer,
        is_over_budget boolean, sla_due_at timestamp, engaged_at timestamp,
        snoozed_until timestamp, dismissal_reason varchar,
        primary key (alert_id, night)""",
    "alert_type_nights": """
        night date not null, alert_id varchar not null, account_id varchar not null,
        rule varchar not null""",
    "state_changes": """
        night date not null, alert_id varchar not null, account_id varchar not null,
        from_status varchar, to_status varchar not null, reason varchar""",
    "rule_hits": """
        night date not null, account_id varchar not null, rule varchar not null,
        family varchar, streak_nights integer, grace_days integer, is_eligible boolean,
        silenced_by varchar, value double, threshold double, reference double,
        evidence varchar, primary key (account_id, night, rule)""",
    "source_status": """
        night date not null, source_name varchar not null, newest_record_date date,
        days_since_newest_record integer, max_lag_days integer, is_stale boolean,
        reason varchar""",
    "night_runs": """
        night date not null primary key, processed_at timestamp, accounts_observed integer,
        alerts_open integer, alerts_opened integer, alerts_closed integer,
        delivered integer, deferred integer, over_budget integer, feedback_applied integer,
        feedback_unmatched integer, stale_sources varchar""",
}


# Columns added after a table first shipped: a warehouse made before them gains them
# instead of failing its next night's insert, filled on the rows it already holds with
# what was true then (null where nothing was recorded).
_ADDED_COLUMNS = {
    "alert_history": {
        # before touch existed a CSM got every alert but the low ones (automated sequences)
        "touch": (
            "varchar",
            "case when first_delivered_night is null and severity = 'low' "
            "then 'automated' else 'csm' end",
        ),
        "playbook_key": ("varchar", None),
    },
}


def ensure_tables(con: duckdb.DuckDBPyConnection, schema: str) -> None:
    con.execute(f"create schema if not exists {schema}")
    for table, columns in _TABLES.items():
        con.execute(f"create table if not exists {schema}.{table} ({columns})")
    for table, added in _ADDED_COLUMNS.items():
        present = {row[0] for row in con.execute(f"describe {schema}.{table}").fetchall()}
        for column, (kind, backfill) in added.items():
            if column in present:
                continue
            con.execute(f"alter table {schema}.{table} add column {column} {kind}")
            if backfill:
                con.execute(f"update {schema}.{table} set {column} = {backfill}")


def newest_night(con: duckdb.DuckDBPyConnection, schema: str) -> date | None:
    ensure_tables(con, schema)
    value = con.execute(f"select max(night) from {schema}.night_runs").fetchone()[0]
    return value


def previous_state(
    con: duckdb.DuckDBPyConnection, schema: str, night: date, max_cooldown_days: int
) -> pd.DataFrame:
    """The newest row before ``night`` of every alert still open then, or closed within
    the longest cooldown (its types may still be cooling down)."""
    ensure_tables(con, schema)
    since = pd.Timestamp(night) - timedelta(days=max_cooldown_days)
    frame = con.execute(
        f"""select * from {schema}.alert_history where night < ?
            qualify row_number() over (partition by alert_id order by night desc) = 1""",
        [night],
    ).df()
    keep = frame["status"].isin(OPEN) | (
        frame["status"].isin(CLOSED) & (pd.to_datetime(frame["closed_night"]) >= since)
    )
    frame = frame[keep].reset_index(drop=True)
    for column in ("types", "all_types"):
        frame[column] = frame[column].map(lambda v: [] if v is None else list(v))
    return frame


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Insert a DataFrame into an existing table by column name."""
    name = f"_insert_{table.replace('.', '_')}"
    con.register(name, frame)
    try:
        con.execute(f"insert into {table} by name select * from {name}")
    finally:
        con.unregister(name)


def write_night(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    night: date,
    tables: dict[str, pd.DataFrame],
) -> None:
    """Replace ``night``'s rows of every table in ``tables`` in one transaction."""
    ensure_tables(con, schema)
    con.execute("begin transaction")
    try:
        for table in _TABLES:
            con.execute(f"delete from {schema}.{table} where night = ?", [night])
        for table, frame in tables.items():
            if not frame.empty:
                insert_frame(con, f"{schema}.{table}", frame)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
