"""File names for people's and accounts' pages and lists: readable, safe on every file
system, and never shared by two different values."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import pandas as pd


def unique_slugs(
    values: Iterable[str], suffix: str, fallback: str = "unassigned"
) -> dict[str, str]:
    """One file name per value. Two values that read alike ("Ana Ruiz", "ANA.RUIZ") get
    the same readable slug plus a short hash each, so neither overwrites the other."""
    slugs = {v: re.sub(r"[^a-z0-9]+", "-", str(v).lower()).strip("-")[:60] or fallback
             for v in values}  # fmt: skip
    clash = pd.Series(slugs, dtype=object).duplicated(keep=False)
    return {
        value: (f"{slug}-{hashlib.sha1(str(value).encode()).hexdigest()[:6]}" if clash[value]
                else slug) + suffix
        for value, slug in slugs.items()
    }  # fmt: skip
