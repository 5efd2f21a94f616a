"""Ingest assets: one per source, loading new landing-zone files into ``raw.<source>``."""

import dagster as dg

from ingest import SOURCES, SourceContract, load_new_files
from orchestration.resources import PipelineResource, WarehouseResource


def build_ingest_asset(contract: SourceContract) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", contract.name],
        group_name="ingest",
        kinds={"duckdb"},
        pool="warehouse",
        description=(
            f"Loads new files from <landing>/{contract.folder}/{contract.pattern} into "
            f"raw.{contract.name}; bad rows go to raw._quarantine, every file to raw._load_ledger."
        ),
    )
    def _ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, pipeline: PipelineResource
    ) -> dg.MaterializeResult:
        config = pipeline.config()
        with warehouse.connect() as con:
            loads = load_new_files(
                con, contract, pipeline.paths().landing, config["ingest"]["max_reject_rate"]
            )
            table_rows = con.execute(f"select count(*) from raw.{contract.name}").fetchone()[0]
        for load in loads:
            context.log.info(f"{load.file_path}: {load.status}, {load.rows_loaded} rows loaded")
        return dg.MaterializeResult(
            metadata={
                "new_files": len([x for x in loads if x.status == "loaded"]),
                "duplicate_files_skipped": len([x for x in loads if x.status != "loaded"]),
                "rows_read": sum(x.rows_read for x in loads),
                "rows_loaded": sum(x.rows_loaded for x in loads),
                "rows_quarantined": sum(x.rows_quarantined for x in loads),
                "table_rows": table_rows,
                "max_reject_rate": config["ingest"]["max_reject_rate"],
            }
        )

    return _ingest


ingest_assets = [build_ingest_asset(contract) for contract in SOURCES.values()]
