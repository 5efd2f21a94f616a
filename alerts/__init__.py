"""The early-warning alerts engine (DOMAIN.md §3-§7, docs/alerts.md).

Rules read one row per account per night (``marts.fct_account_alert_signals``: all
event- and day-grain work is dbt's), decide which conditions hold and for how long,
turn them into alerts whose severity depends on the pattern and the account, and keep
each alert's lifecycle, deliveries and history in warehouse tables (``alerts.*``).
Everything is importable and testable without Dagster; the assets call ``engine``.
"""
