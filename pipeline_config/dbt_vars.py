"""The slice of the pipeline config that dbt reads, passed as ``dbt build --vars``.

dbt_project.yml holds the same defaults so that analysts running dbt by hand get the
documented behaviour; the pipeline always passes the configured values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dbt_vars(config: Mapping[str, Any]) -> dict[str, Any]:
    model = config["model"]
    return {
        "event_roles": config["event_roles"],
        "horizon_days": model["horizon_days"],
        "lead_days": model["lead_days"],
        "min_tenure_days": model["min_tenure_days"],
        "resign_gap_days": config["churn"]["resign_gap_days"],
        "metrics": config["metrics"],
        "health": config["health"],
    }
