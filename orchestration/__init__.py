"""Dagster glue: assets, checks, resources, jobs and schedules. Logic lives elsewhere."""
