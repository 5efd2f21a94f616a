"""Where the pipeline reads and writes, resolved from environment variables.

One variable per location, read by every entry point (Dagster resources, dbt's
``profiles.yml``, the benchmark, the tests), so that dbt and Dagster can never
disagree about which warehouse file they use. Defaults sit under ``outputs/``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

WAREHOUSE_ENV_VAR = "CHURN_WAREHOUSE_PATH"
LANDING_ENV_VAR = "CHURN_LANDING_DIR"
OUTPUTS_ENV_VAR = "CHURN_OUTPUTS_DIR"
MEMORY_LIMIT_ENV_VAR = "CHURN_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"  # DuckDB's own default is 80% of RAM: too greedy on a shared host


@dataclass(frozen=True)
class PipelinePaths:
    warehouse: Path
    landing: str  # a local folder, or an object-storage URL read through DuckDB
    outputs: Path
    run_id: str = "manual"  # names the run's private output folder until it is published

    @property
    def models(self) -> Path:
        return self.outputs / "models"

    @property
    def runs(self) -> Path:
        return self.outputs / "runs"

    @property
    def latest(self) -> Path:
        return self.outputs / "latest"


def resolve_paths(run_id: str = "manual") -> PipelinePaths:
    """Read the locations now (not at import time) so tests and runs can set them."""
    outputs = Path(os.environ.get(OUTPUTS_ENV_VAR) or REPO_ROOT / "outputs").resolve()
    warehouse = Path(os.environ.get(WAREHOUSE_ENV_VAR) or outputs / "warehouse.duckdb")
    landing = os.environ.get(LANDING_ENV_VAR) or str(outputs / "landing")
    return PipelinePaths(
        warehouse=warehouse.resolve(), landing=landing, outputs=outputs, run_id=run_id
    )


def warehouse_settings() -> dict[str, str]:
    """DuckDB settings for every pipeline connection; dbt's profiles.yml reads the same
    variable. Beyond the memory limit DuckDB spills to disk instead of growing."""
    return {"memory_limit": os.environ.get(MEMORY_LIMIT_ENV_VAR) or DEFAULT_MEMORY_LIMIT}
