"""Register a newly trained model: save it as a version, then let champion/challenger
decide whether scoring switches to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

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


VERSIONS_TABLE = "ml.model_versions"


def record_model_version(con: duckdb.DuckDBPyConnection, card: dict[str, Any]) -> None:
    """Every version trained, with what its backtest promised and whether it became the
    champion: the realised-performance mart holds the scores each version published
    against these figures."""
    metrics, backtest = card["metrics"], card["backtest"]
    con.execute("create schema if not exists ml")
    con.execute(
        f"create table if not exists {VERSIONS_TABLE} (model_version varchar primary key, "
        "backtest_roc_auc double, backtest_top_decile_lift double, backtest_brier double, "
        "backtest_test_window varchar, promoted boolean)"
    )
    con.execute(
        f"insert or replace into {VERSIONS_TABLE} values (?, ?, ?, ?, ?, ?)",
        [
            card["version"],
            metrics.get("roc_auc"),
            metrics.get("top_decile_lift"),
            metrics.get("brier"),
            " .. ".join(backtest.get("test_window", ())),
            card["promotion"]["promoted"],
        ],
    )
