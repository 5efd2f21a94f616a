"""Versioned model artefacts with a model card, verified before unpickling.

A pickle can run arbitrary code when loaded, so ``load_model`` checks the file's
SHA-256 against the one recorded in its card before it touches joblib.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import joblib

from ml.train import TrainedModel

CURRENT_POINTER = "current.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_model(model: TrainedModel, models_dir: Path, data_fingerprint: str) -> Path:
    """Write ``<version>/model.joblib`` + ``model_card.json``; point current.json at it."""
    version_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = models_dir / version_id
    target.mkdir(parents=True, exist_ok=True)
    artefact = target / "model.joblib"
    joblib.dump(model, artefact)
    card = {
        "version": version_id,
        "artefact": artefact.name,
        "sha256": _sha256(artefact),
        "training_window": model.training_window,
        "backtest_window": model.test_window,
        "rows": model.rows,
        "features": {"numeric": model.numeric, "categorical": model.categorical},
        "metrics": model.metrics,
        "data_fingerprint": data_fingerprint,
        "library_versions": {
            "python": platform.python_version(),
            **{lib: version(lib) for lib in ("scikit-learn", "pandas", "numpy", "duckdb")},
        },
    }
    card_path = target / "model_card.json"
    _write_atomically(card_path, json.dumps(card, indent=2))
    _write_atomically(models_dir / CURRENT_POINTER, json.dumps({"version": version_id}))
    return card_path


def read_card(card_path: Path) -> dict[str, Any]:
    return json.loads(card_path.read_text())


def load_model(models_dir: Path, version_id: str | None = None) -> tuple[TrainedModel, dict]:
    """Load a model version (default: the current one) after verifying its checksum."""
    if version_id is None:
        pointer = models_dir / CURRENT_POINTER
        if not pointer.exists():
            raise FileNotFoundError(f"no trained model yet: {pointer} is missing")
        version_id = json.loads(pointer.read_text())["version"]
    card = read_card(models_dir / version_id / "model_card.json")
    artefact = models_dir / version_id / card["artefact"]
    actual = _sha256(artefact)
    if actual != card["sha256"]:
        raise ValueError(
            f"{artefact}: checksum {actual[:12]}... does not match its model card "
            f"({card['sha256'][:12]}...); refusing to unpickle a modified artefact"
        )
    return joblib.load(artefact), card
