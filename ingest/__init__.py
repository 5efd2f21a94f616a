"""Load landing-zone files into the warehouse's raw schema, losing nothing.

Every file is loaded once (by content checksum); every row is loaded or quarantined
with a reason; a file missing a required column is refused whole.
"""

from ingest.contract import SOURCES, ColumnSpec, SourceContract
from ingest.loader import ContractViolation, FileLoad, IngestRules, load_new_files

__all__ = [
    "SOURCES",
    "ColumnSpec",
    "ContractViolation",
    "FileLoad",
    "IngestRules",
    "SourceContract",
    "load_new_files",
]
