"""Asset checks that gate the run. Every check here but ``feature_drift`` (a warning) is
blocking: when one fails, downstream assets in the same run are not materialised, and
the failure's metadata names the table, the rule, the failing count and a sample."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from alerts.engine import feedback_problems
from alerts.lifecycle import OPEN
from alerts.store import LIVE_SCHEMA
from expectations.check_result import to_asset_check_result
from expectations.marts import (
    MART_SUITES,
    MartSuite,
    mart_frame,
    previous_row_count,
    record_row_count,
    suite_parameters,
)
from expectations.raw_tables import contract_expectations, raw_table_frame
from expectations.validate import run_suite
from ingest import SOURCES, SourceContract
from ingest.ledger import RECONCILE_RULE, reconcile
from ml.artifacts import champion_card
from ml.drift import population_stability
from ml.features import read_snapshots
from ml.score import SCORES_TABLE
from orchestration.assets.alerts import ALERT_HISTORY, FEEDBACK
from orchestration.assets.ingest import RAW_ACCOUNTS
from orchestration.assets.model import churn_model, churn_scores
from orchestration.assets.warehouse import warehouse_dbt_models
from orchestration.resources import PipelineResource, WarehouseResource


def build_raw_suite_check(contract: SourceContract) -> dg.AssetChecksDefinition:
    extra_deps = [RAW_ACCOUNTS] if contract.name == "subscriptions" else []

    @dg.asset_check(
        asset=dg.AssetKey(["raw", contract.name]),
        blocking=True,
        name=f"raw_{contract.name}_suite",
        additional_deps=extra_deps,
        description=f"Great Expectations suite raw_{contract.name}: the contract's schema, "
        "required values, key and ranges, plus the suite file's accepted values, "
        "references, freshness and volume rules.",
    )
    def _suite(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            frame, parameters = raw_table_frame(con, contract, pipeline.config())
        outcome = run_suite(
            frame,
            f"raw_{contract.name}",
            f"raw.{contract.name}",
            parameters,
            contract_expectations(contract),
        )
        return to_asset_check_result(outcome)

    return _suite


def build_mart_suite_check(mart: MartSuite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=get_asset_key_for_model([warehouse_dbt_models], mart.model),
        blocking=True,
        name=f"{mart.suite}_suite",
        description=f"Great Expectations suite {mart.suite} on {mart.table}: grain, ranges, "
        "distribution and row count vs the previous passing run. Warning-level rules "
        "report without blocking.",
    )
    def _suite(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            previous = previous_row_count(con, mart)
            frame = mart_frame(con, mart)
            outcome = run_suite(
                frame,
                mart.suite,
                mart.table,
                suite_parameters(pipeline.config(), previous),
                key_columns=list(mart.key),
            )
            if not outcome.blocking:
                record_row_count(con, mart, len(frame))
        return to_asset_check_result(outcome, {"previous_passing_rows": previous or 0})

    return _suite


def build_reconciliation_check(source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["raw", source]), blocking=True, name="rows_reconcile")
    def _reconcile(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        """Per file: rows read = loaded + quarantined + de-duplicated, the quarantine
        holds the quarantined rows, and the raw table holds exactly the rows the ledger
        says were loaded (nothing lost, nothing counted twice)."""
        with warehouse.connect(read_only=True) as con:
            result = reconcile(con, source)
        broken, files = result.broken, result.files_checked
        return dg.AssetCheckResult(
            passed=not broken,
            description=(
                f"raw.{source}: {len(broken)} of {files} files do not reconcile"
                if broken
                else f"raw.{source}: all {files} loaded files reconcile"
            ),
            metadata={
                "table": f"raw.{source}",
                "rule": RECONCILE_RULE,
                "threshold": "0 files out of balance",
                "files_checked": files,
                "failing_files": len(broken),
                "sample": dg.MetadataValue.json([list(map(str, row)) for row in broken[:5]]),
            },
        )

    return _reconcile


@dg.asset_check(asset=churn_model, blocking=True, name="backtest_above_floor")
def backtest_above_floor(pipeline: PipelineResource) -> dg.AssetCheckResult:
    """The champion's time-ordered backtest AUC must reach the configured floor: it is the
    model tonight's scores would come from."""
    floor = pipeline.config()["model"]["min_backtest_auc"]
    card = champion_card(pipeline.paths().models)
    if card is None:
        return dg.AssetCheckResult(
            passed=False, description="no champion model", metadata={"threshold": floor}
        )
    auc = card["metrics"]["roc_auc"]
    return dg.AssetCheckResult(
        passed=auc >= floor,
        description=f"backtest ROC AUC {auc:.3f} vs floor {floor:.2f}",
        metadata={"roc_auc": auc, "threshold": floor, "model_version": card["version"]},
    )


@dg.asset_check(asset=churn_scores, blocking=True, name="scores_not_degenerate")
def scores_not_degenerate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Tonight's scores must be valid probabilities that actually rank accounts."""
    with warehouse.connect(read_only=True) as con:
        rows, invalid, distinct, spread = con.execute(
            f"""select count(*),
                   count(*) filter (where not (churn_probability between 0 and 1)
                                    or isnan(churn_probability)),
                   count(distinct churn_probability),
                   coalesce(stddev_pop(churn_probability), 0)
                from {SCORES_TABLE}
                where as_of_date = (select max(as_of_date) from {SCORES_TABLE})"""
        ).fetchone()
    passed = rows > 0 and invalid == 0 and distinct > 1 and spread > 0
    return dg.AssetCheckResult(
        passed=passed,
        description=(f"{rows} scores, {invalid} outside [0, 1] or NaN, {distinct} distinct values"),
        metadata={
            "table": SCORES_TABLE,
            "rows": rows,
            "invalid": invalid,
            "distinct_values": distinct,
            "stddev": float(spread),
            "threshold": "rows > 0, invalid = 0, distinct values > 1",
        },
    )


@dg.asset_check(asset=churn_scores, blocking=False, name="feature_drift")
def feature_drift(warehouse: WarehouseResource, pipeline: PipelineResource) -> dg.AssetCheckResult:
    """Warn when tonight's scoring rows are distributed unlike the champion's training rows
    (population stability index per feature, against the bins saved in its card)."""
    threshold = pipeline.config()["model"]["drift_psi_warning"]
    card = champion_card(pipeline.paths().models)
    with warehouse.connect(read_only=True) as con:
        psi = population_stability(card["drift_reference"], read_snapshots(con, scoring_only=True))
    drifted = {feature: value for feature, value in psi.items() if value > threshold}
    return dg.AssetCheckResult(
        passed=not drifted,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(drifted)} of {len(psi)} features drifted beyond PSI {threshold}"
            + (f": {', '.join(list(drifted)[:5])}" if drifted else "")
        ),
        metadata={
            "table": "marts.fct_account_snapshots (scoring rows)",
            "rule": "population stability index vs the champion's training rows",
            "threshold": threshold,
            "failing_count": len(drifted),
            "psi": dg.MetadataValue.json(psi),
            "model_version": card["version"],
        },
    )


@dg.asset_check(asset=FEEDBACK, blocking=True, name="alert_feedback_reason_codes")
def alert_feedback_reason_codes(
    warehouse: WarehouseResource, pipeline: PipelineResource
) -> dg.AssetCheckResult:
    """Every dismissal carries a reason code from alerts.feedback.reason_codes: dismissals
    close alerts and feed threshold calibration, so an unknown code stops the run rather
    than being dropped."""
    codes = pipeline.config()["alerts"]["feedback"]["reason_codes"]
    with warehouse.connect(read_only=True) as con:
        bad = feedback_problems(con, codes)
    files = sorted(bad["source_file"].dropna().unique())
    return dg.AssetCheckResult(
        passed=bad.empty,
        description=(
            "raw.alert_feedback: every dismissal has a configured reason code"
            if bad.empty
            else f"raw.alert_feedback column reason_code: {len(bad)} dismissal(s) with a code "
            f"not in alerts.feedback.reason_codes (files: {', '.join(files)})"
        ),
        metadata={
            "table": "raw.alert_feedback (staging.stg_cs__alert_feedback)",
            "column": "reason_code",
            "rule": "action = 'dismissed' needs a reason code from the configured list",
            "threshold": dg.MetadataValue.json(codes),
            "failing_count": len(bad),
            "files": dg.MetadataValue.json(files),
            "sample": dg.MetadataValue.json(
                bad.head(5)[["feedback_id", "alert_id", "reason_code"]]
                .astype(str)
                .to_dict("records")
            ),
        },
    )


@dg.asset_check(asset=ALERT_HISTORY, blocking=True, name="one_open_alert_per_account")
def one_open_alert_per_account(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Tonight, no account has two open alerts (so none has two of the same type): the
    lifecycle updates an alert across nights instead of raising it again."""
    with warehouse.connect(read_only=True) as con:
        duplicated = con.execute(
            f"""select account_id, count(*) as open_alerts
                from {LIVE_SCHEMA}.alert_history
                where night = (select max(night) from {LIVE_SCHEMA}.night_runs)
                  and status in (select unnest(?::varchar[]))
                group by account_id having count(*) > 1
                order by account_id""",
            [list(OPEN)],
        ).df()
    return dg.AssetCheckResult(
        passed=duplicated.empty,
        description=f"{LIVE_SCHEMA}.alert_history: {len(duplicated)} account(s) with more than "
        "one open alert tonight",
        metadata={
            "table": f"{LIVE_SCHEMA}.alert_history",
            "rule": "at most one open alert per account per night",
            "threshold": "0 accounts",
            "failing_count": len(duplicated),
            "sample": dg.MetadataValue.json(duplicated.head(5).astype(str).to_dict("records")),
        },
    )


asset_checks = [
    *(build_raw_suite_check(contract) for contract in SOURCES.values()),
    *(build_reconciliation_check(source) for source in SOURCES),
    *(build_mart_suite_check(mart) for mart in MART_SUITES),
    backtest_above_floor,
    scores_not_degenerate,
    feature_drift,
    alert_feedback_reason_codes,
    one_open_alert_per_account,
]
