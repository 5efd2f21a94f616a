"""Model assets (group ``ml``): train + backtest the churn model, then score accounts."""

import hashlib

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model

from ml.artifacts import load_model, save_model
from ml.features import read_snapshots
from ml.score import score_accounts, write_scores
from ml.train import train_churn_model
from orchestration.assets.warehouse import warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource

SNAPSHOTS = get_asset_key_for_model([warehouse_dbt_models], "fct_account_snapshots")


def _fingerprint(frame: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    return hashlib.sha256(hashed).hexdigest()[:16]


@dg.asset(group_name="ml", deps=[SNAPSHOTS], kinds={"scikitlearn"})
def churn_model(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """Gradient-boosting churn model, calibrated, backtested on the newest months."""
    config = pipeline.config()
    with warehouse.connect(read_only=True) as con:
        snapshots = read_snapshots(con)
    model = train_churn_model(snapshots, config["model"])
    card_path = save_model(model, pipeline.paths().models, _fingerprint(snapshots))
    return dg.MaterializeResult(
        metadata={
            **{f"backtest_{k}": v for k, v in model.metrics.items()},
            "training_rows": model.rows,
            "training_window": " .. ".join(model.training_window),
            "backtest_window": " .. ".join(model.test_window),
            "features": model.features,
            "model_card": dg.MetadataValue.path(str(card_path)),
        }
    )


@dg.asset(group_name="ml", deps=[churn_model, SNAPSHOTS], kinds={"duckdb"}, pool="warehouse")
def churn_scores(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """Tonight's churn probability, risk tier and revenue at risk per active account
    (table ``ml.churn_scores``, history kept per as-of date)."""
    config = pipeline.config()
    model, card = load_model(pipeline.paths().models)
    with warehouse.connect() as con:
        scores = score_accounts(model, read_snapshots(con), config["risk_tiers"], card["version"])
        write_scores(con, scores)
    tiers = scores["risk_tier"].value_counts()
    return dg.MaterializeResult(
        metadata={
            "scored_accounts": len(scores),
            "as_of_date": str(scores["as_of_date"].iloc[0]),
            "model_version": card["version"],
            **{f"tier_{t}": int(tiers.get(t, 0)) for t in ("high", "medium", "low")},
            "mean_probability": float(scores["churn_probability"].mean()),
            "revenue_at_risk": float(scores["revenue_at_risk"].sum()),
        }
    )
