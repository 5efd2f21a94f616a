"""Soak: many nights on one warehouse, a random fault on each, checked against a twin.

    python -m bench.soak --accounts 120 --nights 4 --seed 54   (make soak)

A small company is generated and the last ``--nights`` days of its usage events are
held back. Two deployments start from the same files: the *twin* runs every night
cleanly; the *soaked* one gets, each night, one fault drawn at random, then a plain
re-run. Each night one more day of events is delivered to both. After each night the
soaked deployment's canonical digest (bench/canonical.py: every table of its published
warehouse copy and every published file) must equal the twin's.

Faults: none; ``kill -9`` during ingestion; ``kill -9`` during dbt (its dbt child must
die too); a concurrent run (the second waits for the first, then runs); a full disk
(RLIMIT_FSIZE) during ingestion. Prints one line per night and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from bench.canonical import differences, run_digest
from bench.process_runs import RunProcess, Site, until
from runtime.lock import lock_path
from runtime.processes import is_running
from runtime.published import published_path
from simulator import SimulationSpec, generate

FAULTS = ("none", "kill_in_ingest", "kill_in_dbt", "concurrent_run", "disk_full")
AS_OF = date(2026, 10, 31)
CONFIG = """
ingest:
  reference_date: "{reference}"
model:
  test_months: 3
"""


def hold_back_days(landing: Path, held: Path, nights: int) -> list[Path]:
    """Move the last ``nights`` days of usage events into one Parquet file per day."""
    held.mkdir(parents=True)
    events = sorted((landing / "usage_events").glob("*.parquet"))
    newest = events[-1]
    first = AS_OF - timedelta(days=nights - 1)
    con = duckdb.connect()
    con.execute(f"create table e as select * from read_parquet('{newest}')")
    days = []
    for offset in range(nights):
        day = first + timedelta(days=offset)
        path = held / f"usage_events_{day.isoformat()}.parquet"
        con.execute(f"copy (select * from e where cast(occurred_at as date) = '{day}') to '{path}'")
        days.append(path)
    con.execute(f"copy (select * from e where cast(occurred_at as date) < '{first}') to '{newest}'")
    con.close()
    return days


def _limit_disk() -> None:
    limit = 4 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def inflict(site: Site, fault: str, night: int) -> dict:
    """Do ``fault`` to ``site``; say what happened (a failed run is expected for most)."""
    name = f"n{night}_{fault}"
    if fault == "kill_in_ingest":
        run = site.start(name)
        run.wait_for_log(r"raw__usage_events - STEP_START")
        run.kill()
        return {"killed": True}
    if fault == "kill_in_dbt":
        run = site.start(name)
        dbt = run.kill_during_dbt()
        until(lambda: not is_running(dbt), 20, "the killed run's dbt to die")
        return {"killed": True, "dbt_died": True}
    if fault == "disk_full":
        run = site.start(name, preexec=_limit_disk)
        code = run.wait()
        return {"exit_code": code, "named_disk_full": "the disk is full" in run.stdout()}
    if fault == "concurrent_run":
        first = site.start(f"{name}_a")
        until(lambda: f'"pid": {first.pid},' in lock_path(site.warehouse).read_text(), 300,
              "the first run to hold the warehouse", alive=first.process)  # fmt: skip
        second = site.start(f"{name}_b")
        codes = (first.wait(), second.wait())
        waited = "being written by run" in second.stderr()
        return {"exit_codes": codes, "second_waited": waited}
    return {}


def clean_run(site: Site, name: str) -> tuple[RunProcess, float]:
    started = time.perf_counter()
    run = site.start(name)
    code = run.wait()
    if code != 0:
        sys.exit(f"{site.root.name} {name} failed:\n{run.stdout()[-4000:]}")
    return run, time.perf_counter() - started


def digest(site: Site) -> dict[str, str]:
    return run_digest(published_path(site.warehouse), site.outputs / "latest", site.root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=120)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--nights", type=int, default=4)
    # seed 54 draws each fault once in four nights: kill in ingest, concurrent run,
    # full disk, kill in dbt
    parser.add_argument("--seed", type=int, default=54)
    parser.add_argument("--keep", action="store_true", help="keep the working folder")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="churn-soak-"))
    base = root / "base"
    generate(SimulationSpec(accounts=args.accounts, months=args.months, as_of=AS_OF),
             base / "landing", base / "truth")  # fmt: skip
    days = hold_back_days(base / "landing", root / "held", args.nights)
    config = root / "pipeline.yaml"
    sites = {k: Site(root / k, config).prepare(base / "landing") for k in ("twin", "soaked")}
    nights = []
    for night in range(args.nights + 1):
        newest = AS_OF - timedelta(days=args.nights - night)
        if night:
            for site in sites.values():
                shutil.copy(days[night - 1], site.landing / "usage_events")
        config.write_text(CONFIG.format(reference=newest + timedelta(days=1)))
        fault = "none" if night == 0 else rng.choice(FAULTS)
        _, twin_seconds = clean_run(sites["twin"], f"n{night}")
        started = time.perf_counter()
        what = inflict(sites["soaked"], fault, night)
        _, rerun_seconds = clean_run(sites["soaked"], f"n{night}_rerun")
        diff = differences(digest(sites["soaked"]), digest(sites["twin"]))
        record = {"night": night, "events_through": newest.isoformat(), "fault": fault, **what,
                  "twin_run_s": round(twin_seconds, 1),
                  "fault_s": round(time.perf_counter() - started - rerun_seconds, 1),
                  "rerun_s": round(rerun_seconds, 1), "same_content": not diff,
                  "differences": diff[:5]}  # fmt: skip
        nights.append(record)
        print(json.dumps(record), flush=True)
    summary = {
        "accounts": args.accounts,
        "nights": len(nights),
        "faults": {f: sum(n["fault"] == f for n in nights) for f in FAULTS},
        "all_same_content": all(n["same_content"] for n in nights),
        "folder": str(root) if args.keep else None,
    }
    print(json.dumps(summary, indent=2))
    if not args.keep:
        shutil.rmtree(root)
    if not summary["all_same_content"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
