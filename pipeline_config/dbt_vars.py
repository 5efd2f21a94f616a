"""The slice of the pipeline config that dbt reads, passed as ``dbt build --vars``.

dbt_project.yml holds the same defaults so that analysts running dbt by hand get the
documented behaviour; the pipeline always passes the configured values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dbt_vars(config: Mapping[str, Any], alert_nights_from: str | None = None) -> dict[str, Any]:
    """The vars of a run. ``alert_nights_from`` (an ISO date) asks for daily alert nights
    from that date on, beside the usual lookback: what a replay of past nights needs."""
    model = config["model"]
    return {
        "event_roles": config["event_roles"],
        "accounts": config["accounts"],
        "event_features": config["event_features"],
        "observation_dates": model["observation_dates"],
        "days_before_renewal": model["days_before_renewal"],
        "horizon_days": model["horizon_days"],
        "lead_days": model["lead_days"],
        "min_tenure_days": model["min_tenure_days"],
        "realised_performance": model["realised_performance"],
        "resign_gap_days": config["churn"]["resign_gap_days"],
        "metrics": config["metrics"],
        "health": config["health"],
        "alerts": {
            "lookback_nights": config["alerts"]["lookback_nights"],
            "nights_from": alert_nights_from,
            "horizon_days": config["alerts"]["horizon_days"],
            "reason_codes": config["alerts"]["feedback"]["reason_codes"],
            "seasonality": config["alerts"]["seasonality"],
        },
        "winback": _winback_vars(config["winback"]),
        "as_of_date": _iso(config["run"].get("as_of_date")),
    }


def _iso(day: Any) -> str | None:
    """A date as ISO text (YAML parses an unquoted date; --vars as JSON cannot carry it)."""
    return None if day is None else str(day)


def _winback_vars(winback: Mapping[str, Any]) -> dict[str, Any]:
    """The whole winback section; product-update dates as ISO text (YAML may parse an
    unquoted date, which --vars as JSON cannot carry)."""
    return {
        **winback,
        "product_updates": [
            {**update, "shipped_on": str(update["shipped_on"])}
            for update in winback["product_updates"]
        ],
    }
