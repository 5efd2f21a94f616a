"""One writer at a time: an exclusive ``flock`` on ``<warehouse>.lock`` held for a whole run
(POSIX: Linux and macOS).

Why a file lock rather than Dagster's run queue or pools: the kernel releases a flock
when its process dies, however it dies (``kill -9``, out of memory, power loss), so a
crashed run can never leave the warehouse blocked; a queue slot or pool slot claimed
by a dead run stays claimed until someone frees it. It also covers every way a run
starts (the CLI, the UI, the schedule, a test) and every step, asset checks included.

The lock file records its holder (run id, pid, host, process start time). A holder
that is found recorded when the lock is acquired died without releasing it: the
caller is told, so it can mark that run failed and say which run it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from runtime.processes import is_running, stat_fields

POLL_SECONDS = 0.5


class WarehouseBusy(Exception):
    """Another run kept the warehouse longer than this run was configured to wait."""


@dataclass(frozen=True)
class LockHolder:
    run_id: str
    pid: int
    host: str
    process_start: str  # distinguishes a reused pid from the original process
    since: str

    def describe(self) -> str:
        return (
            f"run {self.run_id} (pid {self.pid} on {self.host}, holding it since {self.since} UTC)"
        )


def process_start(pid: int) -> str:
    """The kernel's start time of ``pid`` (clock ticks since boot), '' where unknown."""
    fields = stat_fields(pid)
    return fields[19] if fields else ""


def is_alive(pid: int, started: str, host: str) -> bool:
    """Whether the process recorded as (pid, start time) on ``host`` still runs. A
    process on another host is assumed alive: it cannot be checked from here."""
    if host != socket.gethostname():
        return True
    if not Path("/proc").is_dir():  # no /proc (macOS): ask the kernel, zombies included
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return is_running(pid) and (not started or process_start(pid) == started)


def current_holder(run_id: str) -> LockHolder:
    pid = os.getpid()
    return LockHolder(
        run_id=run_id,
        pid=pid,
        host=socket.gethostname(),
        process_start=process_start(pid),
        since=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    )


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _read_holder(fd: int) -> LockHolder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        return LockHolder(**json.loads(text))
    except (ValueError, TypeError):
        return None


def _write_holder(fd: int, holder: LockHolder | None) -> None:
    os.ftruncate(fd, 0)
    if holder is not None:
        os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
    os.fsync(fd)


@contextmanager
def hold_warehouse(
    warehouse: Path,
    run_id: str,
    wait_seconds: float,
    on_wait: Callable[[LockHolder | None], None],
) -> Iterator[LockHolder | None]:
    """Hold the warehouse's write lock for the body; yield the holder a dead process left
    recorded (None after a clean release). Calls ``on_wait`` once with the current
    holder when the lock is taken; raises WarehouseBusy after ``wait_seconds``."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, wait_seconds, on_wait)
        left_behind = _read_holder(fd)
        _write_holder(fd, current_holder(run_id))
        try:
            yield left_behind
        finally:
            _write_holder(fd, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, wait_seconds: float, on_wait: Callable[[LockHolder | None], None]) -> None:
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _read_holder(fd)
            if not told:
                on_wait(holder)
                told = True
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"the warehouse is still being written by "
                    f"{holder.describe() if holder else 'another run'} after waiting "
                    f"{wait_seconds / 60:g} minutes (run.lock_wait_minutes); this run did nothing"
                ) from None
            time.sleep(POLL_SECONDS)
