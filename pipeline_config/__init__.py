"""The pipeline's one configuration and the locations it reads and writes.

Defaults live in ``defaults.yaml`` beside this file (the numbers from DOMAIN.md).
Users override them with their own YAML file named by ``CHURN_CONFIG``; it is
deep-merged over the defaults so a one-line file changing one threshold works.
"""

from pipeline_config.dbt_vars import dbt_vars
from pipeline_config.loader import accepted_account_values, load_config, with_as_of
from pipeline_config.paths import PipelinePaths, resolve_paths, warehouse_settings

__all__ = [
    "PipelinePaths",
    "accepted_account_values",
    "dbt_vars",
    "load_config",
    "resolve_paths",
    "warehouse_settings",
    "with_as_of",
]
