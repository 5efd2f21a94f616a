"""Resources: the DuckDB warehouse and the pipeline's config and locations.

Both resolve environment variables when a run uses them, not when definitions load,
so the code server never opens the warehouse (that would hold DuckDB's file lock)
and tests can point a run at a temporary folder with environment variables alone.

The warehouse resource is also the run's claim on the warehouse: every step that
writes it (ingest, dbt, asset checks, the alerts engine, outputs) requires it, and
for the whole run it holds the write lock (``runtime.lock``) and the owner-only umask.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from orchestration.recovery import fail_dead_runs, tag_with_process
from pipeline_config import (
    PipelinePaths,
    load_config,
    resolve_paths,
    warehouse_settings,
    with_as_of,
)
from runtime.holding import holding_warehouse


class PipelineResource(dg.ConfigurableResource):
    """The pipeline configuration (defaults + $CHURN_CONFIG) and its file locations,
    with the run's id (its output folder stays private to it until published)."""

    config_path: str = ""
    # a past night to (re-)run as of, YYYY-MM-DD (overrides run.as_of_date; the UI's
    # launchpad sets it, as run_once --as-of does)
    as_of_date: str = ""
    _run_id: str = PrivateAttr(default="manual")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # a re-execution (from failure, or of a step) continues its root run's folder
        run = context.dagster_run
        self._run_id = (run.root_run_id or run.run_id) if run else "manual"

    def config(self) -> dict[str, Any]:
        config = load_config(self.config_path or None)
        return with_as_of(config, self.as_of_date) if self.as_of_date else config

    def paths(self) -> PipelinePaths:
        return resolve_paths(self._run_id)


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file; the same path dbt's profile uses."""

    database: str = ""  # empty: $CHURN_WAREHOUSE_PATH, else outputs/warehouse.duckdb

    def path(self) -> Path:
        return Path(self.database) if self.database else resolve_paths().warehouse

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseResource"]:
        """Hold the warehouse for the run: wait for (or refuse after run.lock_wait_minutes)
        a run already writing it; mark failed the runs a crash left 'started'."""
        run_id = context.run_id or "no-run"
        instance = context.instance
        if instance is not None:
            tag_with_process(instance, run_id)  # before waiting: a run killed while waiting
        settings = load_config()["run"]  # is recognised as dead too
        with holding_warehouse(run_id, settings, self.path(), context.log.warning) as left:
            if instance is not None:
                for message in fail_dead_runs(instance, run_id, left):
                    context.log.warning(message)
            yield self

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only, config=warehouse_settings())
        try:
            yield con
        finally:
            con.close()
