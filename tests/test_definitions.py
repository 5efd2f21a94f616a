"""The Dagster definitions: pinned so that renames are deliberate."""

from __future__ import annotations

import dagster as dg

EXPECTED_ASSET_KEYS = [
    "alert_list",
    "alerts/alert_history",
    "alerts/alert_type_nights",
    "alerts/night_runs",
    "alerts/rule_hits",
    "alerts/source_status",
    "alerts/state_changes",
    "churn_forecast",
    "churn_model",
    "churn_scores",
    "cs_site",
    "intermediate/int_account_activity_expected",
    "intermediate/int_account_adoption_windows_aggregated",
    "intermediate/int_account_attributes_listed",
    "intermediate/int_account_event_type_days_aggregated",
    "intermediate/int_account_event_windows_aggregated",
    "intermediate/int_account_feature_adoptions_listed",
    "intermediate/int_account_lifetime_value_summed",
    "intermediate/int_account_observations_listed",
    "intermediate/int_account_usage_windows_aggregated",
    "intermediate/int_accounts_churn_derived",
    "intermediate/int_alerts_evaluated",
    "intermediate/int_churn_events_classified",
    "intermediate/int_country_activity_days_listed",
    "intermediate/int_event_groups_mapped",
    "intermediate/int_observation_dates_listed",
    "intermediate/int_observation_window_days_listed",
    "intermediate/int_scores_evaluated",
    "intermediate/int_source_changes_listed",
    "intermediate/int_subscription_spells_grouped",
    "intermediate/int_usage_user_days_aggregated",
    "intermediate/int_winback_churns_listed",
    "intermediate/int_winback_offers_listed",
    "marts/dim_accounts",
    "marts/fct_account_adoption",
    "marts/fct_account_alert_signals",
    "marts/fct_account_billing",
    "marts/fct_account_daily_usage",
    "marts/fct_account_event_features",
    "marts/fct_account_feature_daily_usage",
    "marts/fct_account_features_recent",
    "marts/fct_account_health",
    "marts/fct_account_mrr_monthly",
    "marts/fct_account_nps",
    "marts/fct_account_onboarding_milestones",
    "marts/fct_account_snapshots",
    "marts/fct_account_support",
    "marts/fct_account_usage_trends",
    "marts/fct_account_usage_weekly",
    "marts/fct_alert_outcomes",
    "marts/fct_churn_by_attribute",
    "marts/fct_churn_monthly",
    "marts/fct_churn_reasons_monthly",
    "marts/fct_churners_alerted",
    "marts/fct_cohort_baselines",
    "marts/fct_cohort_retention",
    "marts/fct_model_realised_calibration",
    "marts/fct_model_realised_performance",
    "marts/fct_silent_churn",
    "marts/fct_source_freshness",
    "marts/fct_survival_curves",
    "marts/fct_winback_candidates",
    "marts/fct_winback_reactivations",
    "outreach_drafts",
    "publish_outputs",
    "raw/accounts",
    "raw/alert_feedback",
    "raw/cancellations",
    "raw/nps_responses",
    "raw/outreach_outcomes",
    "raw/payments",
    "raw/subscriptions",
    "raw/support_tickets",
    "raw/usage_events",
    "raw/users",
    "reference/holiday_calendar",
    "score_list",
    "staging/stg_billing__cancellations",
    "staging/stg_billing__payments",
    "staging/stg_billing__subscriptions",
    "staging/stg_crm__account_snapshots",
    "staging/stg_crm__accounts",
    "staging/stg_cs__alert_feedback",
    "staging/stg_cs__outreach_outcomes",
    "staging/stg_product__usage_events",
    "staging/stg_product__users",
    "staging/stg_support__tickets",
    "staging/stg_surveys__nps_responses",
    "winback_list",
]
EXPECTED_GROUPS = {
    "raw": "ingest",
    "staging": "warehouse",
    "intermediate": "warehouse",
    "marts": "warehouse",
    "churn_model": "ml",
    "churn_scores": "ml",
    "churn_forecast": "ml",
    "reference": "warehouse",
    "alerts": "alerts",
    "alert_list": "outputs",
    "winback_list": "outputs",
    "score_list": "outputs",
    "outreach_drafts": "outputs",
    "cs_site": "outputs",
    "publish_outputs": "outputs",
}
# the dbt models that read the alerts engine's tables sit with it (tag after_alerts)
AFTER_ALERTS_MODELS = {
    "intermediate/int_alerts_evaluated", "marts/fct_alert_outcomes", "marts/fct_churners_alerted",
    "intermediate/int_scores_evaluated", "marts/fct_model_realised_performance",
    "marts/fct_model_realised_calibration",
}  # fmt: skip
RAW_SOURCES = (
    "accounts", "users", "subscriptions", "cancellations", "payments", "usage_events",
    "support_tickets", "nps_responses", "outreach_outcomes", "alert_feedback",
)  # fmt: skip
EXPECTED_BLOCKING_CHECKS = {
    *(f"raw/{source}:raw_{source}_suite" for source in RAW_SOURCES),
    *(f"raw/{source}:rows_reconcile" for source in RAW_SOURCES),
    "churn_model:backtest_above_floor",
    "churn_scores:scores_not_degenerate",
    "marts/fct_account_health:mart_fct_account_health_suite",
    "marts/fct_account_snapshots:mart_fct_account_snapshots_suite",
    "marts/fct_churn_monthly:mart_fct_churn_monthly_suite",
    "staging/stg_cs__alert_feedback:alert_feedback_reason_codes",
    "alerts/alert_history:one_open_alert_per_account",
}


def _check_names(defs) -> set[str]:
    graph = defs.resolve_asset_graph()
    return {f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys}


def test_definitions_load_with_the_pinned_asset_keys(defs):
    keys = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    assert keys == EXPECTED_ASSET_KEYS


def test_every_asset_sits_in_its_named_group(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        group = graph.get(key).group_name
        name = key.to_user_string()
        expected = "alerts" if name in AFTER_ALERTS_MODELS else EXPECTED_GROUPS[key.path[0]]
        assert group == expected, name


def test_the_nightly_job_and_schedule_are_pinned(defs):
    assert sorted(
        job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")
    ) == ["nightly_refresh"]
    schedule = defs.resolve_schedule_def("nightly_refresh_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "nightly_refresh"


def test_the_schedule_time_comes_from_the_config(tmp_path, monkeypatch):
    from orchestration.schedules import build_nightly_schedule

    config = tmp_path / "pipeline.yaml"
    config.write_text('schedule:\n  nightly_cron: "30 4 * * *"\n  timezone: "Europe/Berlin"\n')
    monkeypatch.setenv("CHURN_CONFIG", str(config))
    schedule = build_nightly_schedule()
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 4 * * *", "Europe/Berlin")


def test_quality_gates_are_blocking_checks_and_dbt_tests_are_checks(defs):
    names = _check_names(defs)
    assert names >= EXPECTED_BLOCKING_CHECKS
    graph = defs.resolve_asset_graph()
    blocking = {
        f"{k.asset_key.to_user_string()}:{k.name}"
        for k in graph.asset_check_keys
        if graph.get_check_spec(k).blocking
    }
    assert blocking >= EXPECTED_BLOCKING_CHECKS
    assert "churn_scores:feature_drift" in names - blocking  # drift only warns
    dbt_checks = {n for n in names if n.startswith(("staging/", "marts/", "intermediate/"))}
    assert "marts/fct_account_snapshots:assert_snapshot_features_precede_observation" in dbt_checks
    assert len(dbt_checks) >= 20


def test_dbt_sources_are_the_ingest_assets(defs):
    graph = defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_product__usage_events"]))
    assert dg.AssetKey(["raw", "usage_events"]) in staging.parent_keys
    calendar = graph.get(dg.AssetKey(["intermediate", "int_country_activity_days_listed"]))
    assert dg.AssetKey(["reference", "holiday_calendar"]) in calendar.parent_keys
    outcomes = graph.get(dg.AssetKey(["intermediate", "int_alerts_evaluated"]))
    assert dg.AssetKey(["alerts", "alert_history"]) in outcomes.parent_keys


def test_publishing_comes_after_every_other_asset(defs):
    """latest/ is published only when nothing upstream failed: every asset but the
    publishing one is upstream of it, so every blocking check stops it."""
    graph = defs.resolve_asset_graph()
    publish = dg.AssetKey("publish_outputs")
    upstream = graph.get_ancestor_asset_keys(publish)
    assert upstream == set(graph.get_all_asset_keys()) - {publish}


def test_dbt_project_defaults_match_the_pipeline_config():
    """An analyst's standalone `dbt build` must get the documented defaults."""
    from pathlib import Path

    import yaml

    from pipeline_config import dbt_vars
    from pipeline_config.loader import DEFAULTS_PATH

    project = yaml.safe_load(
        (Path(__file__).parents[1] / "dbt_project" / "dbt_project.yml").read_text()
    )
    defaults = yaml.safe_load(DEFAULTS_PATH.read_text())
    assert project["vars"] == dbt_vars(defaults)


def test_every_dbt_test_is_an_asset_check_the_ui_shows(defs):
    """A singular test reading two models is attached to the one its config names;
    none is left as a bare observation the UI hides."""
    import json

    from orchestration.dbt_project import churn_dbt_project

    manifest = json.loads(churn_dbt_project.manifest_path.read_text())
    tests = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert tests - checks == set()
    assert {"assert_active_users_within_users", "assert_mrr_movements_sum_to_change"} <= checks


def test_the_ui_code_location_loads_the_way_make_dev_loads_it(tmp_path):
    """`make dev` runs dagster with the development-mode preparation on (dagster-dbt then
    re-parses the project with `dbt` found on PATH) and the venv's bin first on PATH."""
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    makefile = (repo / "Makefile").read_text()
    dev_line = re.search(r"^dev:.*\n\t(.*)$", makefile, re.MULTILINE).group(1)
    assert dev_line.startswith(
        'PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml'
    )
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}:/usr/bin:/bin",  # as the Makefile sets it, nothing else
        "DAGSTER_IS_DEV_CLI": "1",  # what `dagster dev` sets for the code server
        "DAGSTER_HOME": str(tmp_path),
    }
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run(
        [str(venv_bin / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "All code locations passed validation" in done.stderr + done.stdout
