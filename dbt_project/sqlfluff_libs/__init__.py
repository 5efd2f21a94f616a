"""Lint-time stand-ins for dbt's builtins (ref, source, var, config, ...).

sqlfluff's own dbt emulation cannot do arithmetic on vars or iterate a mapping, and
the dbt templater needs a live connection. These render the models with the real
var defaults from dbt_project.yml, so lint sees the SQL dbt will run.
"""

from pathlib import Path

import yaml

_VARS = yaml.safe_load((Path(__file__).resolve().parent.parent / "dbt_project.yml").read_text())[
    "vars"
]


def var(name, default=None):
    return _VARS.get(name, default)


def ref(name, *_):
    return name


def source(source_name, table_name):
    return f"{source_name}.{table_name}"


def config(**_):
    return ""


def is_incremental():
    return False


this = "this_model"  # the incremental model's own table
