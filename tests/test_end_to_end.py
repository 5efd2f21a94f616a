"""The whole graph, materialised once on a small generated dataset (conftest's run),
judged by what it wrote: warehouse tables, scores, alert list, win-back list, HTML."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from conftest import DBT_DIR

from alerts.account_value import contact_cost_arr
from alerts.lifecycle import in_automated_sequence
from pipeline_config import load_config
from reports.alert_files import ALERT_COLUMNS, SEQUENCE_COLUMNS, SEVERITY_ORDER, csm_file_names
from reports.winback import WINBACK_COLUMNS


@pytest.fixture(scope="module")
def latest(nightly_run, demo_dirs):
    return demo_dirs.outputs / "latest"


def test_the_nightly_run_materialises_every_asset_and_passes_every_check(nightly_run, defs):
    assert nightly_run.success
    materialised = {e.asset_key for e in nightly_run.get_asset_materialization_events()}
    assert materialised == set(defs.resolve_asset_graph().get_all_asset_keys())
    evaluations = nightly_run.get_asset_check_evaluations()
    failed = {
        f"{c.asset_key.to_user_string()}:{c.check_name}": c for c in evaluations if not c.passed
    }
    errors = [name for name, c in failed.items() if c.severity == dg.AssetCheckSeverity.ERROR]
    assert errors == []
    # a warning may fire (tonight's weekday shifts the days-since features' distribution)
    assert set(failed) <= {"churn_scores:feature_drift"}
    assert len(evaluations) >= 25


def test_the_run_leaves_no_dbt_artifacts_behind(nightly_run, nightly_instance):
    """Each dbt step's own target folder goes once it succeeded: a nightly schedule would
    otherwise grow dbt_project/target by ~20 MB a night."""
    folders = {
        Path(m.group(1)).parent
        for entry in nightly_instance.all_logs(nightly_run.run_id)
        if (m := re.search(r"to `([^`]+/partial_parse\.msgpack)`", entry.user_message))
    }  # dagster-dbt names the folder it seeds: "Copying ... to `<folder>/partial_parse.msgpack`"
    assert len(folders) == 2 and all(f.parent == DBT_DIR / "target" for f in folders)
    assert not any(f.exists() for f in folders)


def test_the_alert_models_reuse_the_warehouse_builds_parse(nightly_run, nightly_instance):
    """The second dbt build of a run (same config) parses no file again: the first one's
    parse state was kept (orchestration.assets.warehouse._keep_parse_state)."""
    said = {
        entry.step_key: entry.user_message
        for entry in nightly_instance.all_logs(nightly_run.run_id)
        if entry.user_message.startswith(("dbt parsed", "dbt reused"))
    }
    assert set(said) == {"warehouse_dbt_models", "alert_outcome_models"}
    assert said["alert_outcome_models"] == "dbt reused the saved parse state (partial parsing)"


def test_every_generated_event_is_loaded_or_quarantined(warehouse, demo_dirs, row_faults):
    files = [
        str(f)
        for f in (demo_dirs.landing / "usage_events").glob("*.parquet")
        if "_resent" not in f.name
    ]
    in_files = warehouse.execute("select count(*) from read_parquet(?)", [files]).fetchone()[0]
    read, loaded, quarantined, deduplicated = warehouse.execute(
        "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(rows_deduplicated) "
        "from raw._load_ledger where source = 'usage_events' and status = 'loaded'"
    ).fetchone()
    assert read == in_files
    assert quarantined == row_faults["future_timestamps"].rows
    assert deduplicated == 0
    assert warehouse.execute("select count(*) from raw.usage_events").fetchone()[0] == loaded


def test_daily_usage_adds_up_to_the_raw_login_events(warehouse):
    raw_logins, mart_logins = warehouse.execute(
        "select (select count(*) from raw.usage_events where event_type = 'session_started'), "
        "(select sum(logins) from marts.fct_account_daily_usage)"
    ).fetchone()
    assert raw_logins == mart_logins > 0


def test_every_active_account_is_scored_with_a_probability(warehouse):
    active = warehouse.execute(
        "select count(*) from marts.dim_accounts where not has_churned"
    ).fetchone()[0]
    scores = warehouse.execute("select * from ml.churn_scores").df()
    assert len(scores) == active
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["churn_probability"].nunique() > 10
    assert set(scores["risk_tier"]) <= {"high", "medium", "low"}


def test_the_model_ranks_real_churners_above_the_rest(warehouse, demo_dirs):
    """Scores from older snapshots are not stored, so judge the backtest recorded in the
    model card against the ground truth's basic rate: lift must be well above 1."""
    import json

    models = demo_dirs.outputs / "models"
    version = json.loads((models / "current.json").read_text())["version"]
    card = json.loads((models / version / "model_card.json").read_text())
    assert card["metrics"]["roc_auc"] > 0.7
    assert card["metrics"]["top_decile_lift"] > 2
    assert len(card["sha256"]) == 64


def test_the_alert_list_holds_open_alerts_of_active_accounts_within_the_budget(latest, warehouse):
    config = load_config()["alerts"]
    alerts = pd.read_csv(latest / "alerts.csv", dtype={"account_id": str}, keep_default_na=False)
    assert list(alerts.columns) == ALERT_COLUMNS
    assert len(alerts) > 0
    assert alerts["alert_id"].is_unique and alerts["account_id"].is_unique
    churned = set(
        warehouse.execute("select account_id from marts.dim_accounts where has_churned").df()[
            "account_id"
        ]
    )
    assert not set(alerts["account_id"]) & churned
    assert alerts["severity"].map(SEVERITY_ORDER).is_monotonic_increasing
    assert alerts["evidence"].str.len().gt(0).all() and alerts["reason"].str.len().gt(0).all()
    steps = {"csm": config["playbooks"], "automated": config["touch"]["automated_playbooks"]}
    assert [
        steps[t][k] for t, k in zip(alerts["touch"], alerts["playbook_key"], strict=True)
    ] == list(alerts["playbook_step"])
    rules = set(config["rules"])
    assert all(set(t.split("; ")) <= rules for t in alerts["types"])
    delivered = alerts[alerts["is_new_today"]]
    assert delivered.groupby("csm_owner").size().max() <= 6  # tests/conftest.py TEST_CONFIG
    assert delivered["due_by"].str.endswith("UTC").all()
    # critical only with several risk factors at once (alerts.severity.critical_min_factors)
    critical = warehouse.execute(
        "select count(*) filter (where not is_multi_factor), count(*) from alerts.alert_history "
        "where severity = 'critical'"
    ).fetchone()
    assert critical[0] == 0


def test_each_csm_gets_their_own_actionable_list(latest):
    alerts = pd.read_csv(latest / "alerts.csv", dtype={"account_id": str}, keep_default_na=False)
    actionable = alerts[alerts["delivered_on"].ne("") & ~alerts["do_not_contact"]]
    names = csm_file_names(sorted(actionable["csm_owner"].unique()))
    assert sorted(p.name for p in (latest / "alerts_by_csm").glob("*.csv")) == sorted(
        names.values()
    )
    for owner, name in names.items():
        own = pd.read_csv(latest / "alerts_by_csm" / name, keep_default_na=False)
        assert set(own["csm_owner"]) == {owner}
        assert not own["do_not_contact"].any()
    assert (latest / "source_status.csv").exists()


def test_small_accounts_and_low_alerts_go_to_automated_sequences(latest, warehouse):
    """Tech touch: what a CSM's time is not worth goes to a sequence, never to a list."""
    alerts = pd.read_csv(latest / "alerts.csv", dtype={"account_id": str}, keep_default_na=False)
    config = load_config()
    # the default, auto: a CSM where churn probability x ARR pays back one contact
    value = warehouse.execute(
        "select touch, arr * greatest(coalesce(churn_probability, 0), ?) as saved "
        "from alerts.alert_history where severity <> 'low' and first_delivered_night is null",
        [config["risk_tiers"]["high"]],
    ).df()
    pays_back = value["saved"].isna() | value["saved"].ge(contact_cost_arr(config))
    assert (pays_back == value["touch"].eq("csm")).all()
    automated = alerts[alerts["touch"].eq("automated")]
    assert len(automated) and alerts["touch"].isin(["csm", "automated"]).all()
    assert not automated["delivered_on"].ne("").any()  # none reached a CSM's list
    sequences = pd.read_csv(latest / "automated_sequences.csv", keep_default_na=False)
    assert list(sequences.columns) == SEQUENCE_COLUMNS
    enrolled = alerts[alerts["in_automated_sequence"]]
    assert set(sequences["alert_id"]) == set(enrolled["alert_id"])
    assert enrolled["touch"].eq("automated").all() and not enrolled["do_not_contact"].any()
    listed = pd.concat(pd.read_csv(f) for f in (latest / "alerts_by_csm").glob("*.csv"))
    assert not set(listed["alert_id"]) & set(sequences["alert_id"])


def test_the_winback_list_holds_churners_from_the_ground_truth(latest, demo_dirs):
    winback = pd.read_csv(latest / "winback.csv", dtype={"account_id": str})
    truth = pd.read_csv(demo_dirs.truth / "accounts_truth.csv", dtype={"account_id": str})
    churned = truth.dropna(subset=["churn_date"]).set_index("account_id")
    assert list(winback.columns) == WINBACK_COLUMNS
    lost = winback[winback["candidate_kind"].eq("churned")]
    assert len(lost) > 0 and winback["account_id"].is_unique
    assert set(lost["account_id"]) <= set(churned.index)
    reasons = churned.loc[lost["account_id"], "churn_reason"].to_numpy()
    stated = lost["churn_reason"].ne("unknown").to_numpy()  # some cancellations give none
    assert (lost["churn_reason"].to_numpy()[stated] == reasons[stated]).all()
    assert stated.mean() > 0.7
    eligible = winback[winback["is_eligible"]]
    assert eligible["excluded_reason"].isna().all()
    assert winback.loc[~winback["is_eligible"], "excluded_reason"].notna().all()
    cadence = load_config()["winback"]
    last_day = max(cadence["touch_days"]) + cadence["touch_window_days"]
    assert (eligible["days_since_churn"] <= last_day).all()


def test_churn_derived_from_subscription_spells_matches_the_ground_truth(warehouse, demo_dirs):
    """Late renewals inside the re-sign gap are not churn; won-back accounts are active."""
    truth = pd.read_csv(demo_dirs.truth / "accounts_truth.csv", dtype={"account_id": str})
    derived = warehouse.execute("select account_id, has_churned from marts.dim_accounts").df()
    merged = derived.merge(truth, on="account_id", validate="one_to_one")
    expected = merged["churned_by_as_of"] & merged["reactivated_on"].isna()
    assert len(merged) == len(truth)
    assert (merged["has_churned"] == expected).all()
    assert merged["late_renewal_days"].gt(0).any() and merged["reactivated_on"].notna().any()


def test_alert_outcomes_count_a_sequence_as_contact_apart_from_a_csms(warehouse):
    """The save rate of automated sequences is measured on its own (fct_alert_outcomes);
    int_alerts_evaluated agrees with the engine's own reading of its history."""
    history = warehouse.execute("select * from alerts.alert_history").df()
    history["in_sequence"] = in_automated_sequence(history)
    history["reached"] = history["first_delivered_night"].notna()
    expected = (
        history.sort_values("night")
        .groupby("alert_id")
        .agg(
            in_sequence=("in_sequence", "any"),
            reached=("reached", "any"),
            held=("is_holdout", "last"),
        )
    )
    evaluated = (
        warehouse.execute(
            "select alert_id, touch, was_contacted from intermediate.int_alerts_evaluated"
        )
        .df()
        .set_index("alert_id")
        .loc[expected.index]
    )
    contacted = ~expected["held"] & (expected["reached"] | expected["in_sequence"])
    assert (evaluated["was_contacted"] == contacted).all()
    assert (evaluated.loc[expected["reached"], "touch"] == "csm").all()
    assert (
        evaluated.loc[expected["in_sequence"] & ~expected["reached"], "touch"] == "automated"
    ).all()
    touches = warehouse.execute("select distinct touch from marts.fct_alert_outcomes").df()
    assert set(touches["touch"]) == {"csm", "automated"}
