"""Assets by group: ingest, warehouse (dbt), ml, outputs."""
