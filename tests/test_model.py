"""The churn model on the session's nightly run: backtest, calibration, champion/challenger,
reasons, drift and clean failures. Everything trains real scikit-learn pipelines on the
real snapshot mart; nothing is mocked."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from bench.model_quality import REVEALED_CEILING, quality_table
from ml.artifacts import champion_card, load_model
from ml.backtest import split_by_time
from ml.drift import population_stability
from ml.features import LABEL, labelled_rows, read_snapshots
from ml.register import register_model
from ml.score import score_accounts
from ml.train import train_churn_model
from pipeline_config import load_config
from simulator.oracle import read_truth


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def snapshots(warehouse):
    return read_snapshots(warehouse)


@pytest.fixture(scope="module")
def champion(nightly_run, demo_dirs):
    return load_model(demo_dirs.outputs / "models")


def train(snapshots, config):
    return train_churn_model(snapshots, config["model"], config["health"]["bands"])


def test_the_backtest_is_time_ordered_with_an_embargo_before_the_test_window(snapshots, config):
    labelled = labelled_rows(snapshots)
    train_rows, test_rows = split_by_time(labelled, test_months=2, embargo_days=60)
    newest_train = pd.to_datetime(train_rows["observation_date"]).max()
    first_test = pd.to_datetime(test_rows["observation_date"]).min()
    assert first_test - newest_train >= pd.Timedelta(days=60)
    assert test_rows["observation_date"].nunique() == 2
    assert len(train_rows) + len(test_rows) < len(labelled)  # the embargoed months are out


def test_the_card_reports_both_models_and_the_health_score_on_the_same_rows(champion):
    _, card = champion
    backtest = card["backtest"]
    models = backtest["models"]
    assert set(models) == {"gradient_boosting", "logistic_baseline"}
    for metrics in models.values():
        assert metrics["test_rows"] == backtest["test_rows"]
        assert {"roc_auc", "pr_auc", "brier", "top_decile_lift", "profit_per_period"} <= set(
            metrics
        )
        assert sum(row["rows"] for row in metrics["calibration"]) == backtest["test_rows"]
    health = backtest["health_score"]
    assert 0.5 < health["roc_auc"] <= 1
    rates = {band: v["churn_rate"] for band, v in health["churn_rate_by_band"].items()}
    assert rates["green"] < rates.get("red", rates["yellow"])  # worse band, more churn
    assert card["metrics"]["roc_auc"] > health["roc_auc"]  # the model adds over the rules
    assert card["library_versions"]["scikit-learn"]
    assert card["promotion"]["promoted"] is True


def test_calibration_tracks_the_observed_churn_rate(champion):
    """Predicted probabilities match observed churn on the backtest's test window: the
    expected calibration error is small and the top fifth churns far more than the
    bottom three fifths. (The session's test window holds about ten churners, too few
    for a per-decile monotonicity check; on the demo data the calibration table is
    reported by ``make run``'s model card and in the closing note.)"""
    table = pd.DataFrame(champion[1]["backtest"]["models"]["gradient_boosting"]["calibration"])
    weights = table["rows"] / table["rows"].sum()
    ece = float((weights * (table["mean_predicted"] - table["observed_rate"]).abs()).sum())
    assert ece < 0.05, table
    churners = table["observed_rate"] * table["rows"]
    top = churners[table["bin"] > 8].sum() / table.loc[table["bin"] > 8, "rows"].sum()
    bottom = churners[table["bin"] <= 6].sum() / table.loc[table["bin"] <= 6, "rows"].sum()
    assert top > 3 * bottom, table


def test_the_model_is_measured_against_the_simulators_ceiling(snapshots, config, demo_dirs):
    """Same test rows as the card; the oracle rankings come from the ground truth."""
    table = quality_table(
        snapshots, read_truth(demo_dirs.truth), config["model"], config["health"]["bands"]
    )
    _, card = load_model(demo_dirs.outputs / "models")
    model = table.loc[card["kind"]]
    assert model["roc_auc"] == pytest.approx(card["metrics"]["roc_auc"])
    ceiling = table.loc[REVEALED_CEILING, "roc_auc"]
    assert model["share_of_ceiling"] == pytest.approx(model["roc_auc"] / ceiling)
    assert ceiling > table.loc["health score (rules)", "roc_auc"] + 0.05
    assert ceiling > table.loc["revealed hazard, decay unseen (oracle)", "roc_auc"]


def test_the_champion_stays_when_the_challenger_is_worse(snapshots, config, demo_dirs, tmp_path):
    """A challenger trained on shuffled labels ranks at chance: it is saved with its card
    but scoring keeps using the champion, and the card says why."""
    models = tmp_path / "models"
    shutil.copytree(demo_dirs.outputs / "models", models)
    before = champion_card(models)["version"]
    noise = snapshots.copy()
    known = noise[LABEL].notna()
    noise.loc[known, LABEL] = np.random.default_rng(0).permutation(noise.loc[known, LABEL])
    challenger = train(noise, config)
    card = register_model(challenger, models, "shuffled", 0.01, set(noise.columns))
    assert card["promotion"]["promoted"] is False
    assert "the champion stays" in card["promotion"]["why"]
    assert champion_card(models)["version"] == before
    assert (models / card["version"] / "model_card.json").exists()
    saved = json.loads((models / card["version"] / "model_card.json").read_text())
    assert saved["promotion"] == card["promotion"]


def test_an_equally_good_challenger_replaces_the_champion(snapshots, config, demo_dirs, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(demo_dirs.outputs / "models", models)
    card = register_model(train(snapshots, config), models, "same", 0.01, set(snapshots.columns))
    assert card["promotion"]["promoted"] is True
    assert champion_card(models)["version"] == card["version"]


COLLAPSE = {  # nobody has used the product for 40 days: every usage feature says so
    "logins_7d": 0.0, "logins_30d": 0.0, "logins_change_30v90": -1.0, "logins_vs_cohort": 0.0,
    "core_actions_30d": 0.0, "core_actions_change_30v90": -1.0, "core_actions_vs_cohort": 0.0,
    "session_minutes_30d": 0.0, "session_minutes_change_30v90": -1.0, "active_days_7d": 0.0,
    "active_days_30d": 0.0, "days_since_last_login": 40.0, "days_since_last_activity": 40.0,
    "days_since_last_core_action": 40.0,
}  # fmt: skip


def crafted_accounts(snapshots, model):
    """A calm account (low risk tonight) and its copy whose usage collapsed."""
    tonight = snapshots[snapshots["is_scoring_row"]]
    probability = model.pipeline.predict_proba(tonight)[:, 1]
    calm = tonight.iloc[[int(np.argmin(probability))]].copy()
    collapsed = calm.copy()
    collapsed.index = [calm.index[0] + 10**9]
    for column, value in COLLAPSE.items():
        collapsed[column] = value
    return pd.concat([calm, collapsed]), set(COLLAPSE)


def test_reasons_name_the_features_that_moved_the_score(snapshots, champion, config):
    model, _ = champion
    rows, changed = crafted_accounts(snapshots, model)
    scores = score_accounts(model, rows, config["risk_tiers"], config["metrics"], 3, "v")
    calm, collapsed = scores.iloc[0], scores.iloc[1]
    assert collapsed["churn_probability"] > calm["churn_probability"] + 0.05
    assert collapsed["reason_features"][0] in changed
    assert list(collapsed["reason_features"]) != list(calm["reason_features"])
    sentence = collapsed["reasons"][0]
    assert any(
        word in sentence
        for word in (
            "logins down 100%",
            "no login for 40 days",
            "no activity for 40 days",
            "no core action for 40 days",
        )
    )


def test_every_scored_account_gets_reasons_in_plain_language(warehouse):
    scores = warehouse.execute(
        "select reasons, reason_features, churn_probability from ml.churn_scores"
    ).df()
    risky = scores[scores["churn_probability"] >= 0.15]
    assert len(risky) > 0
    assert risky["reasons"].map(len).between(1, 3).all()
    assert risky["reason_features"].map(len).eq(risky["reasons"].map(len)).all()
    assert not risky["reasons"].map(lambda r: any("_" in s for s in r)).any()  # no raw column names


def test_psi_is_near_zero_on_the_training_rows_and_large_on_a_shifted_population(
    snapshots, champion
):
    _, card = champion
    labelled = labelled_rows(snapshots)
    same = population_stability(card["drift_reference"], labelled)
    assert max(same.values()) < 0.01
    shifted = labelled.assign(logins_30d=labelled["logins_30d"] * 5 + 50)
    psi = population_stability(card["drift_reference"], shifted)
    assert psi["logins_30d"] > 1.0
    assert next(iter(psi)) == "logins_30d"  # largest first


def test_the_drift_check_only_warns(nightly_run):
    evaluation = next(
        e for e in nightly_run.get_asset_check_evaluations() if e.check_name == "feature_drift"
    )
    assert "psi" in evaluation.metadata and "threshold" in evaluation.metadata
    assert nightly_run.success  # whatever it found, it did not block the run


def test_training_fails_cleanly_without_churners(snapshots, config):
    no_churn = snapshots.assign(**{LABEL: snapshots[LABEL].where(snapshots[LABEL].isna(), 0)})
    with pytest.raises(ValueError, match="needs churners and non-churners"):
        train(no_churn, config)


def test_a_feature_with_a_handful_of_values_trains_and_scores(snapshots, config):
    """An optional column filled on a few rows only (all-empty within some calibration
    folds and in the earlier backtest months) must not stop training."""
    sparse = snapshots.assign(active_users_30d=np.nan)
    sparse.loc[sparse.index[-5:], "active_users_30d"] = 0.0
    result = train(sparse, config)
    scores = result.pipeline.predict_proba(sparse.head(20))[:, 1]
    assert np.isfinite(scores).all()


def test_training_fails_cleanly_when_every_feature_is_empty(snapshots, config):
    from ml.features import numeric_columns

    empty = snapshots.assign(**{c: np.nan for c in numeric_columns(snapshots)})
    with pytest.raises(ValueError, match="no usable numeric feature"):
        train(empty, config)


def test_the_backtest_floor_check_blocks_a_champion_below_the_floor(
    demo_dirs, nightly_run, tmp_path, monkeypatch
):
    """The same champion passes at the configured floor and fails above its own AUC."""
    from orchestration.checks import backtest_above_floor
    from orchestration.resources import PipelineResource

    auc = champion_card(demo_dirs.outputs / "models")["metrics"]["roc_auc"]
    passing = backtest_above_floor(pipeline=PipelineResource())
    assert passing.passed
    strict = tmp_path / "strict.yaml"
    strict.write_text(f"model:\n  min_backtest_auc: {min(auc + 0.01, 1.0)}\n")
    failing = backtest_above_floor(pipeline=PipelineResource(config_path=str(strict)))
    assert not failing.passed
    assert failing.metadata["roc_auc"].value == auc
    monkeypatch.setenv("CHURN_OUTPUTS_DIR", str(tmp_path / "no_models"))
    assert not backtest_above_floor(pipeline=PipelineResource()).passed  # no champion at all


def test_the_degenerate_scores_check_blocks_equal_or_invalid_scores(warehouse, tmp_path):
    from orchestration.checks import scores_not_degenerate
    from orchestration.resources import WarehouseResource

    tonight = warehouse.execute("select * from ml.churn_scores").df()
    assert scores_not_degenerate(
        warehouse=WarehouseResource(database=str(_copy(tonight, tmp_path / "ok.duckdb")))
    ).passed
    for name, probability in {"equal": 0.3, "nan": float("nan"), "outside": 1.7}.items():
        path = _copy(tonight.assign(churn_probability=probability), tmp_path / f"{name}.duckdb")
        result = scores_not_degenerate(warehouse=WarehouseResource(database=str(path)))
        assert not result.passed, name


def _copy(scores, path):
    """A warehouse holding only ``ml.churn_scores`` with these rows."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("create schema ml")
    con.register("s", scores)
    con.execute("create table ml.churn_scores as select * from s")
    con.close()
    return path
