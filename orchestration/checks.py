"""Asset checks that gate the run. Every check here is blocking: when one fails,
downstream assets in the same run are not materialised, and the failure's metadata
names the table, the rule, the failing count and a sample."""

import dagster as dg

from expectations.check_result import to_asset_check_result
from expectations.validate import run_suite
from ingest import SOURCES
from ml.artifacts import load_model
from ml.score import SCORES_TABLE
from orchestration.assets.model import churn_model, churn_scores
from orchestration.resources import PipelineResource, WarehouseResource

RAW_ACCOUNTS = dg.AssetKey(["raw", "accounts"])
RAW_SUBSCRIPTIONS = dg.AssetKey(["raw", "subscriptions"])


@dg.asset_check(asset=RAW_ACCOUNTS, blocking=True, name="raw_accounts_suite")
def raw_accounts_suite(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Great Expectations suite raw_accounts: keys, segments, terms, MRR and seat ranges."""
    with warehouse.connect(read_only=True) as con:
        frame = con.execute("select * from raw.accounts").df()
    return to_asset_check_result(run_suite(frame, "raw_accounts", "raw.accounts"))


@dg.asset_check(
    asset=RAW_SUBSCRIPTIONS,
    blocking=True,
    name="raw_subscriptions_suite",
    additional_deps=[RAW_ACCOUNTS],
)
def raw_subscriptions_suite(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Great Expectations suite raw_subscriptions, including every account being known."""
    with warehouse.connect(read_only=True) as con:
        frame = con.execute("select * from raw.subscriptions").df()
        known = [
            r[0] for r in con.execute("select distinct account_id from raw.accounts").fetchall()
        ]
    outcome = run_suite(
        frame, "raw_subscriptions", "raw.subscriptions", {"known_account_ids": known}
    )
    return to_asset_check_result(outcome)


def build_reconciliation_check(source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["raw", source]), blocking=True, name="rows_reconcile")
    def _reconcile(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        """Per file: rows read = loaded + quarantined, and the raw table holds exactly
        the rows the ledger says were loaded (nothing lost, nothing counted twice)."""
        with warehouse.connect(read_only=True) as con:
            broken = con.execute(
                f"""
                with in_table as (
                    select _source_file as file_path, count(*) as rows_in_table
                    from raw.{source} group by _source_file
                )
                select l.file_path, l.rows_read, l.rows_loaded, l.rows_quarantined,
                       coalesce(t.rows_in_table, 0) as rows_in_table
                from raw._load_ledger l
                left join in_table t using (file_path)
                where l.source = ? and l.status = 'loaded'
                  and (l.rows_read <> l.rows_loaded + l.rows_quarantined
                       or coalesce(t.rows_in_table, 0) <> l.rows_loaded)
                """,
                [source],
            ).fetchall()
            files = con.execute(
                "select count(*) from raw._load_ledger where source = ? and status = 'loaded'",
                [source],
            ).fetchone()[0]
        return dg.AssetCheckResult(
            passed=not broken,
            description=(
                f"raw.{source}: {len(broken)} of {files} files do not reconcile"
                if broken
                else f"raw.{source}: all {files} loaded files reconcile"
            ),
            metadata={
                "table": f"raw.{source}",
                "rule": "rows_read = rows_loaded + rows_quarantined = rows in table, per file",
                "files_checked": files,
                "failing_files": len(broken),
                "sample": dg.MetadataValue.json([list(map(str, row)) for row in broken[:5]]),
            },
        )

    return _reconcile


@dg.asset_check(asset=churn_model, blocking=True, name="backtest_above_floor")
def backtest_above_floor(pipeline: PipelineResource) -> dg.AssetCheckResult:
    """The new model's time-ordered backtest AUC must reach the configured floor."""
    floor = pipeline.config()["model"]["min_backtest_auc"]
    _, card = load_model(pipeline.paths().models)
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


asset_checks = [
    raw_accounts_suite,
    raw_subscriptions_suite,
    *(build_reconciliation_check(source) for source in SOURCES),
    backtest_above_floor,
    scores_not_degenerate,
]
