"""File names for people's and accounts' pages and lists: readable, safe on every file
system, and never shared by two different values."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

import pandas as pd


def _short_hash(value: object) -> str:
    return hashlib.sha1(str(value).encode()).hexdigest()[:6]


def unique_slugs(
    values: Iterable[str], suffix: str, fallback: str = "unassigned"
) -> dict[str, str]:
    """One file name per value. Two values that read alike ("Ana Ruiz", "ANA.RUIZ") get
    the same readable slug plus a short hash each, so neither overwrites the other. Accents are
    dropped ("Zoë" -> "zoe"); a
    name with no Latin letters or digits ("李雷") gets ``fallback`` plus its hash."""
    slugs = {}
    for value in values:
        latin = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
        slug = re.sub(r"[^a-z0-9]+", "-", latin.lower()).strip("-")[:60]
        slugs[value] = slug or (f"{fallback}-{_short_hash(value)}" if str(value) else fallback)
    clash = pd.Series(slugs, dtype=object).duplicated(keep=False)
    return {
        value: (f"{slug}-{_short_hash(value)}" if clash[value] else slug) + suffix
        for value, slug in slugs.items()
    }
