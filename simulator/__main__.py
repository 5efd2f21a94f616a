"""Command line: ``python -m simulator --landing-dir DIR --truth-dir DIR [--accounts N ...]``."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from pipeline_config import load_config, resolve_paths
from simulator.demo import DemoSpec, generate_demo


def main(argv: list[str] | None = None) -> None:
    defaults = load_config()["simulator"]
    paths = resolve_paths()
    parser = argparse.ArgumentParser(description="Generate the demo SaaS exports.")
    parser.add_argument("--accounts", type=int, default=defaults["accounts"])
    parser.add_argument("--months", type=int, default=defaults["months"])
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=date.fromisoformat(defaults["as_of"])
    )
    parser.add_argument("--seed", type=int, default=defaults["seed"])
    parser.add_argument("--landing-dir", type=Path, default=Path(paths.landing))
    parser.add_argument("--truth-dir", type=Path, default=paths.outputs / "ground_truth")
    args = parser.parse_args(argv)
    spec = DemoSpec(accounts=args.accounts, months=args.months, as_of=args.as_of, seed=args.seed)
    started = time.perf_counter()
    counts = generate_demo(spec, args.landing_dir, args.truth_dir)
    print(
        f"demo data: {counts['accounts']} accounts, {counts['events']:,} events "
        f"({spec.history_start} .. {spec.as_of}) in {time.perf_counter() - started:.1f}s "
        f"-> {args.landing_dir}"
    )


if __name__ == "__main__":
    main()
