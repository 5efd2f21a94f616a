"""Benchmark the pipeline on generated data: wall time and peak memory per phase.

``python -m bench.run_pipeline --size demo`` generates a dataset in a fresh work
folder and runs generate -> ingest -> dbt -> train -> score -> render, each phase in
its own child process. A phase's peak RSS is its child's ``ru_maxrss`` from
``os.wait4``, so no phase inherits the memory high-water mark of an earlier one (only
the launcher's, which is why the launcher itself stays small: see ``dbt_command``).

The same module is the child: ``--phase NAME`` runs one phase through the project's
library functions (the calls the Dagster assets make) and writes what it counted to
``<workdir>/bench_results/<phase>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


@dataclass(frozen=True)
class Scale:
    """What to generate. ``activity`` scales how often simulated users are active, so
    ``model`` gets its 20,000 accounts x 24 observation months without generating (and
    ingesting) 60M+ events the model never sees: it reads account-month snapshots only."""

    accounts: int
    months: int
    activity: float = 1.0


# tiny has 13 months because fewer cannot always train with the default config:
# snapshots start 120 days into the history, labels need 60 days of horizon after them,
# the backtest holds out test_months (3) labelled months and the training rows end
# embargo_days (60) before those (bench/README.md has the details). model has 28 months:
# 24 monthly observation dates after the first 120 days of history.
SIZES: dict[str, Scale] = {
    "tiny": Scale(150, 13),
    "demo": Scale(2000, 18),
    "large": Scale(10000, 18),
    "model": Scale(20000, 28, activity=0.25),
}
# dbt_night: the same build again with nothing new loaded, i.e. the least a night costs
# (tonight's date and the views); the alerts phase is compared with it
PHASES = ("generate", "ingest", "dbt", "dbt_night", "train", "score", "alerts", "dbt_outcomes",
          "render")  # fmt: skip
# dbt builds and their selection: the default selector (every model but the alert
# outcomes), then what alert_outcome_models builds after the alerts engine
DBT_PHASES = {"dbt": [], "dbt_night": [], "dbt_outcomes": ["--select", "tag:after_alerts"]}
RESULTS_DIR = "bench_results"
MODEL_FINGERPRINT = "bench"  # the model card's data_fingerprint; benchmarks don't need one


@dataclass(frozen=True)
class PhaseResult:
    phase: str
    wall_s: float
    peak_rss_mb: float


# --- the phases (each runs in its own child process) --------------------------------


def _write_result(workdir: Path, phase: str, counts: dict[str, Any]) -> None:
    """Hand counts back to the parent through a file: the child's stdout goes to its log."""
    folder = workdir / RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{phase}.json").write_text(json.dumps(counts, default=str))


def _read_result(workdir: Path, phase: str) -> dict[str, Any]:
    return json.loads((workdir / RESULTS_DIR / f"{phase}.json").read_text())


def phase_generate(workdir: Path, scale: Scale) -> dict[str, Any]:
    """The simulator, with as-of date and seed from the config as ``python -m simulator``.

    ``spec_from_config`` is the same resolution the CLI uses (a null as_of means
    yesterday), so the benchmark data looks like the demo's apart from its size.
    """
    from pipeline_config import load_config, resolve_paths
    from simulator import generate, spec_from_config

    spec = spec_from_config(
        load_config()["simulator"],
        accounts=scale.accounts,
        months=scale.months,
        activity=scale.activity,
    )
    paths = resolve_paths()
    result = generate(spec, Path(paths.landing), paths.outputs / "ground_truth")
    return {
        "events": result.events,
        "as_of": spec.as_of.isoformat(),
        "rows": result.rows,
        "files": result.files,
    }


def phase_ingest(workdir: Path, scale: Scale) -> dict[str, Any]:
    """Every source's landing files into raw.*, as the ingest assets load them.

    SOURCES is walked in dict order: accounts comes first, because the other sources
    check their account ids against raw.accounts.
    """
    import duckdb

    from alerts.seasonality import write_holiday_calendar
    from ingest import SOURCES, IngestRules, load_new_files
    from pipeline_config import load_config, resolve_paths, warehouse_settings

    rules = IngestRules.from_config(load_config()["ingest"])
    paths = resolve_paths()
    con = duckdb.connect(str(paths.warehouse), config=warehouse_settings())
    try:
        loads = {
            name: load_new_files(con, contract, str(paths.landing), rules)
            for name, contract in SOURCES.items()
        }
        # the reference/holiday_calendar asset, which follows ingestion
        write_holiday_calendar(con, load_config()["alerts"]["seasonality"])
    finally:
        con.close()
    return {
        name: {
            "files": len(files),
            "rows_read": sum(f.rows_read for f in files),
            "rows_loaded": sum(f.rows_loaded for f in files),
            "rows_quarantined": sum(f.rows_quarantined for f in files),
            "rows_deduplicated": sum(f.rows_deduplicated for f in files),
        }
        for name, files in loads.items()
    }


def phase_train(workdir: Path, scale: Scale) -> dict[str, Any]:
    """Train + backtest + save, the calls of the ``churn_model`` asset."""
    import duckdb

    from ml.features import read_snapshots
    from ml.register import record_model_version, register_model
    from ml.train import train_churn_model
    from pipeline_config import load_config, resolve_paths, warehouse_settings

    paths = resolve_paths()
    con = duckdb.connect(str(paths.warehouse), read_only=True, config=warehouse_settings())
    try:
        snapshots = read_snapshots(con)
    finally:
        con.close()
    config = load_config()
    model = train_churn_model(snapshots, config["model"], config["health"]["bands"])
    card = register_model(
        model,
        paths.models,
        MODEL_FINGERPRINT,
        config["model"]["promotion_tolerance"],
        set(snapshots.columns),
    )
    # as the churn_model asset: the realised-performance marts read the versions table
    with duckdb.connect(str(paths.warehouse), config=warehouse_settings()) as con:
        record_model_version(con, card)
    return {
        "snapshot_rows": len(snapshots),
        "training_rows": model.rows,
        **model.metrics,
        "promoted": card["promotion"]["promoted"],
        "feature_selection": {
            k: card["feature_selection"].get(k) for k in ("judged", "kept_groups", "churners")
        },
    }


def phase_score(workdir: Path, scale: Scale) -> dict[str, Any]:
    """Load the saved model and score tonight's accounts, as the ``churn_scores`` asset,
    then tonight's aggregate forecast, as ``churn_forecast`` (the site shows it)."""
    import duckdb

    from ml.artifacts import load_model
    from ml.forecast import tonight_forecast, write_forecast
    from ml.score import SCORES_TABLE, score_tonight
    from pipeline_config import load_config, resolve_paths, warehouse_settings

    paths, config = resolve_paths(), load_config()
    model, card = load_model(paths.models)
    con = duckdb.connect(str(paths.warehouse), config=warehouse_settings())
    try:
        scores = score_tonight(con, model, card["version"], config)
        write_forecast(con, tonight_forecast(con, SCORES_TABLE, config["model"]))
    finally:
        con.close()
    return {"scored_accounts": len(scores)}


def phase_alerts(workdir: Path, scale: Scale) -> dict[str, Any]:
    """Rules, lifecycle, budget and records for tonight: the ``alert_state`` assets' call."""
    import duckdb

    from alerts.engine import run_night
    from ml.score import SCORES_TABLE
    from pipeline_config import load_config, resolve_paths, warehouse_settings

    con = duckdb.connect(str(resolve_paths().warehouse), config=warehouse_settings())
    try:
        summary = run_night(con, load_config(), SCORES_TABLE)
    finally:
        con.close()
    return {
        "open_alerts": summary.open_alerts,
        "delivered": summary.delivered,
        "by_severity": summary.by_severity,
    }


def phase_render(workdir: Path, scale: Scale) -> dict[str, Any]:
    """Every output asset's step, in the graph's order, each timed: alert list, win-back
    list, scores, drafts, the site (account charts dominate), publish."""
    import duckdb

    from pipeline_config import load_config, resolve_paths, warehouse_settings
    from reports import steps
    from runtime.permissions import parse_umask

    config, paths = load_config(), resolve_paths()
    con = duckdb.connect(str(paths.warehouse), read_only=True, config=warehouse_settings())
    timings: dict[str, float] = {}

    def timed(name: str, step: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        started = time.perf_counter()
        result = step()
        timings[f"{name}_s"] = round(time.perf_counter() - started, 2)
        return result

    try:
        alerts = timed("alert_list", lambda: steps.write_alert_list(con, paths))
        winback = timed("winback_list", lambda: steps.write_winback_list(con, paths))
        timed("score_list", lambda: steps.write_score_list(con, paths))
        drafts = timed(
            "drafts", lambda: steps.write_outreach_drafts(con, paths, config["outreach"])
        )
        site = timed("site", lambda: steps.write_site(con, paths, config))
        night = steps.tonight_night(con)
    finally:
        con.close()
    umask = parse_umask(config["run"]["umask"])  # publishing checkpoints the warehouse
    timed("publish", lambda: steps.publish(paths, night, umask))
    return {
        "alerts": alerts["open_alerts"],
        "winback_candidates": winback["candidates"],
        "drafts": drafts["drafts"],
        "site_pages": site["pages"],
        "account_pages": site["account_pages"],
        **timings,
    }


PYTHON_PHASES: dict[str, Callable[[Path, Scale], dict[str, Any]]] = {
    "generate": phase_generate,
    "ingest": phase_ingest,
    "train": phase_train,
    "score": phase_score,
    "alerts": phase_alerts,
    "render": phase_render,
}


# --- the parent: run each phase as a child and measure it -----------------------------


def child_env(workdir: Path) -> dict[str, str]:
    """Point every location at the work folder and switch telemetry off."""
    env = dict(os.environ)
    env.update(
        CHURN_WAREHOUSE_PATH=str(workdir / "warehouse.duckdb"),
        CHURN_LANDING_DIR=str(workdir / "landing"),
        CHURN_OUTPUTS_DIR=str(workdir / "outputs"),
        DBT_PROFILES_DIR=str(DBT_PROJECT_DIR),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DAGSTER_DISABLE_TELEMETRY="1",
        GX_ANALYTICS_ENABLED="false",
    )
    return env


def print_dbt_vars() -> None:
    """Print the vars Dagster passes to ``dbt build``; run in a throwaway child (see below)
    so that the launcher imports nothing beyond the standard library (PyYAML included)."""
    from pipeline_config import dbt_vars, load_config

    print(json.dumps(dbt_vars(load_config())))


def dbt_command(workdir: Path, env: dict[str, str], selection: list[str]) -> list[str]:
    """``dbt build`` with the configured vars; target/ and logs go to the work folder.

    The vars come from a separate child so the parent never imports Dagster: on Linux a
    child's ru_maxrss starts at its parent's RSS at fork time (exec carries the
    high-water mark over), so a fat parent would raise every later phase's figure.
    """
    code = "from bench.run_pipeline import print_dbt_vars; print_dbt_vars()"
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    dbt_vars = done.stdout.decode().strip()
    return [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--vars",
        dbt_vars,
        "--target-path",
        str(workdir / "dbt_target"),
        "--log-path",
        str(workdir / "dbt_logs"),
        *selection,
    ]


def measure(
    name: str, command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> PhaseResult:
    """Run one child and reap it with wait4, which returns that child's own peak RSS.

    Output goes to a log file, not a pipe, so the child can never block on a full pipe
    while the parent waits.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped already: stop Popen waiting
    if proc.returncode != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-40:])
        sys.exit(f"phase {name} failed (exit {proc.returncode}); last lines of {log}:\n{tail}")
    return PhaseResult(name, round(wall, 2), round(usage.ru_maxrss / 1024, 1))  # KiB on Linux


def run_phases(workdir: Path, scale: Scale) -> list[PhaseResult]:
    """All phases in pipeline order; stops at the first failing phase."""
    env = child_env(workdir)
    results = []
    for name in PHASES:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        if name in DBT_PHASES:
            command, cwd = dbt_command(workdir, env, DBT_PHASES[name]), DBT_PROJECT_DIR
        else:
            command = [sys.executable, "-m", "bench.run_pipeline", "--phase", name]
            command += ["--workdir", str(workdir), "--accounts", str(scale.accounts)]
            command += ["--months", str(scale.months), "--activity", str(scale.activity)]
            cwd = REPO_ROOT
        results.append(measure(name, command, cwd, env, workdir / "bench_logs" / f"{name}.log"))
    return results


def machine() -> dict[str, Any]:
    """CPU count (as nproc sees it), CPU model and total RAM, from /proc on Linux."""
    cpu_model = platform.processor() or platform.machine()
    ram_gb = float("nan")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024**2, 1)  # kB -> GiB
                break
    except OSError:
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu_model, "ram_gb": ram_gb}


def report(results: list[PhaseResult], info: dict[str, Any]) -> str:
    """A markdown table per phase plus one summary line."""
    total_wall = round(sum(r.wall_s for r in results), 2)
    max_rss = max(r.peak_rss_mb for r in results)
    lines = ["| phase | wall s | peak RSS MB |", "|---|---:|---:|"]
    lines += [f"| {r.phase} | {r.wall_s:.2f} | {r.peak_rss_mb:.1f} |" for r in results]
    lines.append(f"| **total** | **{total_wall:.2f}** | **{max_rss:.1f}** (max) |")
    m = info["machine"]
    lines.append("")
    lines.append(
        f"events: {info['events']:,} · accounts: {info['accounts']:,} · months: {info['months']}"
        f" · machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram_gb']} GiB RAM"
        f" · total wall: {total_wall:.2f} s · max peak RSS: {max_rss:.1f} MB"
        f" (launcher {info['launcher_rss_mb']:.1f} MB)"
    )
    return "\n".join(lines)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="demo")
    parser.add_argument("--accounts", type=_positive, help="override the size's account count")
    parser.add_argument("--months", type=_positive, help="override the size's months of history")
    parser.add_argument("--activity", type=float, help="override the size's user activity scale")
    parser.add_argument("--workdir", type=Path, help="default: a fresh temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--phase", choices=sorted(PYTHON_PHASES), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    default = SIZES[args.size]
    scale = Scale(
        accounts=args.accounts or default.accounts,
        months=args.months or default.months,
        activity=args.activity if args.activity is not None else default.activity,
    )
    if args.phase:  # a child: run one phase, hand its counts back, exit
        workdir = args.workdir.resolve()
        _write_result(workdir, args.phase, PYTHON_PHASES[args.phase](workdir, scale))
        return

    if args.workdir and args.workdir.exists() and any(args.workdir.iterdir()):
        sys.exit(f"{args.workdir} is not empty: the benchmark needs a fresh folder")
    workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="churn-bench-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    finished = False
    try:
        results = run_phases(workdir, scale)
        counts = {phase: _read_result(workdir, phase) for phase in PYTHON_PHASES}
        finished = True
    finally:  # a failed run's folder is kept: its logs are the evidence
        if finished and args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"[bench] work folder kept: {workdir}", file=sys.stderr)
    info = {
        "date": date.today().isoformat(),
        "size": args.size,
        "accounts": scale.accounts,
        "months": scale.months,
        "activity": scale.activity,
        "events": counts["generate"]["events"],
        "machine": machine(),
        # every child's peak RSS is at least this (see dbt_command)
        "launcher_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(report(results, info))
    print("render steps: " + json.dumps(counts["render"]))  # where the render time goes
    if args.json:
        payload = {
            **info,
            "phases": [asdict(r) for r in results],
            "total_wall_s": round(sum(r.wall_s for r in results), 2),
            "max_peak_rss_mb": max(r.peak_rss_mb for r in results),
            "counts": counts,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
