"""Great Expectations gates on the key marts: what each suite reads, and the row-count
history that lets a suite compare tonight's size with the last good run's.

Only account-level marts are pulled into pandas (never event- or account-day tables):
the frames here are at most accounts x observation months. Each suite file in
``suites/mart_<model>.json`` marks its distribution and growth rules with
``"meta": {"severity": "warning"}``: those report without blocking, every other rule
blocks downstream assets when it fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from pipeline_config import accepted_account_values

ROW_COUNTS_TABLE = "audit.mart_row_counts"


@dataclass(frozen=True)
class MartSuite:
    model: str  # the dbt model (its table is marts.<model>)
    key: tuple[str, ...]  # the grain: failing rows are reported by these columns
    where: str = "true"  # which rows the suite validates
    derived: str = ""  # extra SQL columns some rules need, e.g. ", ... as band_share"

    @property
    def suite(self) -> str:
        return f"mart_{self.model}"

    @property
    def table(self) -> str:
        return f"marts.{self.model}"


MART_SUITES = (
    # tonight's health scores: what the alerts and dashboards show; each row carries its
    # band's share, so the "one band holds almost everyone" rule names that band's accounts
    MartSuite(
        "fct_account_health",
        ("account_id", "observation_date"),
        "observation_date = (select max(observation_date) from marts.fct_account_health)",
        ", count(*) over (partition by health_band) * 1.0 / count(*) over () as band_share",
    ),
    # the model's training and scoring rows (the alert nights come and go with the
    # lookback: their volume is not the model's)
    MartSuite("fct_account_snapshots", ("account_id", "observation_date"), "is_model_row"),
    # the churn metrics analysts and the executive dashboard read
    MartSuite("fct_churn_monthly", ("month_start", "segment")),
)


def mart_frame(con: duckdb.DuckDBPyConnection, mart: MartSuite) -> pd.DataFrame:
    """The rows a suite validates (account level: never more than accounts x months)."""
    return con.execute(f"select *{mart.derived} from {mart.table} where {mart.where}").df()


def previous_row_count(con: duckdb.DuckDBPyConnection, mart: MartSuite) -> int | None:
    """Rows the mart had at its last passing check (None before the first)."""
    con.execute(
        f"create schema if not exists audit; create table if not exists {ROW_COUNTS_TABLE} "
        "(table_name varchar, checked_at timestamp, row_count bigint)"
    )
    row = con.execute(
        f"select row_count from {ROW_COUNTS_TABLE} where table_name = ? "
        "order by checked_at desc limit 1",
        [mart.table],
    ).fetchone()
    return None if row is None else int(row[0])


def record_row_count(con: duckdb.DuckDBPyConnection, mart: MartSuite, rows: int) -> None:
    """Remember a passing run's size: the next run's growth rule compares with it."""
    con.execute(
        f"insert into {ROW_COUNTS_TABLE} values (?, current_timestamp, ?)", [mart.table, rows]
    )


def suite_parameters(config: Mapping[str, Any], previous_rows: int | None) -> dict[str, Any]:
    """Thresholds from the pipeline config's ``marts_checks`` section, and row-count
    bounds from the previous run (a mart must never be empty)."""
    checks = config["marts_checks"]
    return {
        "min_health_score_stddev": checks["min_health_score_stddev"],
        "max_single_band_share": checks["max_single_band_share"],
        **accepted_account_values(config),
        "min_rows": 1
        if previous_rows is None
        else max(1, math.floor(previous_rows * checks["min_row_ratio"])),
        "max_rows": None
        if previous_rows is None
        else math.ceil(previous_rows * checks["max_row_ratio"]),
    }
