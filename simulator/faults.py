"""Inject the faults real exports have into a generated landing zone, for tests.

Row faults leave every file loadable: the loader must quarantine or de-duplicate the
bad rows and load the rest. File faults make one file unusable as a whole: the loader
must reject it, name the file and column, and the run must stop. Each injected fault is
returned (and written to ``faults.json`` beside the ground truth) with the outcome the
pipeline is expected to produce.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

ROW_FAULTS = (
    "duplicate_rows", "duplicate_keys", "duplicate_file", "late_file", "null_keys",
    "bad_types", "future_timestamps", "unknown_accounts", "truncated_file", "missing_column",
)  # fmt: skip
FILE_FAULTS = ("renamed_column", "corrupt_file")


@dataclass(frozen=True)
class InjectedFault:
    kind: str
    source: str
    file: str  # path of the affected file (for late_file: where it waits to be delivered)
    expected: str  # the quarantine rule, or the file-level outcome
    rows: int  # affected rows (0 for file-level faults)


def _newest(folder: Path, pattern: str, back: int = 0) -> Path:
    files = sorted(f for f in folder.glob(pattern) if "_resent" not in f.name)
    return files[-1 - back]


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _inject(kind: str, landing: Path, late_dir: Path) -> InjectedFault:
    if kind == "duplicate_rows":  # an export job retried: exact copies of rows
        path = _newest(landing / "payments", "*.csv")
        frame = _csv(path)
        frame = pd.concat([frame, frame.iloc[:6]], ignore_index=True)
        frame.to_csv(path, index=False)
        return InjectedFault(kind, "payments", str(path), "deduplicated", 6)
    if kind == "duplicate_keys":  # same id, different content: which one is right is unknown
        path = _newest(landing / "payments", "*.csv", back=1)
        frame = _csv(path)
        clash = frame.iloc[10:12].assign(amount="1.00")
        pd.concat([frame, clash], ignore_index=True).to_csv(path, index=False)
        return InjectedFault(kind, "payments", str(path), "duplicate_key", 2)
    if kind == "duplicate_file":  # the same export delivered twice under another name
        source = _newest(landing / "usage_events", "*.parquet", back=4)
        copy = source.with_name(source.stem + "_resent.parquet")
        shutil.copyfile(source, copy)
        return InjectedFault(kind, "usage_events", str(copy), "duplicate_content", 0)
    if kind == "late_file":  # part of an old month arrives after newer months were loaded
        path = _newest(landing / "usage_events", "*.parquet", back=3)
        table = pq.read_table(path)
        held = table.num_rows // 20
        pq.write_table(table.slice(0, table.num_rows - held), path)
        late = late_dir / "usage_events" / (path.stem + "_late.parquet")
        late.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.slice(table.num_rows - held), late)
        return InjectedFault(kind, "usage_events", str(late), "loaded_when_delivered", held)
    if kind == "null_keys":
        path = _newest(landing / "nps_responses", "*.csv")
        frame = _csv(path)
        frame.loc[frame.index[:4], "account_id"] = ""
        frame.to_csv(path, index=False)
        return InjectedFault(kind, "nps_responses", str(path), "null_required", 4)
    if kind == "bad_types":
        path = _newest(landing / "payments", "*.csv", back=2)
        frame = _csv(path)
        frame.loc[frame.index[:3], "amount"] = "n/a"
        frame.to_csv(path, index=False)
        return InjectedFault(kind, "payments", str(path), "bad_type", 3)
    if kind == "future_timestamps":  # a clock or unit bug: events dated years ahead
        path = _newest(landing / "usage_events", "*.parquet", back=1)
        table = pq.read_table(path)
        frame = table.to_pandas()
        frame.loc[frame.index[:3], "occurred_at"] += pd.Timedelta(days=3650)
        pq.write_table(table.from_pandas(frame, schema=table.schema, preserve_index=False), path)
        return InjectedFault(kind, "usage_events", str(path), "future_timestamp", 3)
    if kind == "unknown_accounts":
        path = _newest(landing / "support_tickets", "*.jsonl")
        frame = pd.read_json(path, lines=True, dtype=False)
        frame.loc[frame.index[:5], "account_id"] = "A99999"
        frame.to_json(path, orient="records", lines=True, date_format="iso")
        return InjectedFault(kind, "support_tickets", str(path), "unknown_account", 5)
    if kind == "truncated_file":  # a transfer cut off mid-line
        path = _newest(landing / "nps_responses", "*.csv", back=1)
        text = path.read_bytes().rstrip(b"\n")
        path.write_bytes(text[: text.rfind(b",")])
        return InjectedFault(kind, "nps_responses", str(path), "malformed_row", 1)
    if kind == "missing_column":  # an optional column dropped from one export: filled as null
        path = _newest(landing / "support_tickets", "*.jsonl", back=1)
        frame = pd.read_json(path, lines=True, dtype=False).drop(columns="csat")
        frame.to_json(path, orient="records", lines=True, date_format="iso")
        return InjectedFault(kind, "support_tickets", str(path), "filled_null:csat", 0)
    if kind == "renamed_column":  # the export tool renamed a required column
        path = _newest(landing / "usage_events", "*.parquet")
        table = pq.read_table(path)
        names = ["event_time" if n == "occurred_at" else n for n in table.column_names]
        pq.write_table(table.rename_columns(names), path)
        return InjectedFault(kind, "usage_events", str(path), "file_rejected:occurred_at", 0)
    if kind == "corrupt_file":  # a Parquet file cut off in transfer: unreadable
        path = _newest(landing / "usage_events", "*.parquet", back=2)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return InjectedFault(kind, "usage_events", str(path), "file_rejected:unreadable", 0)
    raise ValueError(f"unknown fault {kind!r}; known: {ROW_FAULTS + FILE_FAULTS}")


def inject_faults(
    landing: Path, kinds: list[str], late_dir: Path, record: Path | None = None
) -> list[InjectedFault]:
    """Apply ``kinds`` in a fixed order to ``landing``; a late file waits in ``late_dir``."""
    order = [k for k in ROW_FAULTS + FILE_FAULTS if k in kinds]
    unknown = set(kinds) - set(order)
    if unknown:
        raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {ROW_FAULTS + FILE_FAULTS}")
    faults = [_inject(kind, landing, late_dir) for kind in order]
    if record is not None:
        record.write_text(json.dumps([asdict(f) for f in faults], indent=2))
    return faults
