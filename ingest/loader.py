"""Load new landing-zone files of one source into ``raw.<source>``.

Why this shape:
- The ledger keys files by content checksum, so a re-run or the same export delivered
  under another name never double counts.
- Each file loads in one transaction: its good rows land in the raw table, its bad rows
  land in ``raw._quarantine`` with the rule they broke, exact repeats are counted as
  de-duplicated, and the ledger records ``rows_read = loaded + quarantined +
  deduplicated``; or, when the file as a whole is unusable, nothing changes but the
  ledger's "rejected" line naming the file and the reason.
- Rows stay in DuckDB throughout; Python only handles file names and counts.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO

import duckdb
import fsspec

from ingest.contract import ACCOUNTS, FORMATS, ColumnSpec, SourceContract

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
    rows_deduplicated bigint,
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


GLOB_CHARACTERS = "*?[]{}"
# A CSV line DuckDB could not parse: a Latin-1 (or other non-UTF-8) line gets its own rule,
# so an export in the wrong encoding is named as such instead of as a broken line.
MALFORMED_RULE = (
    "case when bool_or(error_type in ('INVALID ENCODING', 'INVALID UNICODE')) "
    "then 'invalid_encoding' else 'malformed_row' end"
)
# Leading or trailing whitespace of any kind: ASCII, no-break and other Unicode spaces
# (Excel exports carry U+00A0), the byte-order mark.
PADDING = r"^[\s\pZ\x{FEFF}]|[\s\pZ\x{FEFF}]$"
CUT_RECORD_REASON = "the file ends inside a quoted field: its last record was cut off in transfer"


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ContractViolation(Exception):
    """A file that breaks the contract as a whole (unreadable, missing a required column,
    too many bad rows). Nothing of it is loaded."""


@dataclass(frozen=True)
class IngestRules:
    """The configurable limits of ``pipeline_config`` ``ingest:``."""

    max_reject_rate: float = 0.05
    future_tolerance_hours: float = 24
    min_timestamp: str = "2000-01-01"

    @classmethod
    def from_config(cls, ingest: dict) -> IngestRules:
        return cls(
            max_reject_rate=ingest["max_reject_rate"],
            future_tolerance_hours=ingest["future_tolerance_hours"],
            min_timestamp=str(ingest["min_timestamp"]),
        )


@dataclass(frozen=True)
class FileLoad:
    file_path: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_deduplicated: int = 0
    duplicate_of: str | None = None
    message: str | None = None


def _checksum(fs: fsspec.AbstractFileSystem, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split_cut_record(fs: fsspec.AbstractFileSystem, path: str) -> tuple[bytes, str] | None:
    """A CSV whose double quotes do not pair up has a quoted field that never closes
    (quotes inside a field are doubled, so a whole file has an even number). When that
    field opens in the last line, the file was cut in transfer mid-value: return the file
    without that record, and the record's text (DuckDB would otherwise load it with a
    garbage value). When more lines follow the opening quote (a quoting error in the
    export, or a cut inside a multi-line value) the file is refused: reading on would
    silently swallow every later line into one value. None when the quotes pair up (the common case: one
    streaming pass, nothing kept in memory)."""
    quotes = 0
    with _open_decompressed(fs, path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            quotes += block.count(b'"')
    if quotes % 2 == 0:
        return None
    with _open_decompressed(fs, path) as handle:
        content = handle.read()
    inside, record_start, record_line, line = False, 0, 1, 1
    for match in re.finditer(rb'["\n]', content):
        if match.group() == b'"':
            inside = not inside
            continue
        line += 1
        if not inside:
            record_start, record_line = match.end(), line
    tail = content[record_start:]
    following = tail.count(b"\n")
    if following:
        raise ContractViolation(
            f"{path}: a double quote opens a field on line {record_line} that never closes, "
            f"and {following} more line(s) follow it: a quoting error in the export (a quote "
            "inside a field must be doubled) or a cut inside a multi-line value; read on, "
            "those lines would become one value. The file was not loaded; fix it and deliver "
            "it again."
        )
    return content[:record_start], tail.decode("utf-8", "replace")


@contextmanager
def _open_decompressed(fs: fsspec.AbstractFileSystem, path: str) -> Iterator[IO[bytes]]:
    """The file's bytes (gzip undone); a compressed stream cut short is refused plainly."""
    try:
        with fs.open(path, "rb", compression="infer") as handle:
            yield handle
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ContractViolation(
            f"{path}: the compressed file is cut short or corrupt ({exc}): unreadable. "
            "The file was not loaded; deliver it again."
        ) from exc


def list_files(
    landing: str, contract: SourceContract
) -> tuple[fsspec.AbstractFileSystem, list[str]]:
    """Files of a source in the landing zone (local path or any fsspec URL), by name."""
    fs, root = fsspec.core.url_to_fs(landing.rstrip("/") + "/" + contract.folder)
    if not fs.exists(root):
        _require_bucket(fs, landing)
        return fs, []
    files = sorted(
        f for f in fs.find(root, maxdepth=1) if any(f.endswith(suffix) for suffix in FORMATS)
    )
    if not _is_local(fs):
        files = [f"{_protocol(fs)}://{f}" for f in files]
    return fs, files


BUCKET_PROTOCOLS = ("s3", "s3a", "gs", "gcs", "abfs", "az")


def _require_bucket(fs: fsspec.AbstractFileSystem, landing: str) -> None:
    """Object storage lists a missing bucket (or one these credentials cannot see) as
    empty: stop with that instead of loading nothing and failing later on a source with
    no file."""
    if _protocol(fs) not in BUCKET_PROTOCOLS:
        return
    bucket = fsspec.core.url_to_fs(landing)[1].split("/", 1)[0]
    try:
        found = fs.exists(bucket)
    except PermissionError:
        found = False
    if not found:
        raise ContractViolation(
            f"landing zone {landing}: bucket {bucket!r} does not exist or these credentials "
            "cannot read it (credentials and endpoint come from the environment: "
            "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_S3, or the "
            "filesystem's own configuration). Nothing was loaded."
        )


def _protocol(fs: fsspec.AbstractFileSystem) -> str:
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return _protocol(fs) in ("file", "local")


# A delivery's columns beyond the contract, kept per row as one JSON object (lower-case
# names): nothing a company sends is lost, and the CRM attributes declared in
# accounts.attributes are read from here by dbt.
EXTRA_COLUMNS = "_extra_columns"


def ensure_raw_table(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> None:
    con.execute(LEDGER_DDL)
    con.execute("alter table raw._load_ledger add column if not exists rows_deduplicated bigint")
    columns = ", ".join(f"{c.name} {c.sql_type}" for c in contract.columns)
    con.execute(
        f"create table if not exists raw.{contract.name} ({columns}, "
        "_source_file varchar not null, _source_row bigint not null, _loaded_at timestamp not null, "
        f"{EXTRA_COLUMNS} json)"
    )
    con.execute(f"alter table raw.{contract.name} add column if not exists {EXTRA_COLUMNS} json")
    # A warehouse built by an older contract gains the new columns (null for old rows);
    # rows are always inserted by name, so column order never matters.
    for c in contract.columns:
        con.execute(
            f"alter table raw.{contract.name} add column if not exists {c.name} {c.sql_type}"
        )


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_name(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _stage_json(con: duckdb.DuckDBPyConnection, path: str) -> None:
    """Newline-delimited JSON, every value taken as text (as CSV is) so that the contract's
    casts and rules decide, not DuckDB's type inference over a sample of rows."""
    con.execute(
        "create or replace temp table _json as select row_number() over () as _source_row, "
        f"json as _doc from read_json_objects({_sql_text(path)}, format = 'newline_delimited')"
    )
    # sorted: a parallel DISTINCT returns the keys in any order, and the quarantined
    # records' JSON and the extra columns would then differ from run to run
    keys = [
        r[0]
        for r in con.execute(
            "select distinct unnest(json_keys(_doc)) as k from _json order by k"
        ).fetchall()
    ]
    values = ", ".join(f"nullif(_doc ->> {_sql_text(k)}, '') as {_sql_name(k)}" for k in keys)
    con.execute(
        f"create or replace temp table _incoming as select _source_row{', ' if keys else ''}{values} "
        "from _json"
    )


def _quarantine_cut_record(con: duckdb.DuckDBPyConnection, record: str) -> None:
    """The cut last record (see ``_split_cut_record``) as the file's last data row."""
    con.execute(
        "insert into _malformed select (select count(*) from _incoming) "
        "+ (select count(*) from _malformed) + 1, 'truncated_row', ?, ?",
        [record[:1000], CUT_RECORD_REASON],
    )


def _number_rows_around_malformed(con: duckdb.DuckDBPyConnection) -> None:
    """Parsed CSV rows are numbered 1..n, skipping malformed lines; give each its real
    data-row number so the quarantine and the raw table point at the right line."""
    if con.execute("select count(*) from _malformed").fetchone()[0] == 0:
        return
    con.execute(
        """update _incoming set _source_row = n.file_row from (
            select r.range + 1 as file_row, row_number() over (order by r.range) as parsed_row
            from range((select count(*) from _incoming) + (select count(*) from _malformed)) as r
            where r.range + 1 not in (select source_row from _malformed)
        ) as n where _incoming._source_row = n.parsed_row"""
    )


def _stage_file(
    con: duckdb.DuckDBPyConnection,
    path: str,
    contract: SourceContract,
    read_from: str | None = None,
    cut_record: str | None = None,
) -> tuple[int, list[str]]:
    """Read one file into ``_incoming`` (with its row numbers) and malformed CSV lines into
    ``_malformed``; check the header. Returns rows read and notes on schema drift.
    ``read_from``: a copy to read instead of ``path`` (messages still name ``path``);
    ``cut_record``: the text of a CSV's last record when the file ends inside a quoted
    field (the copy is then the file without it); quarantined as ``truncated_row``."""
    fmt = contract.file_format(path)
    source = read_from or path
    con.execute(
        "create or replace temp table _malformed "
        "(source_row bigint, rule varchar, line varchar, error varchar)"
    )
    try:
        if fmt == "csv":
            con.execute("drop table if exists _csv_rejects; drop table if exists _csv_scans")
            con.execute(
                "create or replace temp table _incoming as select row_number() over () as _source_row, * "
                f"from read_csv({_sql_text(source)}, header = true, all_varchar = true, store_rejects = true, "
                "rejects_table = '_csv_rejects', rejects_scan = '_csv_scans')"
            )
            con.execute(  # one line can break several rules: count it once
                f"insert into _malformed select line - 1, {MALFORMED_RULE}, any_value(csv_line), "
                "min(error_message) from _csv_rejects group by line"
            )
            _number_rows_around_malformed(con)
            if cut_record is not None:
                _quarantine_cut_record(con, cut_record)
        elif fmt == "json":
            _stage_json(con, source)
        else:
            con.execute(
                "create or replace temp table _incoming as select * rename (file_row_number as _source_row) "
                f"from read_parquet({_sql_text(source)}, file_row_number = true)"
            )
            con.execute("update _incoming set _source_row = _source_row + 1")
    except duckdb.Error as exc:
        raise ContractViolation(f"{path}: unreadable {contract.name} file ({fmt}): {exc}") from exc
    # SQL names are case-insensitive: "Seats" in a header is the contract's "seats".
    present = {row[0].lower() for row in con.execute("describe _incoming").fetchall()}
    present.discard("_source_row")
    missing = [c for c in contract.required if c not in present]
    if missing:
        raise ContractViolation(
            f"{path}: required column(s) {missing} missing from the {contract.name} file; "
            f"columns found: {sorted(present)}. The file was not loaded."
        )
    absent = [c.name for c in contract.columns if c.name not in present]
    for name in absent:  # optional column absent: filled as null
        con.execute(f'alter table _incoming add column "{name}" varchar')
    notes = [f"optional column(s) missing, filled as null: {', '.join(absent)}"] if absent else []
    extra = sorted(present - {c.name for c in contract.columns})
    if extra:
        notes.append(f"extra column(s) kept in {EXTRA_COLUMNS}: {', '.join(extra)}")
    parsed = con.execute("select count(*) from _incoming").fetchone()[0]
    malformed = con.execute("select count(*) from _malformed").fetchone()[0]
    return parsed + malformed, notes


def _extra_columns_json(con: duckdb.DuckDBPyConnection, contract: SourceContract) -> str | None:
    """The JSON object of a staged row's columns beyond the contract (None without any:
    the insert then needs no join back to the staged file)."""
    known = {c.name for c in contract.columns} | {"_source_row"}
    extra = [
        name for (name, *_) in con.execute("describe _incoming").fetchall()
        if name.lower() not in known
    ]  # fmt: skip
    if not extra:
        return None
    pairs = ", ".join(f"{_sql_text(name.lower())}, i.{_sql_name(name)}" for name in extra)
    return f"json_object({pairs})"


def _cast(column: ColumnSpec, alias: bool = True) -> str:
    name = f'"{column.name}"'
    if column.sql_type == "TIMESTAMP":  # offsets honoured, naive values taken as UTC
        expr = f"cast(timezone('UTC', try_cast({name} as timestamptz)) as timestamp)"
    else:
        expr = f"try_cast({name} as {column.sql_type})"
    return f"{expr} as {name}" if alias else expr


def _bound(value: float | None, unbounded: str) -> str:
    if value is None:
        return unbounded
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _row_rules(
    contract: SourceContract, rules: IngestRules, now: datetime, text_columns: set[str]
) -> list[str]:
    """CASE branches naming the first rule a row breaks, as 'rule|reason'. Blank-text
    checks apply only to columns the file delivers as text (CSV, JSON strings)."""
    horizon = now + timedelta(hours=rules.future_tolerance_hours)
    out = []
    for c in contract.columns:
        raw, typed = f'"{c.name}"', _cast(c, alias=False)
        shown = f"cast({raw} as varchar)"
        blank = f"trim({raw}) = ''" if c.name in text_columns else "false"
        if c.required:
            out.append(f"when {raw} is null or {blank} then 'null_required|{c.name} is empty'")
        if c.is_identifier and c.name in text_columns:
            out.append(
                f"when regexp_matches({raw}, '{PADDING}') then 'padded_key|{c.name}=\"' || {raw} || "
                "'\" has leading or trailing whitespace (it would be another key than the "
                "trimmed value)'"
            )
        not_whole = (
            f" or try_cast({raw} as double) <> floor(try_cast({raw} as double))"
            if c.sql_type in ("INTEGER", "BIGINT")
            else ""
        )
        out.append(
            f"when {raw} is not null and not {blank} and ({typed} is null{not_whole}) "
            f"then 'bad_type|{c.name}=' || {shown} || ' is not {c.sql_type}'"
        )
        if c.sql_type == "DOUBLE":  # inf, -inf, NaN and overflowing text such as 1e400
            out.append(
                f"when isinf({typed}) or isnan({typed}) "
                f"then 'non_finite|{c.name}=' || {shown} || ' is not a finite number'"
            )
        if c.min is not None or c.max is not None:
            lo = "'-inf'" if c.min is None else c.min
            hi = "'inf'" if c.max is None else c.max
            out.append(
                f"when {typed} not between {lo}::double and {hi}::double "
                f"then 'out_of_range|{c.name}=' || {shown} || ' outside [{_bound(c.min, '-inf')}, {_bound(c.max, 'inf')}]'"
            )
        if c.sql_type in ("TIMESTAMP", "DATE"):
            out.append(
                f"when {typed} < '{rules.min_timestamp}'::timestamp "
                f"then 'out_of_range|{c.name}=' || {shown} || ' before {rules.min_timestamp}'"
            )
        if c.not_future:
            out.append(
                f"when {typed} > '{horizon:%Y-%m-%d %H:%M:%S}'::timestamp "
                f"then 'future_timestamp|{c.name}=' || {shown} || ' is after the load time "
                f"({now:%Y-%m-%d %H:%M} UTC + {rules.future_tolerance_hours:g}h)'"
            )
    if contract.checks_account:
        out.append(
            "when try_cast(account_id as varchar) not in (select account_id from _known_accounts) "
            "then 'unknown_account|account_id=' || cast(account_id as varchar) || ' is not in raw.accounts'"
        )
    return out


def _classify_rows(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, rules: IngestRules, now: datetime
) -> None:
    """Build ``_checked``: typed columns plus ``_violation`` ('rule|reason' or null) and
    ``_duplicate`` (true for an exact repeat of a row kept or already loaded)."""
    casts = ", ".join(_cast(c) for c in contract.columns)
    names = [f'"{c.name}"' for c in contract.columns]
    key = ", ".join(f'"{k}"' for k in contract.key)
    key_text = " || ', ' || ".join(f"""'{k}=' || cast("{k}" as varchar)""" for k in contract.key)
    text_columns = {
        name.lower()
        for name, sql_type, *_ in con.execute("describe _incoming").fetchall()
        if sql_type == "VARCHAR"
    }
    row_rules = " ".join(_row_rules(contract, rules, now, text_columns))
    con.execute(
        f"create or replace temp table _typed as select _source_row, {casts}, "
        f"case {row_rules} end as _violation from _incoming"
    )
    repeated_keys = con.execute(
        f"select count(*) - count(distinct ({key})) from _typed where _violation is null"
    ).fetchone()[0]
    if repeated_keys == 0:  # the common case: no window functions needed
        con.execute(
            f"""create or replace temp table _checked as
            select *, case when _violation is null then hash({", ".join(names)}) end as _content,
                false as _duplicate
            from _typed"""
        )
    else:
        _rank_repeated_keys(con, names, key, key_text)
    if contract.key_scope == "global":
        _check_against_loaded(con, contract, names, key, key_text)


def _rank_repeated_keys(
    con: duckdb.DuckDBPyConnection, names: list[str], key: str, key_text: str
) -> None:
    """Within the file: the first row of a key is kept; an identical later row is a
    duplicate, a different one a key conflict."""
    con.execute(
        f"""create or replace temp table _checked as
    with valid as (
        select *, hash({", ".join(names)}) as _content from _typed where _violation is null
    ), ranked as (
        select *,
            row_number() over (partition by {key}, _content order by _source_row) as _copy,
            first_value(_content) over (partition by {key} order by _source_row) as _kept,
            min(_source_row) over (partition by {key}) as _first_row
        from valid
    )
    select * exclude (_copy, _kept, _first_row, _violation),
        case when _copy = 1 and _content <> _kept then 'duplicate_key|' || {key_text}
             || ' repeated in the file with other content (first at row ' || _first_row || ')'
        end as _violation,
        _copy > 1 as _duplicate
    from ranked
    union all by name
    select *, null as _content, false as _duplicate from _typed where _violation is not null"""
    )


def _check_against_loaded(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    names: list[str],
    key: str,
    key_text: str,
) -> None:
    """Global-scope keys: a row already loaded from an earlier file is a duplicate; the
    same key with other content is a conflict. Scans the loaded keys once per file."""
    con.execute(
        f"""create or replace temp table _seen as
        select {key}, list(hash({", ".join(names)})) as _contents
        from raw.{contract.name}
        where ({key}) in (select ({key}) from _checked where _violation is null and not _duplicate)
        group by all"""
    )
    con.execute(
        f"""update _checked c set
            _duplicate = list_contains(s._contents, c._content),
            _violation = case when not list_contains(s._contents, c._content)
                then 'duplicate_key|' || {key_text.replace('cast("', 'cast(c."')}
                     || ' already loaded from an earlier file with other content' end
        from _seen s
        where {" and ".join(f'c."{k}" = s."{k}"' for k in contract.key)}
          and c._violation is null and not c._duplicate"""
    )


def _load_file(
    con: duckdb.DuckDBPyConnection,
    fs: fsspec.AbstractFileSystem,
    path: str,
    contract: SourceContract,
    rules: IngestRules,
    now: datetime,
) -> FileLoad:
    with _readable_copy(fs, path, contract) as (read_from, cut_record):
        rows_read, notes = _stage_file(con, path, contract, read_from, cut_record)
    _classify_rows(con, contract, rules, now)
    names = ", ".join(f'c."{c.name}"' for c in contract.columns)
    extra = _extra_columns_json(con, contract)
    joined = " inner join _incoming as i using (_source_row)" if extra else ""
    con.execute(
        f"insert into raw.{contract.name} by name select {names}, ? as _source_file, c._source_row, "
        f"? as _loaded_at, {extra or 'cast(null as json)'} as {EXTRA_COLUMNS} "
        f"from _checked as c{joined} where c._violation is null and not c._duplicate",
        [path, now],
    )
    con.execute(
        "insert into raw._quarantine select ?, ?, c._source_row, split_part(c._violation, '|', 1), "
        "split_part(c._violation, '|', 2), to_json(i), ? from _checked c "
        "join _incoming i using (_source_row) where c._violation is not null",
        [contract.name, path, now],
    )
    con.execute(
        "insert into raw._quarantine select ?, ?, source_row, rule, error, "
        "json_object('line', line), ? from _malformed",
        [contract.name, path, now],
    )
    loaded, quarantined, duplicates = con.execute(
        "select count(*) filter (where _violation is null and not _duplicate), "
        "count(*) filter (where _violation is not null), count(*) filter (where _duplicate) from _checked"
    ).fetchone()
    quarantined += con.execute("select count(*) from _malformed").fetchone()[0]
    message = "; ".join(notes) or None
    return FileLoad(path, "loaded", rows_read, loaded, quarantined, duplicates, message=message)


@contextmanager
def _readable_copy(
    fs: fsspec.AbstractFileSystem, path: str, contract: SourceContract
) -> Iterator[tuple[str, str | None]]:
    """The path DuckDB should read, and the cut last record of a CSV that ends inside a
    quoted field (read from a temporary copy without that record), else None."""
    if fs.size(path) == 0:
        raise ContractViolation(
            f"{path}: the file is empty (0 bytes, not even a header row): an export that "
            "failed to write? The file was not loaded; deliver it again."
        )
    split = _split_cut_record(fs, path) if contract.file_format(path) == "csv" else None
    if split is None:
        yield path, None
        return
    head, record = split
    with tempfile.NamedTemporaryFile(suffix=".csv") as copy:
        copy.write(head)
        copy.flush()
        yield copy.name, record


def _record(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    load: FileLoad,
    checksum: str,
    now: datetime,
) -> None:
    con.execute(
        "insert into raw._load_ledger (source, file_path, checksum, status, rows_read, rows_loaded, "
        "rows_quarantined, rows_deduplicated, duplicate_of, message, loaded_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [contract.name, load.file_path, checksum, load.status, load.rows_read, load.rows_loaded,
         load.rows_quarantined, load.rows_deduplicated, load.duplicate_of, load.message, now],
    )  # fmt: skip


VANISHED = (
    "listed, then gone before it could be read: nothing of it loaded and nothing recorded, "
    "so it is loaded when it is delivered again"
)


def load_new_files(
    con: duckdb.DuckDBPyConnection, contract: SourceContract, landing: str, rules: IngestRules
) -> list[FileLoad]:
    """Load every file of ``contract`` not loaded before; return what happened to each.

    Raises ContractViolation (after recording it in the ledger, and with nothing of the
    file loaded) for an unreadable file, a missing required column, a file whose share
    of quarantined rows exceeds ``rules.max_reject_rate``, a file name DuckDB would read
    as a pattern, or any other error while loading the file. A file listed and gone
    before it is read (its producer moved it) is returned as ``vanished``, unrecorded;
    a landing zone on object storage whose bucket is missing raises ContractViolation.
    """
    con.execute("set TimeZone = 'UTC'")
    ensure_raw_table(con, contract)
    if contract.checks_account:
        ensure_raw_table(con, ACCOUNTS)
        con.execute(
            "create or replace temp table _known_accounts as select distinct account_id from raw.accounts"
        )
    fs, files = list_files(landing, contract)
    if not _is_local(fs) and _protocol(fs) not in con.list_filesystems():
        con.register_filesystem(fs)  # DuckDB reads remote files through the same filesystem
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
        try:
            checksum = _checksum(fs, path)
        except FileNotFoundError:  # moved or deleted by its producer since the listing
            loads.append(FileLoad(path, "vanished", message=VANISHED))
            continue
        if any(ch in path.rsplit("/", 1)[-1] for ch in GLOB_CHARACTERS):
            # DuckDB's readers would expand the name as a pattern and read other files
            message = (
                f"{path}: file names may not contain any of {GLOB_CHARACTERS}; rename the file"
            )
            _record(
                con, contract, FileLoad(path, "rejected", message=message), checksum, _utc_now()
            )
            raise ContractViolation(message)
        now = _utc_now()
        if checksum in seen:
            load = FileLoad(path, "duplicate_content", duplicate_of=seen[checksum],
                            message="same content as an earlier file")  # fmt: skip
            _record(con, contract, load, checksum, now)
            loads.append(load)
            continue
        con.execute("begin transaction")
        try:
            load = _load_file(con, fs, path, contract, rules, now)
            if load.rows_read and load.rows_quarantined / load.rows_read > rules.max_reject_rate:
                raise ContractViolation(
                    f"{path}: {load.rows_quarantined} of {load.rows_read} rows broke the "
                    f"{contract.name} contract ({load.rows_quarantined / load.rows_read:.1%} > "
                    f"max_reject_rate {rules.max_reject_rate:.1%}); rules broken: "
                    f"{_rule_counts(con)}. The file was not loaded."
                )
            _record(con, contract, load, checksum, now)
            con.execute("commit")
        except Exception as exc:
            violation = (
                exc if isinstance(exc, ContractViolation) else _load_failure(exc, path, contract)
            )
            _reject(
                con, contract, FileLoad(path, "rejected", message=str(violation)), checksum, now
            )
            if violation is exc:
                raise
            raise violation from exc
        seen[checksum] = path
        loads.append(load)
    return loads


DISK_FULL_SIGNS = ("no space left on device", "file too large", "disk full", "quota exceeded")


def _load_failure(exc: Exception, path: str, contract: SourceContract) -> ContractViolation:
    """An unexpected error while loading ``path``, said plainly and naming the file."""
    if any(sign in str(exc).lower() for sign in DISK_FULL_SIGNS):
        return ContractViolation(
            f"{path}: the disk is full (or a file-size limit was hit) while loading it into "
            f"raw.{contract.name}; nothing of the file was loaded. Free space and re-run. ({exc})"
        )
    return ContractViolation(f"{path}: could not be loaded into raw.{contract.name}: {exc}")


def _reject(
    con: duckdb.DuckDBPyConnection,
    contract: SourceContract,
    load: FileLoad,
    checksum: str,
    now: datetime,
) -> None:
    """Roll the file's transaction back and record the rejection. Either may fail when
    the disk is full; the error raised by the caller then still names the file."""
    with suppress(duckdb.Error):  # a failed commit already ended the transaction
        con.execute("rollback")
    with suppress(duckdb.Error):  # not recorded: the file is tried again on the next run
        _record(con, contract, load, checksum, now)


def _rule_counts(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute(
        "select split_part(_violation, '|', 1) as rule, count(*) from _checked "
        "where _violation is not null group by 1 union all "
        "select rule, count(*) from _malformed group by 1 order by 2 desc"
    ).fetchall()
    return ", ".join(f"{rule} {count}" for rule, count in rows)
