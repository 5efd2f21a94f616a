"""Replay past nights: what the alerts would have been, night by night, with only the data
known before each night. For evaluation and calibration; never touches the live tables.

    python -m alerts.replay --first 2026-08-01 --last 2026-10-31 [--config my.yaml]

1. dbt builds the daily signals of those nights (var ``alerts.nights_from``; the next
   nightly run drops them again), point in time like every per-date mart.
2. The churn model for them is trained as of the first night: only rows whose label was
   already known then (observation date + horizon + re-sign gap before it), so no night
   is scored by a model that saw its future. Every replayed night is scored by this one
   model (not by the live scores some nights may have), so a replay gives the same
   result whenever it runs.
3. The engine evaluates and records every night into ``alerts_replay``.
Run it while no pipeline run writes the warehouse (one writer at a time).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from alerts.engine import first_signal_night, replay
from alerts.store import REPLAY_SCHEMA, insert_frame

REPLAY_SCORES = f"{REPLAY_SCHEMA}_model.scores"
DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


def build_alert_nights(
    nights_from: date, config: Mapping[str, Any], target_path: Path | None = None
) -> None:
    """``dbt build`` of the signals (and everything they read) with daily nights from
    ``nights_from``."""
    from pipeline_config import dbt_vars

    command = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--select",
        "+fct_account_alert_signals",
        "+fct_source_freshness",
        # the replay model scores the nights with every feature it was fitted on
        "+fct_account_event_features",
        "+int_account_attributes_listed",
        "stg_cs__alert_feedback",
        "--indirect-selection",
        "cautious",  # only the tests whose every parent is built here
        "--vars",
        json.dumps(dbt_vars(config, alert_nights_from=nights_from.isoformat())),
        "--quiet",
    ]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    subprocess.run(command, cwd=DBT_PROJECT_DIR, check=True)


def known_labels(snapshots: pd.DataFrame, first: date, config: Mapping[str, Any]) -> pd.DataFrame:
    """The labelled model rows whose outcome was already known before ``first``."""
    from ml.features import LABEL

    cutoff = pd.Timestamp(first) - timedelta(
        days=config["model"]["horizon_days"] + config["churn"]["resign_gap_days"]
    )
    dates = pd.to_datetime(snapshots["observation_date"])
    return snapshots[  # is_model_row: the model's dates, accounts old enough
        snapshots[LABEL].notna()
        & snapshots["is_model_row"].astype(bool)
        & ~snapshots["is_scoring_row"].astype(bool)
        & (dates <= cutoff)
    ]


def point_in_time_model(con: duckdb.DuckDBPyConnection, first: date, config: Mapping[str, Any]):
    """The gradient-boosting pipeline fitted on the labels known before ``first``."""
    from threadpoolctl import threadpool_limits

    from ml.candidates import CANDIDATES, GRADIENT_BOOSTING
    from ml.features import LABEL, feature_columns, read_snapshots
    from ml.selection import select_optional_features

    rows = known_labels(read_snapshots(con), first, config)
    if rows[LABEL].nunique() < 2:
        raise ValueError(
            f"no model as of {first}: fewer than two outcomes among the {len(rows)} rows "
            "labelled before it (replay later nights, or with a longer history)"
        )
    numeric, categorical = feature_columns(rows)
    with threadpool_limits(limits=config["model"]["threads"]):
        numeric, categorical, _ = select_optional_features(
            rows, numeric, categorical, config["model"]
        )
        pipeline = CANDIDATES[GRADIENT_BOOSTING](numeric, categorical, config["model"])
        pipeline.fit(rows, rows[LABEL].astype(int))
    return pipeline


def score_nights(con: duckdb.DuckDBPyConnection, pipeline, first: date, last: date) -> pd.DataFrame:
    """Every account observed on each night in [first, last], scored by ``pipeline``."""
    from ml.features import read_feature_rows

    rows = read_feature_rows(
        con, "is_alert_night and observation_date between ? and ?", [first, last]
    )
    return pd.DataFrame(
        {
            "account_id": rows["account_id"],
            "as_of_date": pd.to_datetime(rows["observation_date"]).dt.date,
            "churn_probability": pipeline.predict_proba(rows)[:, 1].round(4),
            "reasons": [None] * len(rows),
        }
    )


def write_replay_scores(con: duckdb.DuckDBPyConnection, scores: pd.DataFrame) -> str:
    schema = REPLAY_SCORES.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.execute(
        f"create or replace table {REPLAY_SCORES} (account_id varchar, as_of_date date, "
        "churn_probability double, reasons varchar[])"
    )
    insert_frame(con, REPLAY_SCORES, scores)
    return REPLAY_SCORES


def run_replay(con: duckdb.DuckDBPyConnection, first: date, last: date, config: Mapping[str, Any]):
    """Steps 2 and 3 (the nights must be built): model, scores, engine."""
    start = first_signal_night(first, config["alerts"])
    pipeline = point_in_time_model(con, first, config)
    scores = write_replay_scores(con, score_nights(con, pipeline, start, last))
    return replay(con, first, last, config, scores)


def main(argv: list[str] | None = None) -> None:
    from pipeline_config import load_config, resolve_paths, warehouse_settings
    from runtime.holding import holding_warehouse

    parser = argparse.ArgumentParser(description="Replay the alert rules over past nights.")
    parser.add_argument("--first", type=date.fromisoformat, required=True)
    parser.add_argument("--last", type=date.fromisoformat, help="default: the as-of date")
    parser.add_argument("--config", help="a config file (default: $CHURN_CONFIG or the defaults)")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    with holding_warehouse("alerts.replay", config["run"]):
        build_alert_nights(first_signal_night(args.first, config["alerts"]), config)
        con = duckdb.connect(str(resolve_paths().warehouse), config=warehouse_settings())
        try:
            last = (
                args.last
                or con.execute("select max(night) from marts.fct_account_alert_signals").fetchone()[
                    0
                ]
            )
            summaries = run_replay(con, args.first, last, config)
        finally:
            con.close()
    table = pd.DataFrame(
        [
            {
                "night": s.night,
                "open": s.open_alerts,
                "opened": s.opened,
                "closed": s.closed,
                **{k: v for k, v in s.by_severity.items()},
                "delivered": s.delivered,
                "deferred": s.deferred,
                "automated": s.automated,
                "stale": ",".join(s.stale_sources),
            }
            for s in summaries
        ]
    )
    print(table.to_string(index=False))
    print(f"\n{len(summaries)} nights replayed into {REPLAY_SCHEMA}.*")


if __name__ == "__main__":
    main()
