"""The read-only copy of the warehouse that readers open.

DuckDB lets one process write a database file, and a reader holding the file open
(an analyst's notebook, a BI tool) makes the nightly run fail on the file lock. So
readers never open the working warehouse: at the end of each successful run the
pipeline copies it, checkpointed, to ``<warehouse>.published.duckdb`` via a temporary
file and a rename. A reader keeps the copy it opened (the rename does not disturb it)
and sees tonight's data on its next connection.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb


def published_path(warehouse: Path) -> Path:
    return warehouse.with_name(f"{warehouse.stem}.published{warehouse.suffix}")


def publish_warehouse(warehouse: Path, settings: dict[str, str]) -> Path:
    """Checkpoint ``warehouse`` (so the file holds everything, no WAL) and swap in a
    copy of it as the published one. The caller holds the write lock and no other
    connection to it is open."""
    con = duckdb.connect(str(warehouse), config=settings)
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    target = published_path(warehouse)
    staging = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(warehouse, staging)
    os.replace(staging, target)
    return target
