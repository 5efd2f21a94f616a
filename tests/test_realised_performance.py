"""Backtest = live, checked every night: the realised-performance marts hold the scores
published on past nights against what happened, beside what the backtest of the
version that published them promised, and a warning test flags a night that ranked
churners worse than promised. Crafted score histories on a copy of the session's
warehouse, built by the real dbt; the figures are checked against scikit-learn."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from conftest import DBT_DIR
from sklearn.metrics import roc_auc_score

from ml.artifacts import load_model
from pipeline_config import dbt_vars, load_config

SELECT = "int_scores_evaluated+"
OVERSTATED, MODEST = "v-overstated", "v-modest"


def _score_dates(con) -> list:
    """Two month starts whose outcome (horizon + re-sign gap) is known tonight."""
    config = load_config()
    known = config["model"]["horizon_days"] + config["churn"]["resign_gap_days"]
    return [
        row[0]
        for row in con.execute(
            f"""select distinct observation_date from marts.fct_account_snapshots
                where is_month_start and observation_date + {known}
                      <= (select max(observation_date) from marts.fct_account_snapshots)
                order by observation_date desc limit 2"""
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def built(nightly_run, demo_dirs, tmp_path_factory):
    """The session's warehouse with two crafted past nights of scores (random
    probabilities in tenths, so ties occur): one from a version whose backtest promised
    0.95, one from a version that promised only 0.3; then dbt builds the marts."""
    root = tmp_path_factory.mktemp("realised")
    warehouse = root / "warehouse.duckdb"
    shutil.copy(demo_dirs.warehouse, warehouse)
    rng = np.random.default_rng(5)
    with duckdb.connect(str(warehouse)) as con:
        overstated_night, modest_night = _score_dates(con)
        for night, version in ((overstated_night, OVERSTATED), (modest_night, MODEST)):
            accounts = [
                r[0]
                for r in con.execute(
                    "select account_id from marts.fct_account_snapshots "
                    "where observation_date = ? order by account_id",
                    [night],
                ).fetchall()
            ]
            probabilities = np.round(rng.uniform(0, 1, len(accounts)), 1)
            con.executemany(
                "insert into ml.churn_scores (account_id, as_of_date, churn_probability, "
                "risk_tier, model_version) values (?, ?, ?, 'low', ?)",
                [
                    (a, night, float(p), version)
                    for a, p in zip(accounts, probabilities, strict=True)
                ],
            )
        con.execute(
            "insert into ml.model_versions values "
            "(?, 0.95, 5.0, 0.02, '', false), (?, 0.3, 1.0, 0.3, '', false)",
            [OVERSTATED, MODEST],
        )
    config_path = root / "pipeline.yaml"
    config_path.write_text("model:\n  realised_performance: {auc_margin: 0.05, min_churners: 3}\n")
    target = root / "target"
    command = [
        str(Path(sys.executable).with_name("dbt")), "build", "--select", SELECT,
        "--vars", json.dumps(dbt_vars(load_config(config_path))), "--target-path", str(target),
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(warehouse)}
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {
        "warehouse": warehouse,
        "returncode": done.returncode,
        "stdout": done.stdout,
        "results": {r["unique_id"].split(".")[2]: r for r in results},
        "nights": {OVERSTATED: overstated_night, MODEST: modest_night},
    }


def test_the_realised_figures_are_the_textbook_ones(built):
    assert built["returncode"] == 0, built["stdout"][-3000:]
    con = duckdb.connect(str(built["warehouse"]), read_only=True)
    rows = con.execute(
        "select score_date, churn_probability, churned_within_horizon "
        "from intermediate.int_scores_evaluated where churned_within_horizon is not null"
    ).df()
    mart = con.execute("select * from marts.fct_model_realised_performance").df()
    con.close()
    crafted = mart[mart["model_version"].isin([OVERSTATED, MODEST])].set_index("score_date")
    assert len(crafted) == 2
    for night, group in rows.groupby("score_date"):
        if night not in crafted.index:
            continue
        y, p = group["churned_within_horizon"].to_numpy(), group["churn_probability"].to_numpy()
        got = crafted.loc[night]
        assert got["churners"] == y.sum() > 0
        assert got["realised_roc_auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
        assert got["realised_brier"] == pytest.approx(np.mean((p - y) ** 2), abs=1e-12)
        assert got["backtest_minus_realised_auc"] == pytest.approx(
            got["backtest_roc_auc"] - got["realised_roc_auc"], abs=1e-12
        )


def test_a_night_ranked_worse_than_its_backtest_promised_warns(built):
    check = built["results"]["assert_realised_auc_near_backtest"]
    assert check["status"] == "warn"
    assert check["failures"] == 1  # the overstated night, not the modest one


def test_the_model_step_records_what_the_backtest_promised(warehouse, demo_dirs):
    _, card = load_model(demo_dirs.outputs / "models")
    version, auc = warehouse.execute(
        "select model_version, backtest_roc_auc from ml.model_versions "
        "where model_version = (select max(model_version) from ml.churn_scores)"
    ).fetchone()
    assert version == card["version"]
    assert auc == pytest.approx(card["metrics"]["roc_auc"])
