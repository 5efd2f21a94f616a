"""Questions asked of the load ledger: does every file reconcile, what was quarantined.

Kept beside the loader that writes the ledger, so the Dagster check and asset that ask
these questions stay thin and the SQL can be tested without Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

RECONCILE_RULE = (
    "per file: rows_read = loaded + quarantined + de-duplicated; "
    "loaded = rows in table; quarantined = rows in raw._quarantine"
)


@dataclass(frozen=True)
class Reconciliation:
    files_checked: int
    broken: list[
        tuple
    ]  # file_path, read, loaded, quarantined, de-duplicated, in table, in quarantine


def reconcile(con: duckdb.DuckDBPyConnection, source: str) -> Reconciliation:
    """Every loaded file of ``source`` against the raw table and the quarantine."""
    broken = con.execute(
        f"""
        with in_table as (
            select _source_file as file_path, count(*) as rows_in_table
            from raw.{source} group by _source_file
        ), in_quarantine as (
            select file_path, count(*) as rows_in_quarantine
            from raw._quarantine where source = ? group by file_path
        )
        select l.file_path, l.rows_read, l.rows_loaded, l.rows_quarantined,
               l.rows_deduplicated, coalesce(t.rows_in_table, 0) as rows_in_table,
               coalesce(q.rows_in_quarantine, 0) as rows_in_quarantine
        from raw._load_ledger l
        left join in_table t using (file_path)
        left join in_quarantine q using (file_path)
        where l.source = ? and l.status = 'loaded'
          and (l.rows_read <> l.rows_loaded + l.rows_quarantined + l.rows_deduplicated
               or coalesce(t.rows_in_table, 0) <> l.rows_loaded
               or coalesce(q.rows_in_quarantine, 0) <> l.rows_quarantined)
        """,
        [source, source],
    ).fetchall()
    files = con.execute(
        "select count(*) from raw._load_ledger where source = ? and status = 'loaded'", [source]
    ).fetchone()[0]
    return Reconciliation(files, broken)


def quarantined_by_rule(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, int]:
    """All-time quarantined rows of ``source`` per rule."""
    return dict(
        con.execute(
            "select rule, count(*) from raw._quarantine where source = ? group by rule", [source]
        ).fetchall()
    )
