"""Model quality against the simulator's ground truth: how close to the ceiling?

``python -m bench.model_quality`` (``make quality``, after ``make run``) reads the
snapshots from the warehouse and the ground truth the simulator wrote, repeats the
model's time-ordered backtest (the same split, candidates and seed as the card) and
ranks the same test rows by ``simulator.oracle``'s probabilities. It prints ROC AUC,
PR AUC, top-decile lift and Brier score per ranking, and each one's ROC AUC as a share
of the revealed ceiling: the AUC of the best ranking anything that reads the exports
could reach. No pipeline asset reads the ground truth; this is an evaluation tool.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ml.backtest import backtest_split, fit_candidates, health_score_backtest
from ml.features import LABEL, feature_columns, labelled_rows, read_snapshots
from ml.metrics import evaluate
from ml.selection import select_optional_features
from pipeline_config import load_config, resolve_paths, warehouse_settings
from simulator.oracle import oracle_probability, read_truth

REVEALED_CEILING = "revealed ceiling (oracle)"


def quality_table(
    snapshots: pd.DataFrame,
    truth: pd.DataFrame,
    model_config: dict[str, Any],
    bands: dict[str, float],
) -> pd.DataFrame:
    """One row per ranking of the backtest's test rows, with its share of the ceiling."""
    numeric, categorical = feature_columns(labelled_rows(snapshots))
    with threadpool_limits(limits=model_config["threads"]):
        train, test = backtest_split(snapshots, model_config)
        numeric, categorical, _ = select_optional_features(
            train, numeric, categorical, model_config
        )
        fitted = fit_candidates(train, numeric, categorical, model_config)
        rankings = {name: p.predict_proba(test)[:, 1] for name, p in fitted.items()}
    window = (model_config["horizon_days"], model_config["lead_days"])
    rankings = {
        **rankings,
        REVEALED_CEILING: oracle_probability(truth, test, *window, include_hidden=False),
        "full latent risk (oracle)": oracle_probability(truth, test, *window, include_hidden=True),
        "revealed hazard, decay unseen (oracle)": oracle_probability(
            truth, test, *window, include_hidden=False, see_decay=False
        ),
    }
    y_test = test[LABEL].to_numpy().astype(int)
    rows = {name: evaluate(y_test, probability) for name, probability in rankings.items()}
    health = health_score_backtest(test, bands)
    rows["health score (rules)"] = {
        "roc_auc": health["roc_auc"],
        "top_decile_lift": health["top_decile_lift"],
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["share_of_ceiling"] = table["roc_auc"] / table.loc[REVEALED_CEILING, "roc_auc"]
    table.attrs["test_rows"] = len(test)
    table.attrs["test_churn_rate"] = float(y_test.mean())
    table.attrs["test_window"] = (
        str(pd.to_datetime(test["observation_date"]).min().date()),
        str(pd.to_datetime(test["observation_date"]).max().date()),
    )
    return table[["roc_auc", "share_of_ceiling", "pr_auc", "top_decile_lift", "brier"]]


def markdown(table: pd.DataFrame) -> str:
    def cell(value: float, digits: int) -> str:
        return "" if np.isnan(value) else f"{value:.{digits}f}"

    lines = [
        "| ranking | ROC AUC | share of revealed ceiling | PR AUC | top-decile lift | Brier |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in table.iterrows():
        lines.append(
            f"| {name} | {cell(r.roc_auc, 3)} | {cell(r.share_of_ceiling, 3)} "
            f"| {cell(r.pr_auc, 3)} | {cell(r.top_decile_lift, 1)} | {cell(r.brier, 4)} |"
        )
    first, last = table.attrs["test_window"]
    lines.append("")
    lines.append(
        f"test window {first}..{last}: {table.attrs['test_rows']:,} account-months, "
        f"churn rate {table.attrs['test_churn_rate']:.1%}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    paths = resolve_paths()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=paths.warehouse)
    parser.add_argument("--truth", type=Path, default=paths.outputs / "ground_truth")
    args = parser.parse_args(argv)
    config = load_config()
    con = duckdb.connect(str(args.warehouse), read_only=True, config=warehouse_settings())
    try:
        snapshots = read_snapshots(con)
    finally:
        con.close()
    table = quality_table(
        snapshots, read_truth(args.truth), config["model"], config["health"]["bands"]
    )
    print(markdown(table))


if __name__ == "__main__":
    main()
