"""Champion/challenger: does tonight's newly trained model replace the one in use?

The challenger takes over unless its backtest ROC AUC is lower than the champion's by
more than ``promotion_tolerance``. Each figure comes from its own model card: both
are out-of-sample results of the same procedure, on the newest months each model
could be tested on. A champion whose features no longer exist in the snapshots (a
source was dropped) cannot score tonight, so the challenger replaces it regardless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decision:
    promote: bool
    why: str


def decide(
    challenger_auc: float,
    champion: dict[str, Any] | None,
    tolerance: float,
    available_features: set[str],
) -> Decision:
    """Compare the challenger's backtest ROC AUC with the champion's model card."""
    if champion is None:
        return Decision(True, "no champion yet: the first trained model is promoted")
    wanted = set(champion["features"]["numeric"]) | set(champion["features"]["categorical"])
    missing = sorted(wanted - available_features)
    if missing:
        return Decision(
            True,
            f"champion {champion['version']} needs features the snapshots no longer have "
            f"({', '.join(missing)}): the challenger replaces it",
        )
    new, old = challenger_auc, champion["metrics"]["roc_auc"]
    if new < old - tolerance:
        return Decision(
            False,
            f"challenger backtest ROC AUC {new:.4f} is {old - new:.4f} below champion "
            f"{champion['version']}'s {old:.4f} (tolerance {tolerance}): the champion stays",
        )
    return Decision(
        True,
        f"challenger backtest ROC AUC {new:.4f} vs champion {champion['version']}'s {old:.4f} "
        f"(tolerance {tolerance}): the challenger is promoted",
    )
