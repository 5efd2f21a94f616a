"""The alert checks pass on the nightly run and fail, naming what is wrong, on bad data:
a dismissal with an unknown reason code, and an account with two open alerts."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest
from conftest import make_pipeline_dirs, point_pipeline_at

from alerts.engine import source_status

FEEDBACK_CHECK = dg.AssetCheckKey(
    dg.AssetKey(["staging", "stg_cs__alert_feedback"]), "alert_feedback_reason_codes"
)
OPEN_ALERTS_CHECK = dg.AssetCheckKey(
    dg.AssetKey(["alerts", "alert_history"]), "one_open_alert_per_account"
)


def _run_check(
    defs, demo_dirs, tmp_path_factory, test_config, key, spoil
) -> dg.AssetCheckEvaluation:
    """Run one check on a copy of the session's warehouse after ``spoil(con)``."""
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("alert_check"))
    dirs.warehouse.parent.mkdir(parents=True)
    shutil.copy(demo_dirs.warehouse, dirs.warehouse)
    with duckdb.connect(str(dirs.warehouse)) as con:
        spoil(con)
    job = dg.define_asset_job(f"check_{key.name}", selection=dg.AssetSelection.checks(key))
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, test_config)
        result = (
            dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
            .resolve_job_def(job.name)
            .execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
        )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_the_alert_checks_pass_on_the_nightly_run(nightly_run):
    passed = {
        e.check_name: e.passed
        for e in nightly_run.get_asset_check_evaluations()
        if e.check_name in (FEEDBACK_CHECK.name, OPEN_ALERTS_CHECK.name)
    }
    assert passed == {FEEDBACK_CHECK.name: True, OPEN_ALERTS_CHECK.name: True}


def test_a_dismissal_with_an_unknown_reason_code_fails_naming_the_file(
    nightly_run, defs, demo_dirs, tmp_path_factory, test_config
):
    def spoil(con):
        account = con.execute("select min(account_id) from raw.accounts").fetchone()[0]
        con.execute(
            "insert into raw.alert_feedback (feedback_id, account_id, action, submitted_at, "
            "alert_id, reason_code, _source_file, _source_row, _loaded_at) values "
            "('F-bad', ?, 'dismissed', timestamp '2026-10-30 10:00', 'AL-x', 'too busy', "
            "'alert_feedback_2026-10-30.csv', 1, now())",
            [account],
        )

    evaluation = _run_check(defs, demo_dirs, tmp_path_factory, test_config, FEEDBACK_CHECK, spoil)
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "column reason_code: 1 dismissal" in evaluation.description
    assert "alert_feedback_2026-10-30.csv" in evaluation.description
    assert evaluation.metadata["failing_count"].value == 1


def test_two_open_alerts_for_one_account_fail_the_lifecycle_check(
    nightly_run, defs, demo_dirs, tmp_path_factory, test_config
):
    def spoil(con):
        con.execute(
            """insert into alerts.alert_history
               select * replace (alert_id || '-twin' as alert_id) from (
                   select * from alerts.alert_history
                   where night = (select max(night) from alerts.night_runs)
                     and status in ('new', 'open', 'escalated')
                   order by alert_id limit 2
               )"""
        )

    evaluation = _run_check(
        defs, demo_dirs, tmp_path_factory, test_config, OPEN_ALERTS_CHECK, spoil
    )
    assert not evaluation.passed
    assert evaluation.metadata["failing_count"].value == 2


def test_a_source_whose_checks_failed_counts_as_stale():
    freshness = pd.DataFrame(
        {
            "night": [pd.Timestamp("2026-11-01")] * 2,
            "source_name": ["usage_events", "support_tickets"],
            "newest_record_date": [pd.Timestamp("2026-10-31")] * 2,
            "days_since_newest_record": [1, 1],
        }
    )
    status = source_status(
        freshness, {"usage_events": 3, "support_tickets": 14}, ["support_tickets"]
    )
    stale = status.set_index("source_name")["is_stale"]
    assert not stale["usage_events"] and stale["support_tickets"]
    assert "checks failed" in status.set_index("source_name").loc["support_tickets", "reason"]
