"""The raw-data contract: per source, where files land, their columns, types and key.

This is the single description of what a company's exports must look like; the loader,
the raw tables' DDL and docs/data-contract.md all follow it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    sql_type: str
    required: bool = False


@dataclass(frozen=True)
class SourceContract:
    name: str  # raw table name and asset key suffix
    folder: str  # sub-folder of the landing zone
    pattern: str  # glob of accepted files inside the folder
    key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def file_format(self, path: str) -> str:
        for suffix, fmt in ((".parquet", "parquet"), (".csv", "csv"), (".jsonl", "json")):
            if path.endswith(suffix) or path.endswith(suffix + ".gz"):
                return fmt
        raise ValueError(f"{path}: unsupported file type (accepted: .csv, .parquet, .jsonl)")


def _col(name: str, sql_type: str, required: bool = False) -> ColumnSpec:
    return ColumnSpec(name, sql_type, required)


ACCOUNTS = SourceContract(
    name="accounts",
    folder="accounts",
    pattern="*.csv",
    key=("account_id",),
    columns=(
        _col("account_id", "VARCHAR", required=True),
        _col("company_name", "VARCHAR", required=True),
        _col("segment", "VARCHAR", required=True),
        _col("plan", "VARCHAR", required=True),
        _col("contract_term", "VARCHAR", required=True),
        _col("mrr", "DOUBLE", required=True),
        _col("signup_date", "DATE", required=True),
        _col("csm_owner", "VARCHAR", required=True),
        _col("seats", "INTEGER"),
        _col("renewal_date", "DATE"),
        _col("contact_name", "VARCHAR"),
        _col("contact_email", "VARCHAR"),
        _col("country", "VARCHAR"),
        _col("timezone", "VARCHAR"),
    ),
)

SUBSCRIPTIONS = SourceContract(
    name="subscriptions",
    folder="subscriptions",
    pattern="*.csv",
    key=("subscription_id",),
    columns=(
        _col("subscription_id", "VARCHAR", required=True),
        _col("account_id", "VARCHAR", required=True),
        _col("mrr", "DOUBLE", required=True),
        _col("start_date", "DATE", required=True),
        _col("end_date", "DATE"),
        _col("plan", "VARCHAR"),
        _col("contract_term", "VARCHAR"),
        _col("cancel_reason", "VARCHAR"),
    ),
)

USAGE_EVENTS = SourceContract(
    name="usage_events",
    folder="usage_events",
    pattern="*.parquet",
    key=("event_id",),
    columns=(
        _col("event_id", "VARCHAR", required=True),
        _col("account_id", "VARCHAR", required=True),
        _col("event_type", "VARCHAR", required=True),
        _col("occurred_at", "TIMESTAMP", required=True),
        _col("user_id", "VARCHAR"),
        _col("session_seconds", "DOUBLE"),
        _col("feature", "VARCHAR"),
    ),
)

SOURCES: dict[str, SourceContract] = {s.name: s for s in (ACCOUNTS, SUBSCRIPTIONS, USAGE_EVENTS)}
