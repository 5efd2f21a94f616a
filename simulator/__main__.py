"""Command line: ``python -m simulator [--accounts N] [--months M] [--faults row|all|a,b]``."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import date
from pathlib import Path

from pipeline_config import load_config, resolve_paths
from simulator.faults import FILE_FAULTS, ROW_FAULTS, inject_faults
from simulator.generate import generate
from simulator.spec import spec_from_config

MARKER = ".simulated"


def _clear_landing(landing: Path, truth: Path, replace: bool) -> None:
    """Never write over (or delete) a landing zone holding a company's real exports."""
    if not landing.exists() or not any(landing.iterdir()):
        return
    if not (landing / MARKER).exists():
        sys.exit(f"{landing} holds files the simulator did not write; refusing to touch it.")
    if not replace:
        sys.exit(f"{landing} already holds simulated data; pass --replace to regenerate it.")
    shutil.rmtree(landing)
    shutil.rmtree(truth, ignore_errors=True)


def _fault_list(value: str) -> list[str]:
    if value == "row":
        return list(ROW_FAULTS)
    if value == "all":
        return list(ROW_FAULTS + FILE_FAULTS)
    return [v for v in value.split(",") if v]


def main(argv: list[str] | None = None) -> None:
    defaults = load_config()["simulator"]
    paths = resolve_paths()
    parser = argparse.ArgumentParser(description="Generate a simulated SaaS company's exports.")
    parser.add_argument("--accounts", type=int, help=f"default {defaults['accounts']}")
    parser.add_argument("--months", type=int, help=f"default {defaults['months']}")
    parser.add_argument("--as-of", type=date.fromisoformat, help="default: config, else yesterday")
    parser.add_argument("--seed", type=int, help=f"default {defaults['seed']}")
    parser.add_argument("--users-per-seat", type=float, default=1.0)
    parser.add_argument(
        "--activity", type=float, default=1.0, help="scales how often users are active"
    )
    parser.add_argument(
        "--no-vacations", dest="vacations", action="store_false",
        help="counterfactual: the same company without users' vacations",
    )  # fmt: skip
    parser.add_argument(
        "--no-holidays", dest="holidays", action="store_false",
        help="counterfactual: the same company without holiday dips",
    )  # fmt: skip
    parser.add_argument("--landing-dir", type=Path, default=Path(paths.landing))
    parser.add_argument("--truth-dir", type=Path, default=paths.outputs / "ground_truth")
    parser.add_argument(
        "--faults", type=_fault_list, default=[],
        help=f"row, all, or a comma list of: {', '.join(ROW_FAULTS + FILE_FAULTS)}",
    )  # fmt: skip
    parser.add_argument("--late-dir", type=Path, default=None, help="where a late file waits")
    parser.add_argument(
        "--replace", action="store_true",
        help=f"replace earlier simulated data (only a landing folder holding {MARKER})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    _clear_landing(args.landing_dir, args.truth_dir, args.replace)
    spec = spec_from_config(
        defaults, accounts=args.accounts, months=args.months, as_of=args.as_of, seed=args.seed,
        users_per_seat=args.users_per_seat, activity=args.activity,
        vacations=args.vacations, holidays=args.holidays,
    )  # fmt: skip
    started = time.perf_counter()
    args.landing_dir.mkdir(parents=True, exist_ok=True)
    (args.landing_dir / MARKER).write_text("written by python -m simulator\n")
    result = generate(spec, args.landing_dir, args.truth_dir, progress=sys.stderr.isatty())
    print(
        f"simulated {spec.accounts:,} accounts, {result.events:,} usage events "
        f"({spec.history_start} .. {spec.as_of}) in {time.perf_counter() - started:.1f}s -> {args.landing_dir}"
    )
    if args.faults:
        late_dir = args.late_dir or args.truth_dir / "late_deliveries"
        faults = inject_faults(
            args.landing_dir, args.faults, late_dir, args.truth_dir / "faults.json"
        )
        for fault in faults:
            print(
                f"  fault {fault.kind}: {fault.file} (expect {fault.expected}, {fault.rows} rows)"
            )


if __name__ == "__main__":
    main()
