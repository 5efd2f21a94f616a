"""Render HTML pages with jinja2, autoescape always on (account names are user data)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)


def render_alert_page(alerts: pd.DataFrame, winback: pd.DataFrame, summary: dict[str, Any]) -> str:
    template = _ENV.get_template("alerts.html.j2")
    return template.render(
        alerts=alerts.to_dict(orient="records"),
        winback=winback.to_dict(orient="records"),
        summary=summary,
    )
