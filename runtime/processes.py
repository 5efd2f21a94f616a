"""Processes on this host, read from /proc (Linux): who is whose child, what runs.
Where there is no /proc (macOS) nothing is found, so nothing is stopped."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def all_pids() -> list[int]:
    proc = Path("/proc")
    return [int(p.name) for p in proc.iterdir() if p.name.isdigit()] if proc.is_dir() else []


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    return [c for c in all_pids() if (fields := stat_fields(c)) and int(fields[1]) == pid]


def is_running(pid: int) -> bool:
    """Alive and not a zombie."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def kill_mentioning(text: str) -> list[str]:
    """Kill every process of this user whose command line contains ``text``; return
    their command lines. Used for what a dead run leaves running (Dagster's log capture
    starts ``tail -F <run's log file>`` processes that outlive a killed run)."""
    killed = []
    for pid in all_pids():
        line = command_line(pid)
        if text in line and pid != os.getpid():
            try:
                os.kill(pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                continue
            killed.append(line.strip())
    return killed
