"""A canonical digest of everything a run produces: every warehouse table (marts, ML
tables, alert state, raw tables, ledger) and every published output file.

Two runs on the same data must reach the same digest however they got there (a clean
run; a run killed and re-run; a run that waited for another): the fault-matrix tests
and the soak benchmark compare digests. What legitimately differs between two runs is
left out: load and run times, run ids, the model's version id (a timestamp), and the
order of rows. Doubles are rounded (parallel aggregation may add in another order).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import duckdb

# Columns whose values are times or ids of the run itself, not of the data.
VOLATILE_COLUMN = re.compile(
    r"^(\w*_)?loaded_at$|^(quarantined_at|checked_at|processed_at|model_version)$"
)
# Text in output files that names the run rather than the data.
VOLATILE_TEXT = [
    re.compile(rb"\d{8}T\d{12}Z"),  # model version ids
    re.compile(rb"built \d{4}-\d\d-\d\d \d\d:\d\d UTC"),  # the site's build time
    re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),  # run ids
]
# Numbers computed by parallel sums carry floating-point noise in their last digits
# (chart coordinates, 0.1 + 0.2): compared rounded to 6 decimals.
DECIMAL = re.compile(rb"\d+\.\d+")
DOUBLE_DIGITS = 6
# Rows that record a run's failed attempts (a run that failed first leaves them; a clean
# run does not): history, not content.
ROW_FILTERS = {"raw._load_ledger": "status <> 'rejected'"}
# Tables with one row per passing check or run: how many runs there were is history (a
# run that waited for another, then a re-run, adds rows; a run killed after training
# leaves a version); what they recorded is content.
DISTINCT_ROWS = {"audit.mart_row_counts", "ml.model_versions"}
# Text that quotes the load time ("... is after the load time (2026-12-01 05:59 UTC + 24h)").
TEXT_MASKS = {("raw._quarantine", "reason"): r"load time \([^)]*\)"}


def _table_digest(con: duckdb.DuckDBPyConnection, table: str, root: str) -> str:
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema || '.' || table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    kept = []
    for name, data_type in columns:
        if VOLATILE_COLUMN.match(name):
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        if data_type in ("DOUBLE", "FLOAT") or data_type.startswith("DECIMAL"):
            kept.append(f"round({quoted}::double, {DOUBLE_DIGITS})")
            continue
        text = f"replace({quoted}::varchar, {_sql_text(root)}, '<root>')"
        if (table, name) in TEXT_MASKS:
            text = f"regexp_replace({text}, {_sql_text(TEXT_MASKS[table, name])}, '<load time>')"
        kept.append(text)
    if not kept:
        return "no stable columns"
    where = f" where {ROW_FILTERS[table]}" if table in ROW_FILTERS else ""
    distinct = "distinct " if table in DISTINCT_ROWS else ""
    rows, total = con.execute(
        f"select count(*), coalesce(sum(h::hugeint), 0) from "
        f"(select {distinct}hash({', '.join(kept)}) as h from {table}{where})"
    ).fetchone()
    return f"{rows} rows, {total}"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def warehouse_digest(warehouse: Path, root: Path) -> dict[str, str]:
    """One digest per table of the warehouse file (opened read-only); paths under
    ``root`` (the run's folder: landing files, outputs) compared relative to it."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        return {table: _table_digest(con, table, str(root)) for table in tables}
    finally:
        con.close()


def _rounded(number: re.Match[bytes]) -> bytes:
    text = f"{float(number.group()):.{DOUBLE_DIGITS}f}".rstrip("0").rstrip(".")
    return text.encode()


def files_digest(folder: Path, root: Path) -> dict[str, str]:
    """One digest per file under ``folder``, volatile text and ``root`` masked."""
    digests = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes().replace(str(root).encode(), b"<root>")
        for pattern in VOLATILE_TEXT:
            content = pattern.sub(b"<volatile>", content)
        content = DECIMAL.sub(_rounded, content)
        digests[str(path.relative_to(folder))] = hashlib.sha256(content).hexdigest()
    return digests


def run_digest(warehouse: Path, published: Path, root: Path) -> dict[str, str]:
    """The warehouse's tables and the published folder's files, in one mapping."""
    return {
        **{f"table {k}": v for k, v in warehouse_digest(warehouse, root).items()},
        **{f"file {k}": v for k, v in files_digest(published, root).items()},
    }


def differences(left: dict[str, str], right: dict[str, str]) -> list[str]:
    """What differs between two digests, for an assertion message."""
    keys = sorted(set(left) | set(right))
    return [f"{k}: {left.get(k, 'missing')} != {right.get(k, 'missing')}" for k in keys
            if left.get(k) != right.get(k)]  # fmt: skip
