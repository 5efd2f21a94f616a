"""The warehouse's incremental path and its point-in-time guarantee, on real dbt builds.

One dataset is delivered in three nights: first everything but October (usage events
and tickets) and one May day; then October; then the late May day. After each night
``dbt build`` runs incrementally. Then a full refresh must give exactly the same tables,
and the October delivery (all of it after the first night's observation dates) must
leave every earlier snapshot's features unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pandas.testing as pdt
import pytest
from conftest import DBT_DIR, PipelineDirs, generate_small, make_pipeline_dirs

from ingest import SOURCES, IngestRules, load_new_files
from ml.features import OUTCOMES
from pipeline_config import dbt_vars, load_config, warehouse_settings

LATE_DAY = "2026-05-14"
INCREMENTAL = [
    "intermediate.int_usage_user_days_aggregated",
    "intermediate.int_account_usage_windows_aggregated",
    "intermediate.int_account_adoption_windows_aggregated",
    "marts.fct_account_daily_usage",
    "marts.fct_account_feature_daily_usage",
]
DOWNSTREAM = ["marts.fct_account_snapshots", "marts.fct_account_health", "marts.fct_churn_monthly"]


class Nights:
    """Deliver files, load them with the real loader and run the real dbt build."""

    def __init__(self, dirs: PipelineDirs, config: Path, held: Path) -> None:
        self.dirs, self.held = dirs, held
        self.env = {
            **os.environ,
            "CHURN_WAREHOUSE_PATH": str(dirs.warehouse),
            "CHURN_CONFIG": str(config),
        }
        self.config = load_config(config)

    def deliver(self, *names: str) -> None:
        for name in names:
            source = name.split("/")[0]
            (self.held / name).rename(self.dirs.landing / source / Path(name).name)

    def ingest(self) -> None:
        rules = IngestRules.from_config(self.config["ingest"])
        with duckdb.connect(str(self.dirs.warehouse), config=warehouse_settings()) as con:
            for contract in SOURCES.values():
                load_new_files(con, contract, str(self.dirs.landing), rules)

    def dbt_build(self, *extra: str) -> None:
        command = [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--vars",
            json.dumps(dbt_vars(self.config)),
            "--target-path",
            str(self.dirs.root / "dbt_target"),
            *extra,
        ]
        done = subprocess.run(command, cwd=DBT_DIR, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:]

    def read(self, sql: str):
        with duckdb.connect(str(self.dirs.warehouse), read_only=True) as con:
            return con.execute(sql).df()

    def copy_tables(self, tables: list[str], schema: str) -> None:
        with duckdb.connect(str(self.dirs.warehouse)) as con:
            con.execute(f"create schema if not exists {schema}")
            for table in tables:
                name = table.split(".")[1]
                con.execute(f"create or replace table {schema}.{name} as select * from {table}")


def _hold_back(dirs: PipelineDirs, held: Path) -> date:
    """October's events and tickets wait for night two; one May day for night three.
    Returns the first UTC day the October files touch (files are cut by local time)."""
    for name in (
        "usage_events/usage_events_2026-10.parquet",
        "support_tickets/support_tickets_2026-10.jsonl",
    ):
        (held / name).parent.mkdir(parents=True, exist_ok=True)
        (dirs.landing / name).rename(held / name)
    may = dirs.landing / "usage_events" / "usage_events_2026-05.parquet"
    late = held / "usage_events" / f"usage_events_{LATE_DAY}.parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        day = f"cast(occurred_at as date) = date '{LATE_DAY}'"
        con.execute(f"copy (select * from '{may}' where {day}) to '{late}' (format parquet)")
        con.execute(f"copy (select * from '{may}' where not {day}) to '{may}.tmp' (format parquet)")
        events = held / "usage_events" / "usage_events_2026-10.parquet"
        tickets = held / "support_tickets" / "support_tickets_2026-10.jsonl"
        (first_day,) = con.execute(
            f"""select least(
                    (select min(cast(occurred_at as date)) from '{events}'),
                    (select min(cast(cast(updated_at as timestamptz) as date)) from '{tickets}'))"""
        ).fetchone()
    Path(f"{may}.tmp").rename(may)
    return first_day


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, test_config: Path) -> dict:
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("incremental"))
    generate_small(dirs)
    held = dirs.root / "held"
    october_starts = _hold_back(dirs, held)
    dirs.warehouse.parent.mkdir(parents=True, exist_ok=True)
    run = Nights(dirs, test_config, held)
    run.ingest()
    run.dbt_build()
    before_october = run.read("select * from marts.fct_account_snapshots")

    run.deliver(
        "usage_events/usage_events_2026-10.parquet",
        "support_tickets/support_tickets_2026-10.jsonl",
    )
    run.ingest()
    run.dbt_build()
    after_october = run.read("select * from marts.fct_account_snapshots")

    run.deliver(f"usage_events/usage_events_{LATE_DAY}.parquet")
    run.ingest()
    run.dbt_build()
    late_day_rows = run.read(
        f"select count(*) as n from marts.fct_account_daily_usage where activity_date = '{LATE_DAY}'"
    )["n"][0]
    run.copy_tables(INCREMENTAL + DOWNSTREAM, "incremental_copy")

    run.dbt_build("--full-refresh")
    return {
        "run": run,
        "before_october": before_october,
        "after_october": after_october,
        "late_day_rows": late_day_rows,
        "october_starts": october_starts,
    }


def _comparable(run: Nights, table: str) -> str:
    """The table's columns, doubles rounded: sums of doubles are added in whatever order
    DuckDB's threads finish, so two identical builds can differ in the last bits."""
    schema, name = table.split(".")
    columns = run.read(
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = '{schema}' and table_name = '{name}' order by ordinal_position"
    )
    return ", ".join(
        f"round({c}, 6) as {c}" if t in ("DOUBLE", "FLOAT") else c
        for c, t in zip(columns["column_name"], columns["data_type"], strict=True)
    )


@pytest.mark.parametrize("table", INCREMENTAL + DOWNSTREAM)
def test_incremental_nights_equal_a_full_refresh(nights, table):
    name = table.split(".")[1]
    columns = _comparable(nights["run"], table)
    full, incremental = (
        f"select {columns} from {table}",
        f"select {columns} from incremental_copy.{name}",
    )
    diff = nights["run"].read(
        f"""select count(*) as n from (
                ({full} except all {incremental}) union all ({incremental} except all {full}))"""
    )["n"][0]
    rows = nights["run"].read(f"select count(*) as n from {table}")["n"][0]
    assert rows > 0
    assert diff == 0, f"{table}: {diff} rows differ between incremental and full refresh"


def test_a_late_file_reopens_its_old_day(nights):
    assert nights["late_day_rows"] > 0  # the late May day was filled in by night three


def test_future_events_leave_past_snapshots_unchanged(nights):
    """Every event and ticket version of the October delivery is dated on or after its
    first day: snapshots observed on or before that day must keep every feature. Labels and
    the churn dates they summarise may change (that is what the new month tells), and so
    may the first night's scoring date (2026-10-02, not a month start) which the second
    night no longer observes."""
    before, after = nights["before_october"], nights["after_october"]
    cutoff = pd.Timestamp(nights["october_starts"])
    past = before[~before["is_scoring_row"] & (before["observation_date"] <= cutoff)]
    assert past["observation_date"].nunique() >= 4
    features = [c for c in before.columns if c not in [*OUTCOMES, "is_scoring_row"]]
    keys = ["account_id", "observation_date"]
    old = past[features].sort_values(keys).reset_index(drop=True)
    new = (
        after[after["observation_date"].isin(set(past["observation_date"]))][features]
        .sort_values(keys)
        .reset_index(drop=True)
    )
    assert len(old) == len(new)
    # the new month really added usage: the next scoring row sees October
    assert after["observation_date"].max() > before["observation_date"].max()
    pdt.assert_frame_equal(old, new, check_dtype=False)


def test_dbt_docs_generate_documents_every_mart_column(nights):
    """What an analyst runs: the catalog lists every mart, and every column of it has a
    description in the yml."""
    run = nights["run"]
    command = [str(Path(sys.executable).with_name("dbt")), "docs", "generate"]
    target = run.dirs.root / "dbt_target"
    done = subprocess.run(
        [*command, "--target-path", str(target), "--vars", json.dumps(dbt_vars(run.config))],
        cwd=DBT_DIR,
        env=run.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    catalog = json.loads((target / "catalog.json").read_text())["nodes"]
    manifest = json.loads((target / "manifest.json").read_text())["nodes"]
    marts = [
        k for k, n in manifest.items() if n["resource_type"] == "model" and n["schema"] == "marts"
    ]
    assert len(marts) >= 18
    for key in marts:
        described = {c for c, spec in manifest[key]["columns"].items() if spec["description"]}
        built = {c.lower() for c in catalog[key]["columns"]}
        assert built <= described, f"{key}: undocumented columns {sorted(built - described)}"
