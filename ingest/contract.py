"""The raw-data contract: per source, where files land, their columns, types, ranges and key.

This is the single description of what a company's exports must look like; the loader,
the raw tables' DDL, the Dagster ingest assets and docs/data-contract.md all follow it.
Only accounts, subscriptions and usage_events are required sources; every other source
may have no files at all (its raw table then exists and is empty).
"""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".jsonl": "json",
    ".jsonl.gz": "json",
    ".ndjson": "json",
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    sql_type: str  # VARCHAR, DOUBLE, INTEGER, BIGINT, DATE, TIMESTAMP (stored as UTC)
    required: bool = False  # a null here quarantines the row; a missing column rejects the file
    min: float | None = None
    max: float | None = None
    not_future: bool = False  # values after the load time (plus tolerance) are quarantined

    @property
    def is_identifier(self) -> bool:
        """Ids (the key and every *_id reference) must match exactly: a padded copy of an
        id would be another account, so stray whitespace quarantines the row."""
        return self.sql_type == "VARCHAR" and self.name.endswith("_id")


@dataclass(frozen=True)
class SourceContract:
    name: str  # raw table name and asset key suffix
    folder: str  # sub-folder of the landing zone
    key: tuple[str, ...]
    # "file": every delivery is a full snapshot or a new version of its rows (the key is
    #   unique within a file; staging keeps the newest version).
    # "global": append-only records (the key is unique across all deliveries; a row seen
    #   before is de-duplicated, a key seen before with other content is quarantined).
    key_scope: str
    columns: tuple[ColumnSpec, ...]
    required_source: bool = False
    checks_account: bool = True  # account_id must exist in raw.accounts
    description: str = ""

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def file_format(self, path: str) -> str:
        for suffix, fmt in FORMATS.items():
            if path.endswith(suffix):
                return fmt
        raise ValueError(f"{path}: unsupported file type (accepted: {', '.join(FORMATS)})")


# Upper bounds that no real record reaches: they catch unit bugs and overflowed exports
# (1e308 passes as a finite number) before they reach MRR totals and revenue at risk.
MAX_MONEY = 1e9  # per payment or per month of one account, in the billing currency
MAX_SEATS = 1_000_000
MAX_SESSION_SECONDS = 7 * 24 * 3600


def _c(name: str, sql_type: str = "VARCHAR", required: bool = False, **rules) -> ColumnSpec:
    return ColumnSpec(name, sql_type, required, **rules)


ACCOUNTS = SourceContract(
    name="accounts",
    folder="accounts",
    key=("account_id",),
    key_scope="file",
    required_source=True,
    checks_account=False,
    description="CRM snapshot: every account with its current attributes, one file per export.",
    columns=(
        _c("account_id", required=True),
        _c("company_name", required=True),
        _c("segment", required=True),
        _c("plan", required=True),
        _c("contract_term", required=True),
        _c("mrr", "DOUBLE", required=True, min=0, max=MAX_MONEY),
        _c("signup_date", "DATE", required=True, not_future=True),
        _c("csm_owner", required=True),
        _c("seats", "INTEGER", min=0, max=MAX_SEATS),
        _c("renewal_date", "DATE"),
        _c("contact_name"),
        _c("contact_email"),
        _c("country"),
        _c("timezone"),
        _c("snapshot_date", "DATE", not_future=True),
        _c("do_not_contact", "BOOLEAN"),  # CRM opt-out: never on an outreach list
    ),
)

USERS = SourceContract(
    name="users",
    folder="users",
    key=("user_id",),
    key_scope="file",
    description="User directory: the people of each account (team products).",
    columns=(
        _c("user_id", required=True),
        _c("account_id", required=True),
        _c("full_name"),
        _c("email"),
        _c("role"),
        _c("created_at", "DATE", not_future=True),
        _c("deactivated_at", "DATE"),
    ),
)

SUBSCRIPTIONS = SourceContract(
    name="subscriptions",
    folder="subscriptions",
    key=("subscription_id",),
    key_scope="file",
    required_source=True,
    description="Subscription periods; a plan change ends one period and starts the next.",
    columns=(
        _c("subscription_id", required=True),
        _c("account_id", required=True),
        _c("mrr", "DOUBLE", required=True, min=0, max=MAX_MONEY),
        _c("start_date", "DATE", required=True, not_future=True),
        _c("end_date", "DATE"),
        _c("plan"),
        _c("contract_term"),
        _c("seats", "INTEGER", min=0, max=MAX_SEATS),
    ),
)

CANCELLATIONS = SourceContract(
    name="cancellations",
    folder="cancellations",
    key=("cancellation_id",),
    key_scope="global",
    description="Cancellation requests with the stated reason (enrichment; churn itself "
    "is derived from subscription periods).",
    columns=(
        _c("cancellation_id", required=True),
        _c("account_id", required=True),
        _c("effective_date", "DATE", required=True),
        _c("requested_at", "TIMESTAMP", not_future=True),
        _c("subscription_id"),
        _c("reason"),
        _c("churn_type"),
    ),
)

PAYMENTS = SourceContract(
    name="payments",
    folder="payments",
    key=("payment_id",),
    key_scope="global",
    description="Payment attempts, failed ones included (involuntary churn).",
    columns=(
        _c("payment_id", required=True),
        _c("account_id", required=True),
        _c("attempted_at", "TIMESTAMP", required=True, not_future=True),
        _c("amount", "DOUBLE", required=True, min=0, max=MAX_MONEY),
        _c("status", required=True),
        _c("invoice_id"),
        _c("currency"),
        _c("failure_code"),
    ),
)

USAGE_EVENTS = SourceContract(
    name="usage_events",
    folder="usage_events",
    key=("event_id",),
    key_scope="global",
    required_source=True,
    description="Product usage events with the company's own event names "
    "(mapped to roles by the event_roles config).",
    columns=(
        _c("event_id", required=True),
        _c("account_id", required=True),
        _c("event_type", required=True),
        _c("occurred_at", "TIMESTAMP", required=True, not_future=True),
        _c("user_id"),
        _c("session_seconds", "DOUBLE", min=0, max=MAX_SESSION_SECONDS),
        _c("feature"),
    ),
)

SUPPORT_TICKETS = SourceContract(
    name="support_tickets",
    folder="support_tickets",
    key=("ticket_id",),
    key_scope="file",
    description="Help-desk tickets; a ticket re-appears in a later export when it changes.",
    columns=(
        _c("ticket_id", required=True),
        _c("account_id", required=True),
        _c("opened_at", "TIMESTAMP", required=True, not_future=True),
        _c("requester_user_id"),
        _c("first_response_at", "TIMESTAMP", not_future=True),
        _c("closed_at", "TIMESTAMP", not_future=True),
        _c("status"),
        _c("priority"),
        _c("category"),
        _c("csat", "DOUBLE", min=1, max=5),
        _c("subject"),
        _c("updated_at", "TIMESTAMP", not_future=True),
    ),
)

NPS_RESPONSES = SourceContract(
    name="nps_responses",
    folder="nps_responses",
    key=("response_id",),
    key_scope="global",
    description="NPS survey answers (0-10).",
    columns=(
        _c("response_id", required=True),
        _c("account_id", required=True),
        _c("responded_at", "TIMESTAMP", required=True, not_future=True),
        _c("score", "INTEGER", required=True, min=0, max=10),
        _c("user_id"),
        _c("comment"),
    ),
)

OUTREACH_OUTCOMES = SourceContract(
    name="outreach_outcomes",
    folder="outreach_outcomes",
    key=("outreach_id",),
    key_scope="global",
    description="What happened to outreach sent from the drafts: opens, clicks, replies.",
    columns=(
        _c("outreach_id", required=True),
        _c("account_id", required=True),
        _c("sent_at", "TIMESTAMP", required=True, not_future=True),
        _c("alert_id"),
        _c("channel"),
        _c("opened_at", "TIMESTAMP", not_future=True),
        _c("clicked_at", "TIMESTAMP", not_future=True),
        _c("replied_at", "TIMESTAMP", not_future=True),
        _c("outcome"),
    ),
)

ALERT_FEEDBACK = SourceContract(
    name="alert_feedback",
    folder="alert_feedback",
    key=("feedback_id",),
    key_scope="global",
    description="CSM feedback on alerts: engaged or dismissed, with a reason code.",
    columns=(
        _c("feedback_id", required=True),
        _c("account_id", required=True),
        _c("action", required=True),
        _c("submitted_at", "TIMESTAMP", required=True, not_future=True),
        _c("alert_id"),
        _c("alert_type"),
        _c("csm_owner"),
        _c("reason_code"),
        _c("comment"),
    ),
)

SOURCES: dict[str, SourceContract] = {
    s.name: s
    for s in (
        ACCOUNTS, USERS, SUBSCRIPTIONS, CANCELLATIONS, PAYMENTS, USAGE_EVENTS,
        SUPPORT_TICKETS, NPS_RESPONSES, OUTREACH_OUTCOMES, ALERT_FEEDBACK,
    )
}  # fmt: skip
