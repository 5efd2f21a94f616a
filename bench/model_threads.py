"""Why the model step's time varied 50-fold between runs of the same size: OpenMP threads
that spin while the machine's cores are busy with something else.

    python -m bench.model_threads [--rows 12000] [--busy 2] [--repeats 2]

Fits the model's calibrated gradient-boosting pipeline (``ml.candidates``) on the newest
``--rows`` labelled snapshot rows of the warehouse ``CHURN_WAREHOUSE_PATH`` points at
(after ``make run``; default outputs/warehouse.duckdb), for each OpenMP wait policy
(ACTIVE: spin, the runtime's default; PASSIVE: sleep, what ``ml`` sets) and thread
count (1, 2), idle and beside ``--busy`` processes that each keep a core busy, as a
dbt build, a second run or CI would. Each case runs in a fresh interpreter (the policy
is read when the OpenMP runtime loads). Prints seconds per case (median of repeats).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

CASE = r"""
import json, sys, time
import duckdb
from threadpoolctl import threadpool_limits
from ml.candidates import CANDIDATES, GRADIENT_BOOSTING
from ml.features import LABEL, feature_columns, labelled_rows, read_snapshots
from pipeline_config import load_config, resolve_paths
rows, threads = int(sys.argv[1]), int(sys.argv[2])
config = load_config()
con = duckdb.connect(str(resolve_paths().warehouse), read_only=True)
snapshots = read_snapshots(con)
labelled = labelled_rows(snapshots).tail(rows)
numeric, categorical = feature_columns(labelled)
with threadpool_limits(limits=threads):
    started = time.perf_counter()
    pipeline = CANDIDATES[GRADIENT_BOOSTING](numeric, categorical, config["model"])
    pipeline.fit(labelled, labelled[LABEL])
    fit = time.perf_counter() - started
print(json.dumps({"fit": fit}))
"""


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def run_case(policy: str, threads: int, rows: int) -> float:
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    done = subprocess.run(
        [sys.executable, "-c", CASE, str(rows), str(threads)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])["fit"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--busy", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    print("| cores busy elsewhere | OMP_WAIT_POLICY | threads | fit seconds (median) |")
    print("|---:|---|---:|---:|")
    for busy in (0, args.busy):
        workers = [multiprocessing.Process(target=_busy, args=(3600,)) for _ in range(busy)]
        for worker in workers:
            worker.start()
        try:
            for policy in ("ACTIVE", "PASSIVE"):
                for threads in (1, 2):
                    times = [run_case(policy, threads, args.rows) for _ in range(args.repeats)]
                    print(f"| {busy} | {policy} | {threads} | {statistics.median(times):.2f} |")
        finally:
            for worker in workers:
                worker.terminate()


if __name__ == "__main__":
    main()
