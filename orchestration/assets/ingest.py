"""Ingest assets: one per source, loading new landing-zone files into ``raw.<source>``."""

import dagster as dg

from ingest import SOURCES, FileLoad, IngestRules, SourceContract, load_new_files
from ingest.ledger import quarantined_by_rule
from orchestration.resources import PipelineResource, WarehouseResource

RAW_ACCOUNTS = dg.AssetKey(["raw", "accounts"])


def _files_table(loads: list[FileLoad]) -> str:
    lines = [
        "| file | status | read | loaded | quarantined | de-duplicated | note |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for x in loads:
        lines.append(
            f"| {x.file_path.rsplit('/', 1)[-1]} | {x.status} | {x.rows_read} | {x.rows_loaded} "
            f"| {x.rows_quarantined} | {x.rows_deduplicated} | {x.message or ''} |"
        )
    return "\n".join(lines)


def build_ingest_asset(contract: SourceContract) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", contract.name],
        group_name="ingest",
        kinds={"duckdb"},
        # account ids are checked against the CRM, so the CRM loads first
        deps=[] if contract.name == "accounts" else [RAW_ACCOUNTS],
        description=(
            f"{contract.description} Loads new files from <landing>/{contract.folder}/ into "
            f"raw.{contract.name}; bad rows go to raw._quarantine, every file to raw._load_ledger."
            + ("" if contract.required_source else " Optional source: may have no files.")
        ),
    )
    def _ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineResource
    ) -> dg.MaterializeResult:
        rules = IngestRules.from_config(pipeline.config()["ingest"])
        with warehouse.connect() as con:
            loads = load_new_files(con, contract, pipeline.paths().landing, rules)
            table_rows = con.execute(f"select count(*) from raw.{contract.name}").fetchone()[0]
            by_rule = quarantined_by_rule(con, contract.name)
        for load in loads:
            context.log.info(
                f"{load.file_path}: {load.status}, read {load.rows_read}, loaded {load.rows_loaded}, "
                f"quarantined {load.rows_quarantined}, de-duplicated {load.rows_deduplicated}"
            )
        loaded = [x for x in loads if x.status == "loaded"]
        return dg.MaterializeResult(
            metadata={
                "new_files": len(loaded),
                "duplicate_files_skipped": len(loads) - len(loaded),
                "rows_read": sum(x.rows_read for x in loads),
                "rows_loaded": sum(x.rows_loaded for x in loads),
                "rows_quarantined": sum(x.rows_quarantined for x in loads),
                "rows_deduplicated": sum(x.rows_deduplicated for x in loads),
                "table_rows": table_rows,
                "quarantined_by_rule_all_time": dg.MetadataValue.json(by_rule),
                "files": dg.MetadataValue.md(_files_table(loads)) if loads else "no new files",
                "max_reject_rate": rules.max_reject_rate,
            }
        )

    return _ingest


ingest_assets = [build_ingest_asset(contract) for contract in SOURCES.values()]
