"""Benchmark dbt at 1M, 10M and 50M usage events: a full build, an incremental night,
and the floor (a hand-written DuckDB query doing the daily aggregation and trends).

``python -m bench.dbt_scale --events 10M`` (or ``--all``) generates a year of history in
a fresh work folder, holds the newest day's usage events back, ingests the rest, and
then measures, each in its own child process:

1. ``dbt build --full-refresh`` over the year minus one day;
2. the floor: one DuckDB connection (same ``memory_limit``) aggregating the same raw
   events per account-day and computing 30/90-day trends at the observation dates;
3. an incremental night: the held-back day arrives as a new landing file, the real
   loader (``bench.run_pipeline --phase ingest``) loads it with a newer ``_loaded_at``,
   then plain ``dbt build``.

The issue this answers sets three targets at 50M events on 2 cores: full build at most
2x the floor, peak memory at most 2.5 GB, and an incremental night at most 1/10 of the
full build's compute. "Compute" is the sum of the models' ``execution_time`` in dbt's
``run_results.json``: it leaves out dbt's start-up and parse, which do not grow with
the data, and the tests, which are reported on their own. dbt's debug log splits it
further: the time DuckDB spent on the models' SQL statements, on their commits (where
DuckDB's checkpoints land) and the rest, dbt's own work per model (rendering, caching,
bookkeeping: about 50 ms a model whatever its size).

Generation and ingestion are ``bench.run_pipeline``'s own children, and every child is
measured with its ``measure`` (``os.wait4``), as ``bench.ingest_scale`` does. The
launcher imports only the standard library and ``bench.run_pipeline``; anything that
needs DuckDB, PyYAML or a large JSON file (dbt's manifest) runs in a child of this
module (``--step``), so the launcher's small RSS stays the floor of every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench.ingest_scale import plan_targets, prepare_root, run_each, warehouse_mb
from bench.run_pipeline import (
    DBT_PROJECT_DIR,
    REPO_ROOT,
    _positive,
    _read_result,
    _write_result,
    child_env,
    dbt_command,
    machine,
    measure,
)

MONTHS = 12  # "one new day on a year of history"
# target -> accounts for 12 months of history. Calibration runs (seed 42, as of
# 2026-11-22) gave 1,521 events per account at 780 accounts, 1,568 at 7,200 and 1,574 at
# 36,600; these counts aim at the target from those ratios. bench.ingest_scale's 18-month
# counts scaled by 18/12 would overshoot by ~15%: a shorter history has fewer accounts
# that signed up late, so events per account fall less than the months do.
TARGETS: dict[str, int] = {
    "1M": 660,
    "10M": 6_380,
    "50M": 31_800,
}
CONFIG_ENV_VAR = "CHURN_CONFIG"  # pipeline_config.loader's; not imported: it loads PyYAML
HELD_BACK_DIR = "held_back"
FLOOR_SCHEMA = "bench_floor"
# dbt models whose work is the floor's work: events -> user-days -> account-days
# (fct_account_daily_usage also joins the per-feature days for distinct_features) ->
# trends at the observation dates. Their compute is compared with the floor's as well.
# Names the project does not have (it is being reworked) simply count zero.
USAGE_MODELS = (
    "int_usage_user_days_aggregated",
    "fct_account_feature_daily_usage",
    "fct_account_daily_usage",
    "int_observation_window_days_listed",
    "int_account_usage_windows_aggregated",
    "fct_account_usage_trends",
)
DAY_KEY = "activity_date"  # the unique_key of the incremental models fed by the events
TOP_MODELS = 5


@dataclass(frozen=True)
class DbtRun:
    """One ``dbt build``: the child's wall time and peak RSS, and run_results.json's view."""

    wall_s: float
    peak_rss_mb: float
    elapsed_s: float  # dbt's own elapsed_time: the nodes, without start-up and parse
    models_s: float  # sum of the models' execution_time: the "compute"
    models_sql_s: float  # of which DuckDB ran the models' SQL statements (dbt's debug log)
    models_commit_s: float  # ... and their commits, where DuckDB's checkpoints land
    tests_s: float  # data tests and unit tests
    # models_s split by materialization, incremental models by unique_key: "table", "view",
    # "incremental by activity_date" (event -> day models), "incremental by observation_date"
    by_materialization: dict[str, float]
    usage_models_s: float  # the models listed in USAGE_MODELS
    slowest: list[tuple[str, float]]  # the TOP_MODELS slowest models
    slowest_tests: list[tuple[str, float]]  # and the slowest tests
    models: int
    tests: int


@dataclass(frozen=True)
class DbtScaleResult:
    """One target's figures: the columns of the README tables, plus what produced them."""

    target: str
    accounts: int
    months: int
    as_of: str
    events: int  # generated
    events_full: int  # what the full build sees: everything but the newest day
    events_new_day: int
    held_back_day: str
    generate_s: float
    ingest_s: float
    ingest_peak_mb: float
    full: DbtRun
    floor_s: float
    floor_peak_mb: float
    floor_steps: dict[str, float]  # the floor's own statement timings (daily, trends)
    floor_rows: dict[str, int]
    night_ingest_s: float
    night_ingest_peak_mb: float
    night: DbtRun
    warehouse_mb: float
    # 1-minute load average when the target started and ended: the machine is shared,
    # and a busy neighbour shows up here before it shows up as a puzzling timing
    load_start: float
    load_end: float
    dbt_project_state: str  # project_state() at the start (and any change by the end)

    @property
    def full_vs_floor(self) -> float:
        return self.full.wall_s / self.floor_s

    @property
    def night_vs_full(self) -> float:
        return self.night.models_s / self.full.models_s

    @property
    def night_vs_full_warehouse(self) -> float:
        """The same ratio on what DuckDB did: the models' SQL and commits only."""
        night, full = self.night, self.full
        return (night.models_sql_s + night.models_commit_s) / (
            full.models_sql_s + full.models_commit_s
        )


def _by_kind(run: DbtRun) -> dict[str, float]:
    """A run's model time in the report's four columns."""
    day, other = 0.0, 0.0
    for kind, seconds in run.by_materialization.items():
        if kind == f"incremental by {DAY_KEY}":
            day += seconds
        elif kind.startswith("incremental"):
            other += seconds
    tables, views = (
        run.by_materialization.get("table", 0.0),
        run.by_materialization.get("view", 0.0),
    )
    return {"day": day, "other": other, "table": tables, "view": views}


# --- the steps (each runs in its own child process) ---------------------------------


def step_hold_back(workdir: Path) -> dict[str, Any]:
    """Move the newest day's events out of the newest monthly usage file, before ingest.

    Splitting the landing file (rather than deleting rows from raw.usage_events after
    the load) keeps the loader's ledger true to the raw table, and the held-back day is
    delivered later as an ordinary new file, as a nightly export would be. DuckDB
    rewrites both files; the loader casts every column, so the plain string columns that
    replace the generator's dictionary-encoded ones load the same.
    """
    import duckdb

    folder = workdir / "landing" / "usage_events"
    newest = sorted(folder.glob("usage_events_*.parquet"))[-1]
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")  # occurred_at is UTC; days are UTC days
        source = f"read_parquet('{newest}')"
        day = con.execute(f"select max(cast(occurred_at as date)) from {source}").fetchone()[0]
        held = workdir / HELD_BACK_DIR / f"usage_events_{day:%Y-%m-%d}.parquet"
        held.parent.mkdir(parents=True, exist_ok=True)
        rest = newest.with_suffix(".rest")
        con.execute(
            f"copy (select * from {source} where cast(occurred_at as date) = '{day}') "
            f"to '{held}' (format parquet)"
        )
        con.execute(
            f"copy (select * from {source} where cast(occurred_at as date) < '{day}') "
            f"to '{rest}' (format parquet)"
        )
        count = "select count(*) from read_parquet('{}')"
        held_rows = con.execute(count.format(held)).fetchone()[0]
        kept_rows = con.execute(count.format(rest)).fetchone()[0]
    finally:
        con.close()
    if kept_rows:
        rest.replace(newest)
    else:  # the newest day was the month's first: that month's file goes entirely
        rest.unlink()
        newest.unlink()
    return {"day": day.isoformat(), "held_back_events": held_rows, "file": str(held)}


def floor_sql(event_roles: dict[str, list[str]], min_history_days: int) -> dict[str, str]:
    """The floor's two statements: what dbt's usage models compute, written by hand.

    The daily step aggregates raw events straight to account-days (distinct users by
    ``count(distinct)``), and the trends step sums each account's days in the 120 days
    before each observation date (every month start at least ``min_history_days`` after
    the first usage day, plus the as-of date, the day after the newest event), as
    ``fct_account_usage_trends`` does: 7/30/90-day sums and the prior 90 days (31-120)
    of logins, core actions and session minutes, active days and the last active dates.
    """

    def names(role: str) -> str:
        return ", ".join("'" + name.replace("'", "''") + "'" for name in event_roles[role])

    login, core = f"event_type in ({names('login')})", f"event_type in ({names('core_action')})"
    daily = f"""
        create or replace table {FLOOR_SCHEMA}.account_days as
        select
            account_id,
            cast(occurred_at as date) as activity_date,
            count(*) filter (where {login}) as logins,
            count(distinct user_id) as active_users,
            coalesce(sum(session_seconds) filter (where {login}), 0) / 60.0 as session_minutes,
            count(*) filter (where {core}) as core_actions
        from raw.usage_events
        group by account_id, activity_date"""
    sums = []
    for metric in ("logins", "core_actions", "session_minutes"):
        for days in (7, 30, 90):
            sums.append(
                f"sum({metric}) filter (where u.activity_date >= d.observation_date - {days}) "
                f"as {metric}_{days}d"
            )
        sums.append(
            f"sum({metric}) filter (where u.activity_date < d.observation_date - 30) "
            f"as {metric}_prior_90d"
        )
    for days in (7, 30, 90):
        sums.append(
            f"count(*) filter (where u.activity_date >= d.observation_date - {days}) "
            f"as active_days_{days}d"
        )
    sums += [
        "max(u.activity_date) filter (where u.logins > 0) as last_login_date",
        "max(u.activity_date) filter (where u.core_actions > 0) as last_core_action_date",
        "max(u.activity_date) as last_activity_date",
    ]
    select_sums = ",\n            ".join(sums)
    trends = f"""
        create or replace table {FLOOR_SCHEMA}.trends as
        with bounds as (
            select
                min(activity_date) + {min_history_days} as first_date,
                max(activity_date) + 1 as as_of_date
            from {FLOOR_SCHEMA}.account_days
        ),
        dates as (
            select cast(m.generate_series as date) as observation_date
            from bounds as b,
                generate_series(
                    cast(date_trunc('month', b.first_date) as timestamp),
                    cast(b.as_of_date as timestamp),
                    interval 1 month
                ) as m
            where cast(m.generate_series as date) >= b.first_date
              and cast(m.generate_series as date) < b.as_of_date
            union all
            select as_of_date from bounds
        )
        select
            u.account_id,
            d.observation_date,
            {select_sums}
        from dates as d
        inner join {FLOOR_SCHEMA}.account_days as u
            on u.activity_date >= d.observation_date - {min_history_days}
            and u.activity_date < d.observation_date
        group by u.account_id, d.observation_date"""
    return {"daily": daily, "trends": trends}


def step_floor(workdir: Path) -> dict[str, Any]:
    """Run the floor on the warehouse the full build just read, then drop its tables.

    Same DuckDB settings as every pipeline connection (``warehouse_settings``: the
    memory limit dbt's profile also sets), two threads as DuckDB picks on this machine.
    """
    import duckdb

    from pipeline_config import load_config, resolve_paths, warehouse_settings

    config = load_config()
    statements = floor_sql(config["event_roles"], config["metrics"]["min_history_days"])
    con = duckdb.connect(str(resolve_paths().warehouse), config=warehouse_settings())
    timings, rows = {}, {}
    try:
        con.execute(f"create schema if not exists {FLOOR_SCHEMA}")
        for name, sql in statements.items():
            started = time.perf_counter()
            con.execute(sql)
            timings[name] = round(time.perf_counter() - started, 2)
        for table in ("account_days", "trends"):
            rows[table] = con.execute(f"select count(*) from {FLOOR_SCHEMA}.{table}").fetchone()[0]
        con.execute(f"drop schema {FLOOR_SCHEMA} cascade")
    finally:
        con.close()
    return {"steps": timings, "rows": rows}


STATEMENT_OF = re.compile(r"On (\w+)\.\w+\.(\w+)[.\w]*: (\S+)")
STATEMENT_TIME = re.compile(r"SQL status: \S+ in ([0-9.]+) seconds")


def statement_seconds(log: Path) -> dict[str, dict[str, float]]:
    """Per model, the seconds DuckDB spent on its statements in the newest dbt invocation
    of ``log`` (dbt's debug log file), split into "commit" and everything else ("sql").

    dbt logs every statement as "On model.<project>.<name>: <statement>" and then its
    "SQL status: ... in <seconds> seconds"; a model's execution_time minus these is
    dbt's own work for the model.
    """
    lines = log.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if "Running with dbt" in line]
    seconds: dict[str, dict[str, float]] = {}
    model, kind = None, "sql"
    for line in lines[starts[-1] if starts else 0 :]:
        if found := STATEMENT_OF.search(line):  # tests run between models: not counted
            model = found.group(2) if found.group(1) == "model" else None
            kind = "commit" if found.group(3).startswith("COMMIT") else "sql"
        elif (took := STATEMENT_TIME.search(line)) and model:
            split = seconds.setdefault(model, {"sql": 0.0, "commit": 0.0})
            split[kind] += float(took.group(1))
    return seconds


def step_dbt_summary(workdir: Path, label: str) -> dict[str, Any]:
    """Sum run_results.json's execution times by resource type and materialization.

    The materialization comes from the manifest of the same run (several MB of JSON,
    which is why this is a child and not the launcher). run_results.json is kept as
    ``bench_results/run_results_<label>.json``: the next build overwrites the original.
    """
    target = workdir / "dbt_target"
    run_results = json.loads((target / "run_results.json").read_text())
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    shutil.copy(
        target / "run_results.json", workdir / "bench_results" / f"run_results_{label}.json"
    )
    statements = statement_seconds(workdir / "dbt_logs" / "dbt.log")
    models, tests, by_materialization = {}, {}, {}
    failed = [
        r["unique_id"] for r in run_results["results"] if r["status"] not in ("success", "pass")
    ]
    for r in run_results["results"]:
        kind = r["unique_id"].split(".", 1)[0]
        if kind == "model":
            name = nodes[r["unique_id"]]["name"]
            models[name] = r["execution_time"]
            config = nodes[r["unique_id"]]["config"]
            materialized = config["materialized"]
            if materialized == "incremental":
                materialized = f"incremental by {config.get('unique_key')}"
            by_materialization[materialized] = (
                by_materialization.get(materialized, 0.0) + r["execution_time"]
            )
        elif kind in ("test", "unit_test"):
            tests[nodes.get(r["unique_id"], {}).get("name", r["unique_id"])] = r["execution_time"]

    def slowest(times: dict[str, float]) -> list[tuple[str, float]]:
        top = sorted(times.items(), key=lambda item: item[1], reverse=True)[:TOP_MODELS]
        return [(name, round(seconds, 2)) for name, seconds in top]

    in_models = [statements.get(name, {"sql": 0.0, "commit": 0.0}) for name in models]
    return {
        "elapsed_s": round(run_results["elapsed_time"], 2),
        "models_s": round(sum(models.values()), 2),
        "models_sql_s": round(sum(split["sql"] for split in in_models), 2),
        "models_commit_s": round(sum(split["commit"] for split in in_models), 2),
        "tests_s": round(sum(tests.values()), 2),
        "by_materialization": {k: round(v, 2) for k, v in sorted(by_materialization.items())},
        "usage_models_s": round(sum(models.get(m, 0.0) for m in USAGE_MODELS), 2),
        "slowest": slowest(models),
        "slowest_tests": slowest(tests),
        "models": len(models),
        "tests": len(tests),
        "not_passed": failed,
    }


STEPS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "hold-back": step_hold_back,
    "floor": step_floor,
}


# --- the parent: run each step as a child and measure it ----------------------------


def project_state() -> str:
    """The commit and a hash of the dbt project's files as they are on disk.

    The models change while the project is developed, so a figure is only meaningful
    next to the code it measured; the hash also covers uncommitted edits.
    """
    digest = hashlib.sha256()
    files = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "tests"):
        files += sorted(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file())
    for path in files:
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    git = ["git", "-C", str(REPO_ROOT)]
    commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", str(DBT_PROJECT_DIR)], capture_output=True, text=True
    )
    edited = " + uncommitted edits" if changed.stdout.strip() else ""
    return f"{commit.stdout.strip() or 'no git'}{edited}, files {digest.hexdigest()[:10]}"


def _log(target: str, message: str) -> None:
    print(f"[bench] {target}: {message}", file=sys.stderr, flush=True)


def _run_dbt(
    target: str, label: str, workdir: Path, env: dict[str, str], extra: list[str]
) -> DbtRun:
    """One measured ``dbt build`` (run_pipeline's command, plus ``extra``) and its summary."""
    _log(target, f"dbt build {' '.join(extra)} ...".replace("  ", " "))
    command = dbt_command(workdir, env, []) + extra
    log = workdir / "bench_logs" / f"dbt_{label}.log"
    measured = measure(f"dbt {label}", command, DBT_PROJECT_DIR, env, log)
    summary_command = [sys.executable, "-m", "bench.dbt_scale", "--step", "dbt-summary"]
    summary_command += ["--workdir", str(workdir), "--label", label]
    subprocess.run(summary_command, cwd=REPO_ROOT, env=env, check=True)
    summary = _read_result(workdir, f"dbt_{label}")
    if summary["not_passed"]:  # warnings from tests would still be success for the exit code
        _log(target, f"dbt {label}: not passed: {summary['not_passed']}")
    run = DbtRun(
        wall_s=measured.wall_s,
        peak_rss_mb=measured.peak_rss_mb,
        elapsed_s=summary["elapsed_s"],
        models_s=summary["models_s"],
        models_sql_s=summary["models_sql_s"],
        models_commit_s=summary["models_commit_s"],
        tests_s=summary["tests_s"],
        by_materialization=summary["by_materialization"],
        usage_models_s=summary["usage_models_s"],
        slowest=[tuple(item) for item in summary["slowest"]],
        slowest_tests=[tuple(item) for item in summary["slowest_tests"]],
        models=summary["models"],
        tests=summary["tests"],
    )
    _log(target, f"dbt {label}: {run.wall_s} s, {run.peak_rss_mb} MB, models {run.models_s} s")
    return run


def run_target(
    target: str, accounts: int, months: int, workdir: Path, config: Path | None
) -> DbtScaleResult:
    """Generate, hold back the newest day, ingest, full build, floor, then one night.

    ``config`` (from ``--as-of``) becomes the children's ``CHURN_CONFIG``.
    """
    load_start = round(os.getloadavg()[0], 2)
    state = project_state()
    env = child_env(workdir)
    if config is not None:
        env[CONFIG_ENV_VAR] = str(config)

    def child(name: str, module: str, flag: str, value: str) -> Any:
        command = [sys.executable, "-m", module, flag, value, "--workdir", str(workdir)]
        if module == "bench.run_pipeline":
            command += ["--accounts", str(accounts), "--months", str(months)]
        _log(target, f"{name} ...")
        measured = measure(name, command, REPO_ROOT, env, workdir / "bench_logs" / f"{name}.log")
        _log(target, f"{name}: {measured.wall_s} s, {measured.peak_rss_mb} MB")
        return measured

    generate = child("generate", "bench.run_pipeline", "--phase", "generate")
    child("hold-back", "bench.dbt_scale", "--step", "hold-back")
    ingest = child("ingest", "bench.run_pipeline", "--phase", "ingest")
    generated, held = _read_result(workdir, "generate"), _read_result(workdir, "hold-back")
    full = _run_dbt(target, "full", workdir, env, ["--full-refresh"])
    floor = child("floor", "bench.dbt_scale", "--step", "floor")
    floor_counts = _read_result(workdir, "floor")

    # the night: the held-back day is delivered as a new file and loaded as usual
    new_file = Path(held["file"])
    shutil.move(new_file, workdir / "landing" / "usage_events" / new_file.name)
    night_ingest = child("night-ingest", "bench.run_pipeline", "--phase", "ingest")
    night_loaded = _read_result(workdir, "ingest")["usage_events"]
    if night_loaded["files"] != 1 or night_loaded["rows_loaded"] != held["held_back_events"]:
        sys.exit(f"{target}: the night's load is not the held-back day: {night_loaded} vs {held}")
    night = _run_dbt(target, "night", workdir, env, [])
    if project_state() != state:  # measured across an edit: the figures mix two versions
        state = f"{state} CHANGED DURING THE RUN to {project_state()}"
        _log(target, f"warning: dbt project {state}")
    return DbtScaleResult(
        target=target,
        accounts=accounts,
        months=months,
        as_of=generated["as_of"],
        events=generated["events"],
        events_full=generated["events"] - held["held_back_events"],
        events_new_day=held["held_back_events"],
        held_back_day=held["day"],
        generate_s=generate.wall_s,
        ingest_s=ingest.wall_s,
        ingest_peak_mb=ingest.peak_rss_mb,
        full=full,
        floor_s=floor.wall_s,
        floor_peak_mb=floor.peak_rss_mb,
        floor_steps=floor_counts["steps"],
        floor_rows=floor_counts["rows"],
        night_ingest_s=night_ingest.wall_s,
        night_ingest_peak_mb=night_ingest.peak_rss_mb,
        night=night,
        warehouse_mb=warehouse_mb(workdir),
        load_start=load_start,
        load_end=round(os.getloadavg()[0], 2),
        dbt_project_state=state,
    )


def report(results: list[DbtScaleResult], info: dict[str, Any]) -> str:
    """Three markdown tables (full build vs floor, the night, slowest models) and the
    machine line."""
    lines = [
        "Full build (year minus one day) vs the floor:",
        "",
        "| target | accounts | events | full wall s | dbt start + parse s | full peak MB "
        "| models s | usage models s | tests s | floor wall s | floor daily + trends s "
        "| floor peak MB | full / floor | models / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        steps, full = r.floor_steps, r.full
        lines.append(
            f"| {r.target} | {r.accounts:,} | {r.events_full:,} | {full.wall_s:.2f} "
            f"| {full.wall_s - full.elapsed_s:.2f} | {full.peak_rss_mb:.1f} | {full.models_s:.2f} "
            f"| {full.usage_models_s:.2f} | {full.tests_s:.2f} | {r.floor_s:.2f} "
            f"| {steps['daily']:.2f} + {steps['trends']:.2f} | {r.floor_peak_mb:.1f} "
            f"| {r.full_vs_floor:.2f} | {full.models_s / r.floor_s:.2f} |"
        )
    lines += [
        "",
        "Incremental night (one new day loaded, then `dbt build`):",
        "",
        "| target | day | new-day events | night ingest s | night wall s | dbt start + parse s "
        "| night peak MB | models s | day-level incr. s | other incr. s | tables s | views s "
        "| tests s | night / full models |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        night, by = r.night, _by_kind(r.night)
        lines.append(
            f"| {r.target} | {date.fromisoformat(r.held_back_day):%a} | {r.events_new_day:,} "
            f"| {r.night_ingest_s:.2f} | {night.wall_s:.2f} | {night.wall_s - night.elapsed_s:.2f} "
            f"| {night.peak_rss_mb:.1f} | {night.models_s:.2f} | {by['day']:.2f} "
            f"| {by['other']:.2f} | {by['table']:.2f} | {by['view']:.2f} | {night.tests_s:.2f} "
            f"| {r.night_vs_full:.3f} |"
        )
    lines += [
        "",
        "Model time split (dbt's debug log): DuckDB's SQL, its commits (checkpoints), and "
        "dbt's own work per model:",
        "",
        "| target | models | full SQL s | full commit s | full dbt s | night SQL s "
        "| night commit s | night dbt s | night / full (SQL + commit) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        full, night = r.full, r.night
        lines.append(
            f"| {r.target} | {night.models} | {full.models_sql_s:.2f} | {full.models_commit_s:.2f} "
            f"| {full.models_s - full.models_sql_s - full.models_commit_s:.2f} "
            f"| {night.models_sql_s:.2f} | {night.models_commit_s:.2f} "
            f"| {night.models_s - night.models_sql_s - night.models_commit_s:.2f} "
            f"| {r.night_vs_full_warehouse:.3f} |"
        )
    lines += ["", "Slowest models and tests (execution_time, s):", ""]
    for r in results:
        for label, run in (("full", r.full), ("night", r.night)):
            top = ", ".join(f"{name} {s:.2f}" for name, s in run.slowest)
            lines.append(f"- {r.target} {label}: {top}")
            top = ", ".join(f"{name} {s:.2f}" for name, s in run.slowest_tests[:3])
            lines.append(f"  - tests: {top}")
    m = info["machine"]
    loads = ", ".join(f"{r.target} {r.load_start:.2f} -> {r.load_end:.2f}" for r in results)
    states = sorted({r.dbt_project_state for r in results})
    lines.append("")
    lines.append(f"dbt project: {'; '.join(states)}")
    lines.append(
        f"load average (1 min) at the start and end of each target: {loads} · "
        f"months: {info['months']} · as of {results[0].as_of if results else '-'} "
        f"· machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GiB RAM "
        f"· DuckDB memory_limit {info['memory_limit']} · launcher "
        f"{info['launcher_rss_mb']:.1f} MB · {info['date']}"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--events", choices=list(TARGETS), action="append", help="a target size (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="every target, smallest first")
    which.add_argument("--accounts", type=_positive, help="a custom size instead of a target")
    parser.add_argument("--months", type=_positive, default=MONTHS)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="the simulator's as-of date (the held-back day); default: the config's (yesterday)",
    )
    parser.add_argument("--workdir", type=Path, help="default: a fresh folder under /tmp")
    parser.add_argument("--keep", action="store_true", help="keep the work folders")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument(
        "--step", choices=[*STEPS, "dbt-summary"], help=argparse.SUPPRESS
    )  # a child
    parser.add_argument("--label", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.step and not (args.events or args.all or args.accounts):
        parser.error("one of --events, --all or --accounts is required")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.step:  # a child: run one step, hand its counts back, exit
        workdir = args.workdir.resolve()
        if args.step == "dbt-summary":
            _write_result(workdir, f"dbt_{args.label}", step_dbt_summary(workdir, args.label))
        else:
            _write_result(workdir, args.step, STEPS[args.step](workdir))
        return

    plan = plan_targets(args, TARGETS)
    root = prepare_root(args.workdir, "churn-dbt-scale-")
    config = None
    if args.as_of:
        # JSON is YAML: a one-key config file, deep-merged over the defaults like any other
        if os.environ.get(CONFIG_ENV_VAR):
            sys.exit(f"--as-of cannot be combined with {CONFIG_ENV_VAR}: set simulator.as_of there")
        config = root / "bench_config.json"
        config.write_text(json.dumps({"simulator": {"as_of": args.as_of.isoformat()}}))

    results = run_each(
        plan,
        root,
        args,
        lambda target, accounts, workdir: run_target(
            target, accounts, args.months, workdir, config
        ),
    )

    info = {
        "date": date.today().isoformat(),
        "months": args.months,
        "machine": machine(),
        "memory_limit": child_env(root).get("CHURN_DUCKDB_MEMORY_LIMIT", "2GB (default)"),
        "launcher_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(report(results, info))
    if args.json:
        payload = {
            **info,
            "results": [
                {
                    **asdict(r),
                    "full_vs_floor": r.full_vs_floor,
                    "night_vs_full": r.night_vs_full,
                    "night_vs_full_warehouse": r.night_vs_full_warehouse,
                }
                for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
