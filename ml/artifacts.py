"""Versioned model artefacts with a model card, verified before unpickling.

Every trained model is kept as ``<models_dir>/<version>/model.joblib`` with its
``model_card.json``; ``current.json`` names the champion, the version scoring uses.
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

from ml.promotion import Decision
from ml.train import TrainedModel

CURRENT_POINTER = "current.json"
CARD = "model_card.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def model_card(
    model: TrainedModel, version_id: str, sha256: str, fingerprint: str, decision: Decision
) -> dict:
    return {
        "version": version_id,
        "kind": model.kind,
        "artefact": "model.joblib",
        "sha256": sha256,
        "training_window": model.training_window,
        "rows": model.rows,
        "features": {"numeric": model.numeric, "categorical": model.categorical},
        "metrics": model.metrics,
        "backtest": model.backtest,
        "label_exclusions": getattr(model, "label_exclusions", {}),
        "feature_selection": getattr(model, "feature_selection", {}),
        "drift_reference": model.drift_reference,
        "data_fingerprint": fingerprint,
        "library_versions": {
            "python": platform.python_version(),
            **{lib: version(lib) for lib in ("scikit-learn", "pandas", "numpy", "duckdb")},
        },
        "promotion": {"promoted": decision.promote, "why": decision.why},
    }


def save_model(
    model: TrainedModel, models_dir: Path, data_fingerprint: str, decision: Decision
) -> dict[str, Any]:
    """Write a new version (artefact + card with the champion/challenger outcome); point
    current.json at it only if it was promoted."""
    version_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = models_dir / version_id
    target.mkdir(parents=True, exist_ok=True)
    artefact = target / "model.joblib"
    joblib.dump(model, artefact)
    card = model_card(model, version_id, _sha256(artefact), data_fingerprint, decision)
    _write_atomically(target / CARD, json.dumps(card, indent=2, default=str))
    if decision.promote:
        _write_atomically(models_dir / CURRENT_POINTER, json.dumps({"version": version_id}))
    return card


def champion_card(models_dir: Path) -> dict[str, Any] | None:
    pointer = models_dir / CURRENT_POINTER
    if not pointer.exists():
        return None
    return read_card(models_dir / json.loads(pointer.read_text())["version"] / CARD)


def read_card(card_path: Path) -> dict[str, Any]:
    return json.loads(card_path.read_text())


def load_model(models_dir: Path, version_id: str | None = None) -> tuple[TrainedModel, dict]:
    """Load a model version (default: the champion) after verifying its checksum."""
    if version_id is None:
        pointer = models_dir / CURRENT_POINTER
        if not pointer.exists():
            raise FileNotFoundError(f"no trained model yet: {pointer} is missing")
        version_id = json.loads(pointer.read_text())["version"]
    card = read_card(models_dir / version_id / CARD)
    artefact = models_dir / version_id / card["artefact"]
    actual = _sha256(artefact)
    if actual != card["sha256"]:
        raise ValueError(
            f"{artefact}: checksum {actual[:12]}... does not match its model card "
            f"({card['sha256'][:12]}...); refusing to unpickle a modified artefact"
        )
    return joblib.load(artefact), card
