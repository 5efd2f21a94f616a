"""The dbt project, in its own module so ``dagster-dbt project`` commands can import it."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

churn_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` this re-parses the project so edits show up; elsewhere
# (tests, CI, scheduled runs) `make manifest` builds target/manifest.json first.
churn_dbt_project.prepare_if_dev()
