"""Drive ``python -m orchestration.run_once`` as an operator does: as a separate process
with its own environment, watched through its log, killed with ``kill -9``, run twice
at once. Used by the fault-matrix tests (tests/test_fault_runs.py) and the soak
benchmark (bench/soak.py), so both exercise the real entry point, not a function.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runtime.processes import children, command_line

REPO = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.2
TELEMETRY_OFF = {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}


@dataclass
class Site:
    """One deployment: a landing zone, outputs, a warehouse and a Dagster home."""

    root: Path
    config: Path
    started: list[RunProcess] = field(default_factory=list, repr=False)

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def warehouse(self) -> Path:
        return self.outputs / "warehouse.duckdb"

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    def prepare(self, landing: Path) -> Site:
        """A copy of ``landing`` and the project's dagster.yaml."""
        shutil.copytree(landing, self.landing)
        self.home.mkdir(parents=True)
        shutil.copy(REPO / "dagster_home" / "dagster.yaml", self.home)
        return self

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            **TELEMETRY_OFF,
            "CHURN_WAREHOUSE_PATH": str(self.warehouse),
            "CHURN_LANDING_DIR": str(self.landing),
            "CHURN_OUTPUTS_DIR": str(self.outputs),
            "CHURN_CONFIG": str(self.config),
            "DAGSTER_HOME": str(self.home),
            **extra,
        }

    def start(self, name: str, preexec: Callable[[], None] | None = None, **env: str) -> RunProcess:
        out, err = (open(self.root / f"{name}.{kind}", "w") for kind in ("out", "err"))  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.run_once"],
            cwd=REPO,
            env=self.env(**env),
            stdout=out,
            stderr=err,
            preexec_fn=preexec,
        )
        run = RunProcess(
            name, process, self.root / f"{name}.out", self.root / f"{name}.err", [out, err]
        )
        self.started.append(run)
        return run

    def stop_all(self) -> None:
        """``kill -9`` every run still going and its children (a test that failed midway
        must not leave runs holding the warehouse)."""
        for run in self.started:
            if run.process.poll() is None:
                for child in children(run.pid):
                    os.kill(child, signal.SIGKILL)
                run.kill()


@dataclass
class RunProcess:
    name: str
    process: subprocess.Popen
    stdout_path: Path
    stderr_path: Path
    _handles: list = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def run_id(self) -> str | None:
        found = re.search(r"nightly_refresh - ([0-9a-f-]{36}) - ", self.stderr())
        return found.group(1) if found else None

    def wait_for_log(self, pattern: str, timeout: float = 300, stream: str = "stderr") -> str:
        """Block until the run's log (Dagster's, on stderr; dbt's, on stdout) matches
        ``pattern``; fail if the run ends first."""
        compiled = re.compile(pattern)
        read = self.stderr if stream == "stderr" else self.stdout
        return until(
            lambda: m.group(0) if (m := compiled.search(read())) else None,
            timeout,
            f"{self.name}: log line /{pattern}/",
            alive=self.process,
        )

    def dbt_child(self) -> int:
        """The pid of the run's dbt process (Dagster's log capture also starts children)."""
        (pid,) = [c for c in children(self.pid) if "dbt" in command_line(c)]
        return pid

    def kill_during_dbt(self) -> int:
        """``kill -9`` once dbt has written its first model; returns dbt's pid."""
        self.wait_for_log(r"OK created sql", stream="stdout")
        dbt = self.dbt_child()
        self.kill()
        return dbt

    def wait(self, timeout: float = 900) -> int:
        code = self.process.wait(timeout=timeout)
        for handle in self._handles:
            handle.close()
        return code

    def kill(self) -> None:
        """``kill -9``: no cleanup of any kind runs in the process."""
        os.kill(self.pid, signal.SIGKILL)
        self.wait(timeout=60)


def until(
    probe: Callable[[], object],
    timeout: float,
    what: str,
    alive: subprocess.Popen | None = None,
) -> object:
    """Poll ``probe`` until it returns something truthy (an event, never a fixed delay)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"the process ended (code {alive.returncode}) before {what}")
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
