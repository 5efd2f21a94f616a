"""What the raw-table suites validate: the frame per source and the contract's own rules.

Each suite combines two halves. The contract half (columns, required values, key
uniqueness, ranges) is derived from ``ingest.contract`` so the two can never disagree.
The semantic half (accepted values, referential integrity, freshness, volume) lives in
``suites/raw_<source>.json``. Usage events never enter pandas: their suite runs on a
daily profile computed in SQL (one row per activity date).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import duckdb
import pandas as pd

from ingest.contract import SourceContract
from pipeline_config import accepted_account_values

LOAD_COLUMNS = ["_source_file", "_source_row", "_loaded_at"]


def reference_date(config: Mapping[str, Any]) -> date:
    """ "Today" for freshness: ``ingest.reference_date``, else the run's as-of date
    (``run.as_of_date``: a past night is judged as of that night), else today (UTC)."""
    configured = config["ingest"].get("reference_date") or config["run"].get("as_of_date")
    return date.fromisoformat(str(configured)) if configured else datetime.now(UTC).date()


def contract_expectations(contract: SourceContract) -> list[dict[str, Any]]:
    if contract.name == "usage_events":  # validated as a daily profile; the loader owns rows
        return []
    columns = [c.name for c in contract.columns]
    out: list[dict[str, Any]] = [
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": columns + LOAD_COLUMNS, "exact_match": False},
            "meta": {"rule": "schema: every contract column is present"},
        }
    ]
    out += [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": name}}
        for name in contract.required
    ]
    key = list(contract.key) + (["_source_file"] if contract.key_scope == "file" else [])
    out.append(
        {
            "type": "expect_compound_columns_to_be_unique",
            "kwargs": {"column_list": key},
            "meta": {"rule": f"key unique ({contract.key_scope} scope)"},
        }
        if len(key) > 1
        else {
            "type": "expect_column_values_to_be_unique",
            "kwargs": {"column": key[0]},
            "meta": {"rule": "key unique (global scope)"},
        }
    )
    for c in contract.columns:
        if c.min is not None or c.max is not None:
            out.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {"column": c.name, "min_value": c.min, "max_value": c.max},
                }
            )
    return out


def _accounts_frame(con: duckdb.DuckDBPyConnection, reference: date) -> pd.DataFrame:
    return con.execute(
        """
        with files as (
            select _source_file, count(*) as file_rows,
                   coalesce(max(snapshot_date), max(cast(_loaded_at as date))) as file_date
            from raw.accounts group by _source_file
        ), ordered as (
            select *,
                file_rows / lag(file_rows) over (order by file_date, _source_file) as ratio,
                row_number() over (order by file_date desc, _source_file desc) as recency
            from files
        )
        -- only the newest snapshot against the one before it: an old, accepted drop
        -- (a CRM clean-up) must not fail every later run
        select a.*, datediff('day', o.file_date, ?) as days_before_reference,
               case when o.recency = 1 then o.ratio end as ratio_to_previous_file
        from raw.accounts as a join ordered as o using (_source_file)
        """,
        [reference],
    ).df()


def _usage_profile(
    con: duckdb.DuckDBPyConnection, reference: date, mapped_names: list[str]
) -> pd.DataFrame:
    """One row per activity date: counts, shares, and for the 7 complete days before the
    reference date the ratio to the median of the same weekday in the 4 weeks before."""
    return con.execute(
        """
        with counted as (
            select cast(occurred_at as date) as activity_date,
                   count(*) as events,
                   count(distinct account_id) as accounts,
                   avg(case when account_id is null then 1 else 0 end) as null_account_share,
                   avg(case when list_contains(?, event_type) then 0 else 1 end)
                       as unmapped_event_share
            from raw.usage_events group by 1
        ), spine as (  -- every day up to the reference date: a day with no events is a row
            select cast(d as date) as activity_date
            from range((select min(activity_date) from counted), cast(? as date), interval 1 day)
                as t(d)
        ), daily as (
            select s.activity_date, coalesce(c.events, 0) as events,
                   coalesce(c.accounts, 0) as accounts, c.null_account_share,
                   c.unmapped_event_share
            from spine as s left join counted as c using (activity_date)
        ), baseline as (
            select d.activity_date, median(p.events) as weekday_median
            from daily as d join daily as p
              on datediff('day', p.activity_date, d.activity_date) in (7, 14, 21, 28)
            group by 1
        )
        select d.*,
               case when d.events > 0 then datediff('day', d.activity_date, ?) end
                   as days_before_reference,
               case when d.activity_date between ? - 7 and ? - 1
                    then d.events / b.weekday_median end as ratio_to_weekday_median
        from daily as d
        left join baseline as b using (activity_date)
        where d.events > 0 or d.activity_date >= ? - 7
        order by d.activity_date
        """,
        [mapped_names, reference, reference, reference, reference, reference],
    ).df()


def raw_table_frame(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, config: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The frame the suite of ``contract`` validates, and the suite's parameters."""
    ingest = config["ingest"]
    reference = reference_date(config)
    parameters: dict[str, Any] = {
        "freshness_max_lag_days": ingest["freshness_max_lag_days"],
        "volume_min_ratio": ingest["volume_min_ratio"],
        "snapshot_min_ratio": ingest["snapshot_min_ratio"],
        **accepted_account_values(config),
    }
    if contract.name == "usage_events":
        names = sorted({n for names in config["event_roles"].values() for n in names})
        return _usage_profile(con, reference, names), parameters
    if contract.name == "accounts":
        return _accounts_frame(con, reference), parameters
    if contract.name == "subscriptions":
        parameters["known_account_ids"] = [
            r[0] for r in con.execute("select distinct account_id from raw.accounts").fetchall()
        ]
    return con.execute(f"select * from raw.{contract.name}").df(), parameters
