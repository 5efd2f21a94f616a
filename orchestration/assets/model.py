"""Model assets (group ``ml``): train + backtest the churn model, then score accounts."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from ml.artifacts import CARD, load_model
from ml.features import data_fingerprint, label_exclusions, read_snapshots
from ml.forecast import forecast_table, forecasts_vs_actuals, tonight_forecast, write_forecast
from ml.history_fit import history_problem, usage_history
from ml.register import record_model_version, register_model
from ml.score import SCORES_TABLE, score_tonight
from ml.train import train_churn_model
from orchestration.assets.warehouse import warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource

# the rows the model reads (ml.features.read_feature_rows): snapshots, event features, attributes
MODEL_INPUTS = [
    get_asset_key_for_model([warehouse_dbt_models], model)
    for model in (
        "fct_account_snapshots",
        "fct_account_event_features",
        "int_account_attributes_listed",
    )
]


@dg.asset(group_name="ml", deps=MODEL_INPUTS, kinds={"scikitlearn"})
def churn_model(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """A challenger trained tonight: calibrated gradient boosting, backtested on the newest
    months beside the logistic baseline and the health score. It replaces the champion
    (the model scoring uses) unless its backtest is worse beyond the tolerance."""
    config = pipeline.config()
    with warehouse.connect(read_only=True) as con:
        snapshots = read_snapshots(con)
        problem = history_problem(*usage_history(con), config)
        exclusions = label_exclusions(con, config)
    if problem:  # one message naming every time setting, before training fails on it
        raise ValueError(problem)
    model = train_churn_model(snapshots, config["model"], config["health"]["bands"], exclusions)
    card = register_model(
        model,
        pipeline.paths().models,
        data_fingerprint(snapshots),
        config["model"]["promotion_tolerance"],
        set(snapshots.columns),
    )
    with warehouse.connect() as con:
        record_model_version(con, card)
    backtest = card["backtest"]
    return dg.MaterializeResult(
        metadata={
            "version": card["version"],
            "promoted": card["promotion"]["promoted"],
            "promotion": card["promotion"]["why"],
            **{f"backtest_{k}": v for k, v in card["metrics"].items()},
            "candidates": dg.MetadataValue.json(
                {
                    name: {k: v for k, v in m.items() if k != "calibration"}
                    for name, m in backtest["models"].items()
                }
            ),
            "health_score_backtest": dg.MetadataValue.json(backtest["health_score"]),
            "calibration": dg.MetadataValue.json(backtest["models"][model.kind]["calibration"]),
            "training_rows": model.rows,
            "label_exclusions": dg.MetadataValue.json(card["label_exclusions"]),
            "feature_selection": dg.MetadataValue.json(card["feature_selection"]),
            "training_window": " .. ".join(model.training_window),
            "backtest_window": " .. ".join(backtest["test_window"]),
            "features": model.features,
            "model_card": dg.MetadataValue.path(
                str(pipeline.paths().models / card["version"] / CARD)
            ),
        }
    )


@dg.asset(group_name="ml", deps=[churn_model, *MODEL_INPUTS], kinds={"duckdb"})
def churn_scores(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.MaterializeResult:
    """Tonight's churn probability, risk tier, revenue at risk and the model's top reasons
    per active account, from the champion (table ``ml.churn_scores``, history kept per
    as-of date)."""
    config = pipeline.config()
    model, card = load_model(pipeline.paths().models)
    with warehouse.connect() as con:
        scores = score_tonight(con, model, card["version"], config)
    tiers = scores["risk_tier"].value_counts()
    return dg.MaterializeResult(
        metadata={
            "scored_accounts": len(scores),
            "as_of_date": str(scores["as_of_date"].iloc[0]),
            "model_version": card["version"],
            **{f"tier_{t}": int(tiers.get(t, 0)) for t in ("high", "medium", "low")},
            "mean_probability": float(scores["churn_probability"].mean()),
            "revenue_at_risk": float(scores["revenue_at_risk"].sum()),
            "accounts_without_reasons": int(scores["reasons"].map(len).eq(0).sum()),
        }
    )


@dg.asset(group_name="ml", deps=[churn_scores], kinds={"duckdb"})
def churn_forecast(
    warehouse: WarehouseResource, pipeline: PipelineResource
) -> dg.MaterializeResult:
    """Expected logos and MRR lost in the days after tonight, with an interval, from
    tonight's scores (table ``ml.churn_forecasts``, one row per night). Beside it: the
    same forecast backtested on the champion's test months, and past nights' forecasts
    whose windows have closed, each next to what was really lost."""
    config = pipeline.config()
    _, card = load_model(pipeline.paths().models)
    with warehouse.connect() as con:
        forecast = tonight_forecast(con, SCORES_TABLE, config["model"])
        write_forecast(con, forecast)
        closed = forecasts_vs_actuals(con, SCORES_TABLE, config["churn"]["resign_gap_days"])
    backtest = card["backtest"].get("forecast", [])
    return dg.MaterializeResult(
        metadata={
            **{k: v for k, v in forecast.items() if k not in ("as_of_date", "window_end")},
            "window": f"{forecast['as_of_date']} .. {forecast['window_end']} (end excluded)",
            "interval": config["model"]["forecast"]["interval"],
            "backtest": dg.MetadataValue.md(forecast_table(backtest, "date")),
            "backtest_logos_within_interval": f"{sum(r['logos_within'] for r in backtest)} "
            f"of {len(backtest)}",
            "closed_nights": dg.MetadataValue.md(forecast_table(closed, "as_of_date")),
        }
    )
