"""Great Expectations 1.x suites for the warehouse, and how their results are reported.

``validate.run_suite`` runs a stored suite on an account-level DataFrame (no Dagster);
``check_result.to_asset_check_result`` is the one bridge to a Dagster asset check.
"""
