"""Benchmark generation and ingestion at 1M, 10M and 50M usage events.

``python -m bench.ingest_scale --events 10M`` (or ``--all``) generates a dataset of about
that many events in a fresh work folder, then loads every source into a fresh DuckDB
file, and reports wall time and peak RSS for each of the two phases. The issue this
answers asks for a generator that writes 50M events in about 2 minutes with under 2 GB
peak memory, and for the ingestion cost at those sizes; the rest of the pipeline is
``bench.run_pipeline``'s job.

The phases are ``bench.run_pipeline``'s own children (``--phase generate`` and
``--phase ingest``), measured with its ``measure`` (``os.wait4``), so both benchmarks
time the same code in the same way and there is one place to change it. This launcher
imports only the standard library and ``bench.run_pipeline`` (which does the same), so
its own small RSS is the floor of every figure, as explained in bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from bench.run_pipeline import (
    REPO_ROOT,
    _positive,
    _read_result,
    child_env,
    machine,
    measure,
)

MONTHS = 18  # the demo's history length; events per account depend on it
# target -> accounts, each set by a generation run (18 months, seed 42, as of 2026-11-22):
# 1,945 events per account at 520 accounts, 2,084 at 4,800 and 2,059 at 24,400. The ratio
# moves by a few per cent with the drawn mix of segments, so it cannot simply be scaled.
# The as-of date is yesterday, so the counts drift a little from day to day.
TARGETS: dict[str, int] = {
    "1M": 520,
    "10M": 4_800,
    "50M": 24_400,
}
PHASES = ("generate", "ingest")
T = TypeVar("T")


@dataclass(frozen=True)
class ScaleResult:
    """One target's figures: the columns of the README table, plus what produced them."""

    target: str
    accounts: int
    months: int
    events: int
    files: int
    landing_mb: float
    generate_s: float
    generate_peak_mb: float
    generate_events_per_s: int
    ingest_s: float
    ingest_peak_mb: float
    ingest_events_per_s: int
    warehouse_mb: float
    rows_loaded: int
    rows_quarantined: int


def folder_mb(path: Path) -> float:
    """Bytes on disk under ``path`` (or of one file) in MiB, as the README table shows."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 1024**2, 1)


def warehouse_mb(workdir: Path) -> float:
    """The DuckDB file plus its write-ahead log, if a checkpoint left one behind."""
    paths = [workdir / "warehouse.duckdb", workdir / "warehouse.duckdb.wal"]
    return round(sum(folder_mb(p) for p in paths if p.exists()), 1)


def run_target(target: str, accounts: int, months: int, workdir: Path) -> ScaleResult:
    """Generate, then ingest, each as its own measured child of this process."""
    env = child_env(workdir)
    measured = {}
    for phase in PHASES:
        print(f"[bench] {target}: {phase} ({accounts:,} accounts) ...", file=sys.stderr, flush=True)
        command = [sys.executable, "-m", "bench.run_pipeline", "--phase", phase]
        command += ["--workdir", str(workdir), "--accounts", str(accounts)]
        command += ["--months", str(months)]
        log = workdir / "bench_logs" / f"{phase}.log"
        measured[phase] = measure(phase, command, REPO_ROOT, env, log)
        print(f"[bench] {target}: {phase} {measured[phase]}", file=sys.stderr, flush=True)
    generated, ingested = _read_result(workdir, "generate"), _read_result(workdir, "ingest")
    gen, ing = measured["generate"], measured["ingest"]
    events = generated["events"]
    return ScaleResult(
        target=target,
        accounts=accounts,
        months=months,
        events=events,
        files=sum(generated["files"].values()),
        landing_mb=folder_mb(workdir / "landing"),
        generate_s=gen.wall_s,
        generate_peak_mb=gen.peak_rss_mb,
        generate_events_per_s=round(events / gen.wall_s),
        ingest_s=ing.wall_s,
        ingest_peak_mb=ing.peak_rss_mb,
        ingest_events_per_s=round(events / ing.wall_s),
        warehouse_mb=warehouse_mb(workdir),
        rows_loaded=sum(s["rows_loaded"] for s in ingested.values()),
        rows_quarantined=sum(s["rows_quarantined"] for s in ingested.values()),
    )


def report(results: list[ScaleResult], info: dict[str, Any]) -> str:
    """A markdown table, one row per target, plus the machine line."""
    lines = [
        "| target | accounts | events | files | landing MB | generate s | generate peak MB "
        "| events/s | ingest s | ingest peak MB | warehouse MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.target} | {r.accounts:,} | {r.events:,} | {r.files} | {r.landing_mb:.1f} "
        f"| {r.generate_s:.2f} | {r.generate_peak_mb:.1f} | {r.generate_events_per_s:,} "
        f"| {r.ingest_s:.2f} | {r.ingest_peak_mb:.1f} | {r.warehouse_mb:.1f} |"
        for r in results
    ]
    m = info["machine"]
    lines.append("")
    lines.append(
        f"months: {info['months']} · machine: {m['nproc']} CPUs ({m['cpu']}), "
        f"{m['ram_gb']} GiB RAM · launcher {info['launcher_rss_mb']:.1f} MB · {info['date']}"
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--events", choices=list(TARGETS), action="append", help="a target size (repeatable)"
    )
    which.add_argument("--all", action="store_true", help="every target, smallest first")
    which.add_argument("--accounts", type=_positive, help="a custom size instead of a target")
    parser.add_argument("--months", type=_positive, default=MONTHS)
    parser.add_argument("--workdir", type=Path, help="default: a fresh folder under /tmp")
    parser.add_argument("--keep", action="store_true", help="keep the work folders")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    return parser.parse_args(argv)


def plan_targets(args: argparse.Namespace, targets: dict[str, int]) -> list[tuple[str, int]]:
    """(label, accounts) per run: a custom --accounts size, or the named targets in order."""
    if args.accounts:
        return [(f"{args.accounts} accounts", args.accounts)]
    names = list(targets) if args.all else list(dict.fromkeys(args.events))
    return [(name, targets[name]) for name in names]


def prepare_root(workdir: Path | None, prefix: str) -> Path:
    """The benchmark's folder: the given one (which must be empty) or a fresh one in /tmp."""
    if workdir and workdir.exists() and any(workdir.iterdir()):
        sys.exit(f"{workdir} is not empty: the benchmark needs a fresh folder")
    root = (workdir or Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def run_each(
    plan: list[tuple[str, int]],
    root: Path,
    args: argparse.Namespace,
    run_one: Callable[[str, int, Path], T],
) -> list[T]:
    """Run every target in its own folder under ``root``.

    A folder is removed before the next target starts: 50M events take several GB of
    landing files and warehouse, and a full disk would skew timings. A failed target's
    folder is kept (its logs are the evidence), and so is everything with --keep or an
    explicit --workdir.
    """
    results = []
    for target, accounts in plan:
        workdir = root / target.replace(" ", "_")
        workdir.mkdir()
        finished = False
        try:
            results.append(run_one(target, accounts, workdir))
            finished = True
        finally:
            if finished and not args.keep and args.workdir is None:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                print(f"[bench] work folder kept: {workdir}", file=sys.stderr)
    if not args.keep and args.workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    plan = plan_targets(args, TARGETS)
    root = prepare_root(args.workdir, "churn-scale-")
    results = run_each(
        plan,
        root,
        args,
        lambda target, accounts, workdir: run_target(target, accounts, args.months, workdir),
    )

    info = {
        "date": date.today().isoformat(),
        "months": args.months,
        "machine": machine(),
        "launcher_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(report(results, info))
    if args.json:
        payload = {**info, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
