"""Score every active account from tonight's snapshot rows and keep a history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pandas as pd

from ml.features import MISSING_CATEGORY, read_snapshots
from ml.reasons import top_reasons

if TYPE_CHECKING:  # scoring callers should not pay scikit-learn's import for a hint
    from ml.train import TrainedModel

SCORES_TABLE = "ml.churn_scores"


def risk_tier(probability: pd.Series, tiers: dict[str, float]) -> pd.Series:
    return pd.Series(
        np.select(
            [probability >= tiers["high"], probability >= tiers["medium"]],
            ["high", "medium"],
            "low",
        ),
        index=probability.index,
    )


def scoring_rows(snapshots: pd.DataFrame) -> pd.DataFrame:
    rows = snapshots[snapshots["is_scoring_row"]]
    if rows.empty:
        raise ValueError("no scoring rows in the snapshots: is the as-of date's snapshot built?")
    return rows


def with_model_columns(rows: pd.DataFrame, model: TrainedModel) -> pd.DataFrame:
    """``rows`` with every feature the model was fitted on. The event groups follow the
    data (``int_event_groups_mapped``) and attributes the config, so a model kept from an
    earlier night may know a column tonight's rows lack: it reads as missing, as for an
    account without that source, instead of stopping the night. (The nightly challenger
    replaces such a champion, ``ml.promotion``; this keeps any other caller safe.)"""
    missing = [c for c in model.features if c not in rows.columns]
    if not missing:
        return rows
    filled = rows.reindex(columns=[*rows.columns, *missing])
    categorical = [c for c in missing if c in model.categorical]
    filled[categorical] = MISSING_CATEGORY
    return filled


def score_accounts(
    model: TrainedModel,
    snapshots: pd.DataFrame,
    tiers: dict[str, Any],
    metrics: dict[str, Any],
    reasons_per_account: int,
    model_version: str,
) -> pd.DataFrame:
    """One row per account in tonight's snapshot: probability, tier, revenue at risk and
    the model's own reasons for that account."""
    rows = with_model_columns(scoring_rows(snapshots), model)
    probability = pd.Series(model.pipeline.predict_proba(rows)[:, 1], index=rows.index)
    if not np.isfinite(probability).all():
        raise ValueError(f"{int((~np.isfinite(probability)).sum())} scores are NaN or infinite")
    reasons = top_reasons(model.pipeline, rows, model.typical, metrics, reasons_per_account)
    arr = rows["mrr"] * 12
    return pd.DataFrame(
        {
            "account_id": rows["account_id"],
            "as_of_date": pd.to_datetime(rows["observation_date"]).dt.date,
            "churn_probability": probability.round(4),
            "risk_tier": risk_tier(probability, tiers),
            "arr": arr,
            "revenue_at_risk": (probability * arr).round(2),
            "reasons": reasons["reasons"],
            "reason_features": reasons["reason_features"],
            "model_version": model_version,
        }
    ).reset_index(drop=True)


def write_scores(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame) -> None:
    """Replace tonight's scores (re-running a night is idempotent), keep earlier nights."""
    con.execute("create schema if not exists ml")
    con.execute(
        f"create table if not exists {SCORES_TABLE} (account_id varchar not null, "
        "as_of_date date not null, churn_probability double not null, risk_tier varchar not null, "
        "arr double, revenue_at_risk double, model_version varchar not null, "
        "primary key (account_id, as_of_date))"
    )
    # warehouses scored before reasons existed get the columns (older nights: null)
    for column in ("reasons", "reason_features"):
        con.execute(f"alter table {SCORES_TABLE} add column if not exists {column} varchar[]")
    con.register("_tonight_scores", scores)
    try:
        con.execute("begin transaction")
        con.execute(
            f"delete from {SCORES_TABLE} where as_of_date in "
            "(select distinct as_of_date from _tonight_scores)"
        )
        con.execute(f"insert into {SCORES_TABLE} by name select * from _tonight_scores")
        con.execute("commit")
    finally:
        con.unregister("_tonight_scores")


def score_tonight(
    con: duckdb.DuckDBPyConnection, model: TrainedModel, model_version: str, config: dict
) -> pd.DataFrame:
    """Score tonight's snapshot rows and store them: the ``churn_scores`` asset's work,
    which the benchmark's score phase repeats without Dagster."""
    scores = score_accounts(
        model,
        read_snapshots(con, scoring_only=True),
        config["risk_tiers"],
        config["metrics"],
        config["model"]["reasons_per_account"],
        model_version,
    )
    write_scores(con, scores)
    return scores
