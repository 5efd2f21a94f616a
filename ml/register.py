"""Register a newly trained model: save it as a version, then let champion/challenger
decide whether scoring switches to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml.artifacts import champion_card, save_model
from ml.promotion import decide
from ml.train import TrainedModel


def register_model(
    model: TrainedModel,
    models_dir: Path,
    data_fingerprint: str,
    tolerance: float,
    available_features: set[str],
) -> dict[str, Any]:
    """The new version's card, with its ``promotion`` outcome recorded in it."""
    decision = decide(
        model.metrics["roc_auc"], champion_card(models_dir), tolerance, available_features
    )
    return save_model(model, models_dir, data_fingerprint, decision)
