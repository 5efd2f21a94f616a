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
from datetime import date
from pathlib import Path

import pytest

from simulator import GenerationResult, SimulationSpec, generate
from simulator.faults import ROW_FAULTS, InjectedFault, inject_faults

REPO = Path(__file__).resolve().parent.parent
DBT_DIR = REPO / "dbt_project"

for name, value in {
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}.items():
    os.environ.setdefault(name, value)

# Small but long enough for a time-ordered backtest: 12 months, ~0.5M events. The
# as-of date is fixed, and freshness is judged against the day after it.
SMALL_DEMO = {"accounts": 320, "months": 12, "seed": 11, "as_of": date(2026, 10, 31)}
TEST_CONFIG = """
ingest:
  reference_date: "2026-11-01"
model:
  test_months: 3  # 2 test months hold ~9 churners here: too few for a stable ROC AUC
alerts:
  budget:
    per_csm_per_day: 6
"""


@dataclass(frozen=True)
class PipelineDirs:
    root: Path
    landing: Path
    outputs: Path
    warehouse: Path
    truth: Path
    late: Path  # late deliveries wait here until a test delivers them


def make_pipeline_dirs(root: Path) -> PipelineDirs:
    return PipelineDirs(
        root=root,
        landing=root / "landing",
        outputs=root / "outputs",
        warehouse=root / "outputs" / "warehouse.duckdb",
        truth=root / "ground_truth",
        late=root / "late",
    )


def generate_small(dirs: PipelineDirs, **spec) -> GenerationResult:
    """A small dataset as of SMALL_DEMO's date (freshness matches TEST_CONFIG)."""
    return generate(SimulationSpec(**{**SMALL_DEMO, **spec}), dirs.landing, dirs.truth)


def rewrite_usage_events(landing: Path, select: str) -> None:
    """Rewrite every delivered usage-events Parquet file through ``select`` (SQL reading
    the file as ``{events}``, e.g. ``select * from {events} where ...``), in place."""
    import duckdb

    for path in sorted((landing / "usage_events").glob("*.parquet")):
        with duckdb.connect() as con:
            query = select.replace("{events}", f"read_parquet('{path}')")
            con.execute(f"copy ({query}) to '{path}.tmp' (format parquet)")
        os.replace(f"{path}.tmp", path)


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


def run_nightly(defs, instance=None):
    """The nightly job in process, in ``instance`` (its run log: ``instance.all_logs``)."""
    import dagster as dg

    return defs.resolve_job_def("nightly_refresh").execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


@pytest.fixture(scope="session")
def demo_dirs(
    tmp_path_factory: pytest.TempPathFactory, test_config: Path
) -> Iterator[PipelineDirs]:
    """The session's dataset, with every row-level fault injected: the nightly run must
    quarantine or de-duplicate them and still succeed."""
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("pipeline"))
    assert generate_small(dirs).events > 100_000
    mp = pytest.MonkeyPatch()
    point_pipeline_at(mp, dirs, test_config)
    yield dirs
    mp.undo()


# What CS-facing outputs must render inert (HTML, CSV, drafts); {id} makes each unique
HOSTILE_TEXTS = (
    '<script>alert("{id}")</script> & Co',
    '=HYPERLINK("http://evil.example/{id}","click")',
    "+{id} cmd|' /C calc'!A0",
    "-{id}+1",
    "@SUM({id})",
    'Quote "{id}" O\'Brien; \n second line',
    "\u202eevil {id} \u202c Ltd",
    "Nul\x00{id}\x07 Bell",
    "Long {id} " + "x" * 3000,
)


@pytest.fixture(scope="session")
def hostile_accounts(demo_dirs: PipelineDirs) -> dict[str, str]:
    """Every eighth account of the newest CRM export gets a hostile company and contact
    name, and its newest tickets and NPS answers hostile text (before the nightly run)."""
    import pandas as pd

    newest = sorted((demo_dirs.landing / "accounts").glob("*.csv"))[-1]
    crm = pd.read_csv(newest, dtype=str, keep_default_na=False)
    chosen = crm.index[::8]
    names = {
        crm.at[i, "account_id"]: HOSTILE_TEXTS[n % len(HOSTILE_TEXTS)].format(
            id=crm.at[i, "account_id"]
        )
        for n, i in enumerate(chosen)
    }
    crm["company_name"] = crm["account_id"].map(names).fillna(crm["company_name"])
    crm.loc[chosen, "contact_name"] = [names[a] for a in crm.loc[chosen, "account_id"]]
    crm.to_csv(newest, index=False)
    tickets_file = sorted((demo_dirs.landing / "support_tickets").glob("*.jsonl"))[-1]
    tickets = pd.read_json(tickets_file, lines=True, dtype=False)
    hit = tickets["account_id"].isin(names)
    tickets.loc[hit, "subject"] = tickets.loc[hit, "account_id"].map(names)
    tickets.to_json(tickets_file, orient="records", lines=True, date_format="iso")
    nps_file = sorted((demo_dirs.landing / "nps_responses").glob("*.csv"))[-1]
    nps = pd.read_csv(nps_file, dtype=str, keep_default_na=False)
    hit = nps["account_id"].isin(names)
    nps.loc[hit, "comment"] = nps.loc[hit, "account_id"].map(names)
    nps.to_csv(nps_file, index=False)
    return names


@pytest.fixture(scope="session")
def row_faults(demo_dirs: PipelineDirs, hostile_accounts) -> dict[str, InjectedFault]:
    faults = inject_faults(demo_dirs.landing, list(ROW_FAULTS), demo_dirs.late)
    return {f.kind: f for f in faults}


@pytest.fixture(scope="session")
def nightly_instance():
    """The Dagster instance the session's nightly run is recorded in."""
    import dagster as dg

    return dg.DagsterInstance.ephemeral()


@pytest.fixture(scope="session")
def nightly_run(demo_dirs: PipelineDirs, row_faults, defs, nightly_instance):
    """The whole asset graph materialised once on the small dataset."""
    return run_nightly(defs, nightly_instance)


@pytest.fixture(scope="module")
def warehouse(nightly_run, demo_dirs: PipelineDirs):
    """A read-only connection to the session run's warehouse."""
    import duckdb

    con = duckdb.connect(str(demo_dirs.warehouse), read_only=True)
    yield con
    con.close()
