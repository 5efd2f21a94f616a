"""Resources: the DuckDB warehouse and the pipeline's config and locations.

Both resolve environment variables when a run uses them, not when definitions load,
so the code server never opens the warehouse (that would hold DuckDB's file lock)
and tests can point a run at a temporary folder with environment variables alone.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipeline_config import PipelinePaths, load_config, resolve_paths, warehouse_settings


class PipelineResource(dg.ConfigurableResource):
    """The pipeline configuration (defaults + $CHURN_CONFIG) and its file locations."""

    config_path: str = ""

    def config(self) -> dict[str, Any]:
        return load_config(self.config_path or None)

    def paths(self) -> PipelinePaths:
        return resolve_paths()


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file; the same path dbt's profile uses."""

    database: str = ""  # empty: $CHURN_WAREHOUSE_PATH, else outputs/warehouse.duckdb

    def path(self) -> Path:
        return Path(self.database) if self.database else resolve_paths().warehouse

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only, config=warehouse_settings())
        try:
            yield con
        finally:
            con.close()
