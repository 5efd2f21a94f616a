"""Owner-only files: the warehouse and the outputs hold customer names, contacts and
revenue, so nothing a run writes should be readable by other users of the host.

A run sets its process umask (``run.umask``, default 077: files 0600, folders 0700)
for its duration, which also covers what its children (dbt) create, and tightens
what was created before the setting existed when it publishes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def parse_umask(value: object) -> int:
    """``run.umask`` as written in YAML: "077" / "0o077" (octal text) or an int."""
    if isinstance(value, int):
        return value
    return int(str(value).removeprefix("0o"), 8)


@contextmanager
def run_umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def restrict_tree(root: Path, mask: int, recursive: bool = True) -> None:
    """Remove the masked permission bits from ``root`` and (``recursive``) everything
    under it."""
    if not root.exists():
        return
    paths = [root, *root.rglob("*")] if root.is_dir() and recursive else [root]
    for path in paths:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o7777
        if mode & mask:
            path.chmod(mode & ~mask)
