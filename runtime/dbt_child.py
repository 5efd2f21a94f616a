"""``churn-dbt``: dbt, started so that it dies with the process that started it.

dagster-dbt runs dbt as a child process. When a run is killed (``kill -9``, out of
memory), an ordinary child is re-parented and keeps writing the warehouse for tens of
seconds, colliding with the next run and recorded by nobody. This launcher asks the
kernel (``PR_SET_PDEATHSIG``, Linux) to kill it when its parent dies, then replaces
itself with the real ``dbt`` (the request survives ``exec``). On macOS it just runs dbt
(an orphaned dbt there keeps DuckDB's own file lock until it ends: the next run fails
on that lock rather than writing beside it). ``CHURN_DBT_TARGET`` names another program
to run (tests use it).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if os.getppid() != parent:  # the parent died before the request was in place
        sys.exit("churn-dbt: the process that started dbt is gone; not starting")


def main() -> None:
    _die_with_parent()
    target = os.environ.get("CHURN_DBT_TARGET") or str(Path(sys.executable).with_name("dbt"))
    os.execv(target, [target, *sys.argv[1:]])


if __name__ == "__main__":
    main()
