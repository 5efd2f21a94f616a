"""Shared fixtures: one small generated dataset and one real nightly run per session.

Tests point the pipeline at temporary folders with the same environment variables
users set; nothing is mocked. The dbt manifest must exist before the definitions are
imported (dagster-dbt reads it at load time): `make test` builds it, and this file
builds it too when pytest is run directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DBT_DIR = REPO / "dbt_project"

for name, value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(name, value)

# Small but long enough for a time-ordered backtest: 12 months, ~450k events.
SMALL_DEMO = {"accounts": 320, "months": 12, "seed": 11}
TEST_CONFIG = """
model:
  test_months: 2
alerts:
  max_per_csm_per_day: 6
"""


@dataclass(frozen=True)
class PipelineDirs:
    root: Path
    landing: Path
    outputs: Path
    warehouse: Path
    truth: Path


def make_pipeline_dirs(root: Path) -> PipelineDirs:
    return PipelineDirs(
        root=root,
        landing=root / "landing",
        outputs=root / "outputs",
        warehouse=root / "outputs" / "warehouse.duckdb",
        truth=root / "ground_truth",
    )


def point_pipeline_at(mp: pytest.MonkeyPatch, dirs: PipelineDirs, config: Path) -> None:
    mp.setenv("CHURN_WAREHOUSE_PATH", str(dirs.warehouse))
    mp.setenv("CHURN_LANDING_DIR", str(dirs.landing))
    mp.setenv("CHURN_OUTPUTS_DIR", str(dirs.outputs))
    mp.setenv("CHURN_CONFIG", str(config))


@pytest.fixture(scope="session")
def test_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "pipeline.yaml"
    path.write_text(TEST_CONFIG)
    return path


@pytest.fixture(scope="session")
def defs():
    manifest = DBT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        dbt = Path(sys.executable).with_name("dbt")
        subprocess.run([str(dbt), "parse", "--quiet"], cwd=DBT_DIR, check=True)
    from orchestration.definitions import defs as definitions

    return definitions


def run_nightly(defs):
    import dagster as dg

    return defs.resolve_job_def("nightly_refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


@pytest.fixture(scope="session")
def demo_dirs(
    tmp_path_factory: pytest.TempPathFactory, test_config: Path
) -> Iterator[PipelineDirs]:
    from simulator import DemoSpec, generate_demo

    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("pipeline"))
    counts = generate_demo(DemoSpec(**SMALL_DEMO), dirs.landing, dirs.truth)
    assert counts["events"] > 100_000
    mp = pytest.MonkeyPatch()
    point_pipeline_at(mp, dirs, test_config)
    yield dirs
    mp.undo()


@pytest.fixture(scope="session")
def nightly_run(demo_dirs: PipelineDirs, defs):
    """The whole asset graph materialised once on the small dataset."""
    return run_nightly(defs)
