"""Hold the warehouse the way every writer must: its lock for the whole job, and the
configured umask for everything written meanwhile. Used by a Dagster run (through the
warehouse resource) and by the command-line tools that write the warehouse outside a
run (``alerts.replay``, ``alerts.calibrate``), so each waits for the other instead of
failing on DuckDB's file lock."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline_config import resolve_paths
from runtime.lock import LockHolder, hold_warehouse
from runtime.permissions import parse_umask, run_umask


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


@contextmanager
def holding_warehouse(
    holder: str,
    settings: Mapping[str, Any],
    warehouse: Path | None = None,
    say: Callable[[str], None] = _to_stderr,
) -> Iterator[LockHolder | None]:
    """Hold ``warehouse`` (default: the configured one) as ``holder`` (a run id or a
    command's name) with the config's ``run`` ``settings``; yield the holder a dead
    process left recorded, if any."""
    warehouse = warehouse or resolve_paths().warehouse

    def waiting(current: LockHolder | None) -> None:
        who = current.describe() if current else "another process"
        say(f"warehouse {warehouse} is being written by {who}; waiting for it")

    with (
        run_umask(parse_umask(settings["umask"])),
        hold_warehouse(warehouse, holder, settings["lock_wait_minutes"] * 60, waiting) as left,
    ):
        yield left
