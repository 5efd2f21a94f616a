"""Load new landing-zone files of one source into ``raw.<source>``.

Why this shape:
- The ledger keys files by content checksum, so a re-run or the same export delivered
  under another name never double counts.
- Each file loads in one transaction: all its good rows land in the raw table, all its
  bad rows land in ``raw._quarantine`` with the rule they broke, or nothing changes.
- Rows stay in DuckDB throughout; Python only handles file names and counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import fsspec

from ingest.contract import SourceContract

LEDGER_DDL = """
create schema if not exists raw;
create table if not exists raw._load_ledger (
    source varchar not null,
    file_path varchar not null,
    checksum varchar not null,
    status varchar not null,          -- loaded | duplicate_content | rejected
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    duplicate_of varchar,
    message varchar,
    loaded_at timestamp not null
);
create table if not exists raw._quarantine (
    source varchar not null,
    file_path varchar not null,
    source_row bigint not null,
    rule varchar not null,
    reason varchar not null,
    record json,
    quarantined_at timestamp not null
);
"""


class ContractViolation(Exception):
    """A file that breaks the contract as a whole (unreadable, missing a required column)."""


@dataclass(frozen=True)
class FileLoad:
    file_path: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    duplicate_of: str | None = None


def _checksum(fs: fsspec.AbstractFileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _list_files(
    landing: str, contract: SourceContract
) -> tuple[fsspec.AbstractFileSystem, list[str]]:
    fs, root = fsspec.core.url_to_fs(landing.rstrip("/") + "/" + contract.folder)
    if not fs.exists(root):
        return fs, []
    files = sorted(fs.glob(root.rstrip("/") + "/" + contract.pattern))
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol not in ("file", "local"):
        files = [f"{protocol}://{f}" for f in files]
    return fs, files


def ensure_raw_table(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    con.execute(LEDGER_DDL)
    columns = ", ".join(f"{c.name} {c.sql_type}" for c in contract.columns)
    con.execute(
        f"create table if not exists raw.{contract.name} ({columns}, "
        "_source_file varchar not null, _source_row bigint not null, _loaded_at timestamp not null)"
    )


def _read_expression(path: str, fmt: str) -> str:
    quoted = path.replace("'", "''")
    if fmt == "csv":
        return f"read_csv('{quoted}', header = true, all_varchar = true)"
    if fmt == "json":
        return f"read_json('{quoted}', format = 'newline_delimited')"
    return f"read_parquet('{quoted}')"


def _stage_file(con: duckdb.DuckDBPyConnection, path: str, contract: SourceContract) -> int:
    """Read one file into ``_incoming`` (with its row numbers) and check its header."""
    try:
        con.execute(
            "create or replace temp table _incoming as select row_number() over () as _source_row, * "
            f"from {_read_expression(path, contract.file_format(path))}"
        )
    except duckdb.Error as exc:
        raise ContractViolation(f"{path}: unreadable {contract.name} file: {exc}") from exc
    present = {row[0] for row in con.execute("describe _incoming").fetchall()}
    missing = [c for c in contract.required if c not in present]
    if missing:
        raise ContractViolation(
            f"{path}: required column(s) {missing} missing from the {contract.name} file; "
            f"columns found: {sorted(present - {'_source_row'})}. The file was not loaded."
        )
    for column in contract.columns:
        if column.name not in present:  # optional column absent: filled as null
            con.execute(f"alter table _incoming add column {column.name} varchar")
    return con.execute("select count(*) from _incoming").fetchone()[0]


def _check_rows(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    """Cast every column and tag each row with the first rule it breaks (or none)."""
    rules = []
    for c in contract.columns:
        if c.required:
            rules.append(f"when {c.name} is null then 'null_required' || '|{c.name} is empty'")
        rules.append(
            f"when {c.name} is not null and try_cast({c.name} as {c.sql_type}) is null "
            f"then 'bad_type' || '|{c.name}=' || cast({c.name} as varchar) || ' is not {c.sql_type}'"
        )
    casts = ", ".join(f"try_cast({c.name} as {c.sql_type}) as {c.name}" for c in contract.columns)
    con.execute(
        f"create or replace temp table _checked as select _source_row, {casts}, "
        f"case {' '.join(rules)} end as _violation from _incoming"
    )


def _load_file(
    con: duckdb.DuckDBPyConnection,
    path: str,
    contract: SourceContract,
    now: datetime,
) -> FileLoad:
    rows_read = _stage_file(con, path, contract)
    _check_rows(con, contract)
    names = ", ".join(c.name for c in contract.columns)
    con.execute(
        f"insert into raw.{contract.name} select {names}, ?, _source_row, ? "
        "from _checked where _violation is null",
        [path, now],
    )
    con.execute(
        "insert into raw._quarantine select ?, ?, c._source_row, split_part(c._violation, '|', 1), "
        "split_part(c._violation, '|', 2), to_json(i), ? from _checked c "
        "join _incoming i using (_source_row) where c._violation is not null",
        [contract.name, path, now],
    )
    quarantined = con.execute(
        "select count(*) from _checked where _violation is not null"
    ).fetchone()[0]
    return FileLoad(path, "loaded", rows_read, rows_read - quarantined, quarantined)


def _record(con: duckdb.DuckDBPyConnection, contract: SourceContract, load: FileLoad,
            checksum: str, now: datetime, message: str | None = None) -> None:  # fmt: skip
    con.execute(
        "insert into raw._load_ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [contract.name, load.file_path, checksum, load.status, load.rows_read, load.rows_loaded,
         load.rows_quarantined, load.duplicate_of, message, now],
    )  # fmt: skip


def load_new_files(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    landing: str,
    max_reject_rate: float,
) -> list[FileLoad]:
    """Load every file of ``contract`` not loaded before; return what happened to each.

    Raises ContractViolation (after recording it in the ledger, and with nothing of the
    file loaded) for an unreadable file, a missing required column, or a file whose
    share of quarantined rows exceeds ``max_reject_rate``.
    """
    ensure_raw_table(con, contract)
    fs, files = _list_files(landing, contract)
    seen = dict(
        con.execute(
            "select checksum, file_path from raw._load_ledger where source = ? and status = 'loaded'",
            [contract.name],
        ).fetchall()
    )
    recorded = {r[0] for r in con.execute(
        "select file_path from raw._load_ledger where source = ? and status <> 'rejected'",
        [contract.name],
    ).fetchall()}  # fmt: skip
    loads: list[FileLoad] = []
    for path in files:
        if path in recorded:
            continue
        checksum = _checksum(fs, path)
        now = datetime.now(UTC).replace(tzinfo=None)
        if checksum in seen:
            load = FileLoad(path, "duplicate_content", duplicate_of=seen[checksum])
            _record(con, contract, load, checksum, now, "same content as an earlier file")
            loads.append(load)
            continue
        con.execute("begin transaction")
        try:
            load = _load_file(con, path, contract, now)
            if load.rows_read and load.rows_quarantined / load.rows_read > max_reject_rate:
                raise ContractViolation(
                    f"{path}: {load.rows_quarantined} of {load.rows_read} rows broke the "
                    f"{contract.name} contract ({load.rows_quarantined / load.rows_read:.1%} > "
                    f"max_reject_rate {max_reject_rate:.1%}); see raw._quarantine. "
                    "The file was not loaded."
                )
        except ContractViolation as exc:
            con.execute("rollback")
            _record(con, contract, FileLoad(path, "rejected"), checksum, now, str(exc))
            raise
        _record(con, contract, load, checksum, now)
        con.execute("commit")
        seen[checksum] = path
        loads.append(load)
    return loads
