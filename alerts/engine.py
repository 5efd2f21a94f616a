"""Evaluate the alert rules for a night (or replay a range of nights) and record it.

``run_night`` is the ``alert_state`` asset's one call; ``replay`` runs the same steps
for past nights into ``alerts_replay`` (evaluation, calibration). Both read only
account-level tables: the signals mart (dbt did every event- and day-grain step), the
scores, the source freshness view and the CS feedback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from alerts.account_value import value_thresholds
from alerts.conditions import evaluate_conditions
from alerts.lifecycle import (
    CLOSED,
    OPEN,
    advance_night,
    cooled_types,
    in_automated_sequence,
    receive_feedback,
)
from alerts.settings import SEVERITIES, validate_alert_config
from alerts.severity import build_candidates, rule_evidence
from alerts.store import LIVE_SCHEMA, REPLAY_SCHEMA, newest_night, previous_state, write_night

SIGNALS_VIEW = "marts.fct_account_alert_signals"
FRESHNESS_VIEW = "marts.fct_source_freshness"
FEEDBACK_VIEW = "staging.stg_cs__alert_feedback"


@dataclass
class NightSummary:
    """What a night did: asset metadata, the benchmark's counts."""

    night: str
    accounts_observed: int
    conditions_held: int
    eligible_rules: int
    open_alerts: int
    opened: int
    closed: int
    by_severity: dict[str, int]
    arr_by_severity: dict[str, float]
    automated: int  # open alerts in an automated sequence tonight
    value_thresholds: dict[str, float | str | None]
    delivered: int
    deferred: int
    over_budget: int
    holdout: int
    max_delivered_per_csm: int
    feedback_applied: int
    feedback_unmatched: list[str]
    stale_sources: list[str]
    silenced_rules: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_signals(
    con: duckdb.DuckDBPyConnection, first: date, last: date, scores_table: str
) -> pd.DataFrame:
    """Signal rows of the nights in [first, last], with each night's churn probability and
    the model's reasons (from the scores of that night; none when it was not scored)."""
    frame = con.execute(
        f"""select s.*, sc.churn_probability,
                   array_to_string(sc.reasons, '; ') as model_reasons
            from {SIGNALS_VIEW} as s
            left join {scores_table} as sc
              on sc.account_id = s.account_id and sc.as_of_date = s.night
            where s.night between ? and ?""",
        [first, last],
    ).df()
    frame["night"] = pd.to_datetime(frame["night"]).dt.date
    return frame


def read_feedback(con: duckdb.DuckDBPyConnection, since: date | None, until: date) -> pd.DataFrame:
    """Feedback submitted in [since, until): what the night ``until`` applies."""
    return con.execute(
        f"""select alert_id, account_id, action, reason_code, comment, submitted_at
            from {FEEDBACK_VIEW}
            where submitted_at < ? and (? is null or submitted_at >= ?)
            order by submitted_at""",
        [until, since, since],
    ).df()


def feedback_problems(con: duckdb.DuckDBPyConnection, reason_codes: Iterable[str]) -> pd.DataFrame:
    """Dismissals whose reason code is missing or not in the configured list: a data-quality
    failure (a dismissal feeds calibration, so its reason must mean something)."""
    return con.execute(
        f"""select feedback_id, alert_id, reason_code, submitted_at, _source_file as source_file
            from {FEEDBACK_VIEW}
            where action = 'dismissed'
              and (reason_code is null or reason_code not in (select unnest(?::varchar[])))
            order by submitted_at""",
        [list(reason_codes)],
    ).df()


def source_status(
    freshness: pd.DataFrame, max_lag: Mapping[str, int | None], failed: Iterable[str] = ()
) -> pd.DataFrame:
    """Per night and source: stale when its newest record is older than the configured lag,
    or when its checks failed in this run (``failed``)."""
    frame = freshness.copy()
    frame["night"] = pd.to_datetime(frame["night"]).dt.date
    lag = frame["source_name"].map(lambda s: max_lag.get(s)).astype("float64")
    days = frame["days_since_newest_record"].astype("float64")
    too_old = lag.notna() & days.notna() & (days > lag)
    failed = set(failed)
    check_failed = frame["source_name"].isin(failed)
    frame["max_lag_days"] = lag.astype("Int64")
    frame["is_stale"] = too_old | check_failed
    frame["reason"] = None
    frame.loc[too_old, "reason"] = (
        "newest record " + days[too_old].astype(int).astype(str) + " days before the night "
        "(stale after " + lag[too_old].astype(int).astype(str) + ")"
    )
    frame.loc[check_failed, "reason"] = "its checks failed in this run"
    return frame


def _stale_by_night(status: pd.DataFrame) -> dict[date, set[str]]:
    stale = status[status["is_stale"]]
    return {night: set(group["source_name"]) for night, group in stale.groupby("night")}


def _check_feedback(con: duckdb.DuckDBPyConnection, alerts: Mapping[str, Any]) -> None:
    bad = feedback_problems(con, alerts["feedback"]["reason_codes"])
    if not bad.empty:
        raise ValueError(
            f"{FEEDBACK_VIEW}: {len(bad)} dismissal(s) without a reason code from "
            f"alerts.feedback.reason_codes {alerts['feedback']['reason_codes']}; e.g. "
            f"{bad.head(3).to_dict('records')}"
        )


def _night_step(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    night: date,
    signals: pd.DataFrame,
    hits: pd.DataFrame,
    status: pd.DataFrame,
    config: Mapping[str, Any],
) -> NightSummary:
    """Lifecycle, budget and records of one night, from its evaluated conditions."""
    alerts = config["alerts"]
    lifecycle = alerts["lifecycle"]
    tonight = signals[signals["night"] == night]
    hits = hits[hits["night"] == night]
    previous = previous_state(con, schema, night, max(lifecycle["cooldown_days"].values()))
    prior_night = con.execute(
        f"select max(night) from {schema}.night_runs where night < ?", [night]
    ).fetchone()[0]
    received = receive_feedback(
        previous, read_feedback(con, prior_night, night), night, lifecycle["snooze_days"]
    )
    cooled = cooled_types(received.state, night, lifecycle["cooldown_days"])
    is_cooled = [
        rule in cooled.get(account, ())
        for account, rule in zip(hits["account_id"], hits["rule"], strict=True)
    ]
    live_hits = hits[~pd.Series(is_cooled, index=hits.index, dtype=bool)]
    shown = live_hits[live_hits["is_eligible"] | live_hits["silenced_by"].notna()]
    evidence = rule_evidence(tonight, shown, alerts["rules"], config["metrics"])
    value = value_thresholds(tonight["arr"], config)
    candidates = build_candidates(tonight, evidence, alerts, value)
    result = advance_night(received, candidates, set(tonight["account_id"]), night, alerts)
    history = result.history
    open_rows = history[history["status"].isin(OPEN)]
    delivered = history[history["is_delivered_tonight"]]
    summary = NightSummary(
        night=str(night),
        accounts_observed=len(tonight),
        conditions_held=int(hits["silenced_by"].isna().sum()),
        eligible_rules=int(hits["is_eligible"].sum()),
        open_alerts=len(open_rows),
        opened=int(history["status"].eq("new").sum()),
        closed=int(history["status"].isin(CLOSED).sum()),
        by_severity={s: int(open_rows["severity"].eq(s).sum()) for s in SEVERITIES},
        arr_by_severity={
            s: float(open_rows.loc[open_rows["severity"].eq(s), "arr"].sum()) for s in SEVERITIES
        },
        automated=int(in_automated_sequence(history).sum()),
        value_thresholds=value.as_dict(),
        delivered=len(delivered),
        deferred=int(history["is_deferred_tonight"].sum()),
        over_budget=int(history["is_over_budget"].sum()),
        holdout=int(open_rows["is_holdout"].sum()),
        max_delivered_per_csm=int(delivered.groupby("csm_owner").size().max())
        if len(delivered)
        else 0,
        feedback_applied=result.feedback_applied,
        feedback_unmatched=result.feedback_unmatched,
        stale_sources=sorted(status.loc[status["is_stale"], "source_name"]),
        silenced_rules=shown[shown["silenced_by"].notna()].groupby("rule").size().to_dict(),
    )
    run = {
        "night": night,
        "processed_at": pd.Timestamp.now(tz="UTC").tz_localize(None),
        "accounts_observed": summary.accounts_observed,
        "alerts_open": summary.open_alerts,
        "alerts_opened": summary.opened,
        "alerts_closed": summary.closed,
        "delivered": summary.delivered,
        "deferred": summary.deferred,
        "over_budget": summary.over_budget,
        "feedback_applied": summary.feedback_applied,
        "feedback_unmatched": len(summary.feedback_unmatched),
        "stale_sources": json.dumps(summary.stale_sources),
    }
    write_night(
        con,
        schema,
        night,
        {
            "alert_history": history,
            "alert_type_nights": _type_rows(history),
            "state_changes": result.changes,
            "rule_hits": _hit_rows(hits, evidence),
            "source_status": status,
            "night_runs": pd.DataFrame([run]),
        },
    )
    return summary


def _type_rows(history: pd.DataFrame) -> pd.DataFrame:
    """The history's type lists, one row per alert and type."""
    rows = history[["night", "alert_id", "account_id", "types"]].explode("types")
    return rows.dropna(subset=["types"]).rename(columns={"types": "rule"})


def _hit_rows(hits: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """Every condition that held tonight; evidence for the eligible and silenced ones."""
    keys = ["night", "account_id", "rule"]
    detail = evidence[[*keys, "value", "threshold", "reference", "evidence"]]
    return hits.merge(detail, on=keys, how="left")


def first_signal_night(first: date, alerts: Mapping[str, Any]) -> date:
    """The oldest night whose signals a run starting at ``first`` reads (its grace
    periods look back over ``lookback_nights``): dbt's ``alerts.nights_from`` for a replay."""
    return first - timedelta(days=alerts["lookback_nights"] - 1)


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    config: Mapping[str, Any],
    scores_table: str,
    failed_sources: Iterable[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Signals, conditions and source status for the nights [first, last], reading the
    lookback before ``first`` so the grace periods of the first nights are known."""
    alerts = config["alerts"]
    validate_alert_config(alerts)
    _check_feedback(con, alerts)
    start = first_signal_night(first, alerts)
    signals = read_signals(con, start, last, scores_table)
    freshness = con.execute(
        f"select * from {FRESHNESS_VIEW} where night between ? and ?", [start, last]
    ).df()
    status = source_status(freshness, alerts["sources"]["max_lag_days"], failed_sources)
    hits = evaluate_conditions(signals, alerts["rules"], config["metrics"], _stale_by_night(status))
    return signals, hits, status


def tonight(con: duckdb.DuckDBPyConnection) -> date:
    """The night the warehouse was built for: its as-of date."""
    value = con.execute(f"select max(night) from {SIGNALS_VIEW} where is_scoring_row").fetchone()[0]
    if value is None:
        raise ValueError(f"{SIGNALS_VIEW} has no row for the as-of date: is the warehouse built?")
    return value


def run_night(
    con: duckdb.DuckDBPyConnection,
    config: Mapping[str, Any],
    scores_table: str,
    night: date | None = None,
    failed_sources: Iterable[str] = (),
    schema: str = LIVE_SCHEMA,
) -> NightSummary:
    """Evaluate tonight (or ``night``) and record it in ``schema``. Re-running the newest
    night replaces it; an older night is refused: it would rewrite what CSMs were sent.
    """
    night = night or tonight(con)
    newest = newest_night(con, schema)
    if newest is not None and night < newest:
        raise ValueError(
            f"night {night} is older than the newest processed night {newest} in {schema}: "
            "past nights are final. Replay them into "
            f"{REPLAY_SCHEMA} instead (python -m alerts.replay --first {night})."
        )
    signals, hits, status = _evaluate(con, night, night, config, scores_table, failed_sources)
    if not (signals["night"] == night).any():
        raise ValueError(f"{SIGNALS_VIEW} has no rows for night {night}: not an alert night?")
    return _night_step(con, schema, night, signals, hits, status[status["night"] == night], config)


def replay(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    config: Mapping[str, Any],
    scores_table: str,
    schema: str = REPLAY_SCHEMA,
) -> list[NightSummary]:
    """Every night in [first, last] in order, into ``schema`` (emptied first), as the
    nightly runs would have recorded them with the data known before each night."""
    if schema == LIVE_SCHEMA:
        raise ValueError(f"a replay never writes the live schema {LIVE_SCHEMA}")
    signals, hits, status = _evaluate(con, first, last, config, scores_table, ())
    nights = sorted(n for n in signals["night"].unique() if first <= n <= last)
    expected = (last - first).days + 1
    if len(nights) != expected:
        raise ValueError(
            f"{SIGNALS_VIEW} holds {len(nights)} of the {expected} nights {first} .. {last}: "
            "build them first (dbt var alerts.nights_from = "
            f"{first_signal_night(first, config['alerts'])})"
        )
    con.execute(f"drop schema if exists {schema} cascade")
    return [
        _night_step(con, schema, night, signals, hits, status[status["night"] == night], config)
        for night in nights
    ]
