"""The win-back list: a thin reader of the dbt marts that compute it.

DOMAIN.md §9 lives in dbt (``models/marts/winback``): ``marts.fct_winback_candidates``
segments churned and long-inactive paying accounts by recency, lifetime value and past
engagement, tailors the offer to the churn reason, ranks them, schedules the 30/60/90-day
touches and keeps the excluded accounts with their reason; ``marts.fct_winback_reactivations``
measures who came back per offer. The thresholds are the ``winback`` config section.
"""

from __future__ import annotations

import duckdb
import pandas as pd

CANDIDATES_TABLE = "marts.fct_winback_candidates"
REACTIVATIONS_TABLE = "marts.fct_winback_reactivations"

# What customer success needs, in this order. PII is limited to the contact's name (no
# email, no phone): the list is shared with the team, the CRM holds the rest.
WINBACK_COLUMNS = [
    "priority_rank",       # 1..n: eligible accounts first, by priority score then lifetime value
    "account_id",
    "company_name",
    "csm_owner",
    "segment",
    "plan",
    "contact_name",
    "candidate_kind",      # churned | inactive (paying, no login for winback.inactive_days)
    "churned_on",          # null for inactive accounts
    "is_provisional",      # churned within the re-sign gap: may still continue
    "last_login_on",
    "days_since_churn",    # days since churn; for inactive accounts, since the last login
    "recency_bucket",      # 0-30, 31-90, 91-180, 180+
    "churn_reason",
    "churn_type",          # voluntary | involuntary
    "last_mrr",
    "lifetime_value",      # MRR billed over all subscription spells
    "tenure_days",
    "billed_months",
    "billed_periods",      # invoices: months, or years on annual terms
    "value_tier",          # high | medium | low (winback.value_tiers)
    "health_before_churn", # newest health score on or before the churn (inactive: before tonight)
    "engagement_tier",     # high | medium | low | unknown (health bands)
    "priority",            # high | medium | low
    "offer_key",
    "offer",               # the text, naming the product update when one waited for it
    "is_eligible",
    "exclusion_code",      # null when eligible; already_back, do_not_contact, past_last_touch, ...
    "excluded_reason",     # the code in words
    "touch_due_tonight",   # touch day (30 / 60 / 90; inactive: 45 / 60 / 90) due tonight, else null
    "touch_due_on",
    "next_touch_day",
    "next_touch_on",
    "returned_on",         # already_back rows: when the account came back
    "as_of_date",
]  # fmt: skip


def read_winback(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every row of the candidates mart in priority order (eligible first, then excluded
    with their reason), with :data:`WINBACK_COLUMNS`."""
    columns = ", ".join(WINBACK_COLUMNS)
    return con.execute(f"select {columns} from {CANDIDATES_TABLE} order by priority_rank").df()


def touches_tonight(frame: pd.DataFrame) -> pd.DataFrame:
    """The eligible rows of :func:`read_winback` with a touch due tonight, in the same order."""
    due = frame["is_eligible"].fillna(False).astype(bool) & frame["touch_due_tonight"].notna()
    return frame[due].reset_index(drop=True)


def in_cadence(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows CS still works on: all but those whose 30/60/90 cadence has ended (the
    site shows these; ``winback.csv`` keeps every row for analysis)."""
    return frame[frame["exclusion_code"].ne("past_last_touch")].reset_index(drop=True)


def read_reactivations(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The reactivations mart (one row per offer key x segment x value tier), best rate
    first."""
    return con.execute(
        f"select * from {REACTIVATIONS_TABLE} "
        "order by reactivation_rate desc, churns desc, offer_key, segment, value_tier"
    ).df()
