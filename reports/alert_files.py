"""Tonight's alert lists, rendered from the alert state in the warehouse (DESIGN.md
decision 9: the files are renderings of ``alerts.alert_history``, never the state).

- ``alerts.csv``: every open alert tonight, whatever its severity or delivery (deferred
  by the budget, held out as "do not contact", low severity for automated sequences);
- ``alerts_by_csm/<owner>.csv``: what each CSM acts on: their open alerts that were
  delivered (tonight's new ones first), never a held-out or snoozed one;
- ``automated_sequences.csv``: the open alerts an automated sequence handles instead of a
  CSM (tech touch: low alerts, accounts under ``alerts.touch.automated_below_arr``), with
  the sequence to enrol them in, for the marketing-automation tool to import;
- ``source_status.csv``: each source's freshness tonight; a stale source's rules were
  silent, and this file says so.
Columns are documented in outputs/README.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd

from alerts.lifecycle import OPEN, in_automated_sequence
from alerts.store import LIVE_SCHEMA
from reports.names import unique_slugs
from reports.publish import write_csv_safely

ALERT_COLUMNS = [
    "alert_id", "account_id", "company_name", "csm_owner", "severity", "status", "touch",
    "is_new_today", "types", "primary_type", "reason", "evidence", "playbook_key", "playbook_step",
    "due_by", "revenue_at_risk", "arr", "churn_probability", "days_to_renewal",
    "opened_on", "delivered_on", "is_deferred", "deferred_nights", "do_not_contact",
    "snoozed_until", "in_automated_sequence", "data_as_of",
]  # fmt: skip
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
SEQUENCE_COLUMNS = [
    "alert_id", "account_id", "company_name", "csm_owner", "severity", "status",
    "playbook_key", "playbook_step", "reason", "evidence", "arr", "opened_on", "data_as_of",
]  # fmt: skip
SOURCE_COLUMNS = ["source_name", "newest_record_date", "days_since_newest_record",
                  "max_lag_days", "is_stale", "reason"]  # fmt: skip


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d").fillna("")


def tonight_alerts(con: duckdb.DuckDBPyConnection, schema: str = LIVE_SCHEMA) -> pd.DataFrame:
    """Every alert open on the newest processed night, as CS ops download it."""
    history = con.execute(
        f"""select * from {schema}.alert_history
            where night = (select max(night) from {schema}.night_runs)
              and status in (select unnest(?::varchar[]))""",
        [list(OPEN)],
    ).df()
    night = pd.to_datetime(history["night"])
    frame = pd.DataFrame(
        {
            "alert_id": history["alert_id"],
            "account_id": history["account_id"],
            "company_name": history["company_name"],
            "csm_owner": history["csm_owner"],
            "severity": history["severity"],
            "status": history["status"],
            "touch": history["touch"],
            "is_new_today": pd.to_datetime(history["first_delivered_night"]).eq(night),
            "types": history["types"].map(lambda t: "; ".join(t) if t is not None else ""),
            "primary_type": history["primary_type"],
            "reason": history["reason"],
            "evidence": history["evidence"],
            "playbook_key": history["playbook_key"],
            "playbook_step": history["playbook"],
            "due_by": pd.to_datetime(history["sla_due_at"]).dt.strftime("%Y-%m-%d %H:%M UTC"),
            "revenue_at_risk": history["revenue_at_risk"],
            "arr": history["arr"],
            "churn_probability": history["churn_probability"],
            "days_to_renewal": history["days_to_renewal"],
            "opened_on": _day(history["opened_night"]),
            "delivered_on": _day(history["first_delivered_night"]),
            "is_deferred": history["is_deferred_tonight"],
            "deferred_nights": history["deferred_nights"],
            "do_not_contact": history["is_holdout"],
            "snoozed_until": _day(history["snoozed_until"]),
            "in_automated_sequence": in_automated_sequence(history),
            "data_as_of": _day(history["night"]),
        }
    )
    rank = frame["severity"].map(SEVERITY_ORDER)
    return (
        frame.assign(_rank=rank)
        .sort_values(  # account id last: the same order on every run
            ["_rank", "revenue_at_risk", "account_id"], ascending=[True, False, True]
        )
        .drop(columns="_rank")
        .reset_index(drop=True)[ALERT_COLUMNS]
    )


def tonight_source_status(
    con: duckdb.DuckDBPyConnection, schema: str = LIVE_SCHEMA
) -> pd.DataFrame:
    return con.execute(
        f"""select {", ".join(SOURCE_COLUMNS)} from {schema}.source_status
            where night = (select max(night) from {schema}.night_runs) order by source_name"""
    ).df()


def csm_file_names(owners: list[str]) -> dict[str, str]:
    """One file per owner (names that read alike get a hash each: reports.names)."""
    return unique_slugs(owners, ".csv")


def is_snoozed(alerts: pd.DataFrame) -> pd.Series:
    return alerts["snoozed_until"].ne("") & (alerts["snoozed_until"] > alerts["data_as_of"])


def csm_actionable(alerts: pd.DataFrame) -> pd.DataFrame:
    """What a CSM works on: delivered, contactable, not snoozed (new today first)."""
    chosen = alerts[alerts["delivered_on"].ne("") & ~alerts["do_not_contact"] & ~is_snoozed(alerts)]
    return chosen.sort_values("is_new_today", ascending=False, kind="stable")


def automated_sequences(alerts: pd.DataFrame) -> pd.DataFrame:
    """What automation handles (``in_automated_sequence``: automated, never reached a
    CSM, contactable, not snoozed), tonight's new ones first."""
    chosen = alerts[alerts["in_automated_sequence"].astype(bool)]
    return chosen.sort_values("status", key=lambda s: s.ne("new"), kind="stable")[SEQUENCE_COLUMNS]


def write_alert_files(alerts: pd.DataFrame, status: pd.DataFrame, run_dir: Path) -> Path:
    """alerts.csv, one actionable list per CSM (the folder is rewritten: an owner with no
    alert tonight has no file), automated_sequences.csv and source_status.csv."""
    path = write_csv_safely(alerts, run_dir / "alerts.csv")
    write_csv_safely(automated_sequences(alerts), run_dir / "automated_sequences.csv")
    folder = run_dir / "alerts_by_csm"
    shutil.rmtree(folder, ignore_errors=True)
    actionable = csm_actionable(alerts)
    names = csm_file_names(sorted(actionable["csm_owner"].dropna().unique()))
    for owner, own in actionable.groupby("csm_owner"):
        write_csv_safely(own, folder / names[owner])
    write_csv_safely(status, run_dir / "source_status.csv")
    return path


def summarise(alerts: pd.DataFrame) -> dict[str, int]:
    counts = alerts["severity"].value_counts()
    return {severity: int(counts.get(severity, 0)) for severity in SEVERITY_ORDER}
