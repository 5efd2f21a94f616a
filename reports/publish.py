"""Write output files so a reader never sees a half-written or dangerous file.

- CSV cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR) are
  prefixed with a quote (CSV/formula injection).
- Bidirectional-override characters (U+202A-U+202E, U+2066-U+2069) and control
  characters (NUL and the other C0 controls but tab, newline and carriage return) are
  removed from every text cell and every value rendered into HTML: overrides can make a
  name read backwards ("Trojan Source"-style spoofing), a NUL cuts a cell short in some
  spreadsheet tools, and none carries meaning in a company name.
- Numbers are written with 12 significant digits, without binary-float noise.
- Every file is written to a temp name and renamed into place.
- Each run writes ``runs/<as_of>/``; ``latest/`` is then swapped to that run, so the
  previous outputs stay published if a run fails before this point.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# 12 significant digits: cents up to 10 billion, and no binary noise ("26591.399999999998"
# is written 26591.4) in the files CSMs open in a spreadsheet.
FLOAT_FORMAT = "%.12g"
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
C0_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
UNSAFE_CHARACTERS = {**BIDI_CONTROLS, **C0_CONTROLS}


def strip_unsafe(value: object) -> object:
    """``value`` without bidirectional overrides and control characters (other values
    unchanged; a markupsafe.Markup, i.e. markup the pipeline wrote itself, is left as
    it is)."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return value.translate(UNSAFE_CHARACTERS)
    return value


def rendered(value: object) -> object:
    """What a template prints for a value (jinja2 ``finalize``): missing values (None,
    NaN) as nothing rather than "None", text without bidirectional overrides."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return strip_unsafe(value)


def neutralise_formula(value: object) -> object:
    value = strip_unsafe(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_text_atomically(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_csv_safely(frame: pd.DataFrame, path: Path) -> Path:
    text_columns = frame.select_dtypes(include=["object", "string"]).columns
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(neutralise_formula)
    return write_text_atomically(path, safe.to_csv(index=False, float_format=FLOAT_FORMAT))


def replace_folder(new: Path, target: Path) -> Path:
    """Put folder ``new`` in ``target``'s place by renames (near-atomic): whatever
    ``target`` held before is gone as a whole, nothing of it mixed into ``new``."""
    if target.exists():
        retired = target.with_name(f".{target.name}.old")
        if retired.exists():
            shutil.rmtree(retired)
        os.replace(target, retired)
        os.replace(new, target)
        shutil.rmtree(retired)
    else:
        os.replace(new, target)
    return target


def publish_latest(run_dir: Path, latest_dir: Path) -> Path:
    """Replace ``latest_dir`` with a copy of ``run_dir``."""
    staging = latest_dir.with_name(f".{latest_dir.name}.new")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(run_dir, staging)
    return replace_folder(staging, latest_dir)
