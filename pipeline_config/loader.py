"""Load the documented defaults and merge a user's overrides over them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")
CONFIG_ENV_VAR = "CHURN_CONFIG"


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = _deep_merge(base[key], value)
        else:
            merged[key] = value
    return merged


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Return the defaults merged with the user's file (``path`` or ``$CHURN_CONFIG``).

    Unknown top-level keys are rejected: a typo in a threshold's section name would
    otherwise silently leave the default in force.
    """
    config = yaml.safe_load(DEFAULTS_PATH.read_text())
    user_path = path or os.environ.get(CONFIG_ENV_VAR)
    if not user_path:
        return config
    overrides = yaml.safe_load(Path(user_path).read_text()) or {}
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(
            f"{user_path}: unknown configuration section(s) {unknown}; "
            f"known sections are {sorted(config)}"
        )
    return _deep_merge(config, overrides)
