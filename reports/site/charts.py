"""The site's charts: Vega-Lite specs (built with altair) rendered to SVG by vl-convert,
offline, with no browser and no CDN; the SVG goes inline into the page.

Why Vega-Lite: one declarative spec per chart, legends and axes handled by a
well-kept library, and the output is text (SVG) that needs no script to display.
Colours follow the severity and health-band palettes the tables use.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import altair as alt
import pandas as pd
import vl_convert
from markupsafe import Markup

SEVERITY_COLOURS = {"critical": "#b91c1c", "high": "#ea580c", "medium": "#ca8a04", "low": "#0284c7"}
BAND_COLOURS = {"green": "#15803d", "yellow": "#ca8a04", "red": "#b91c1c"}
WIDTH = 560
PARALLEL_MIN_CHARTS = 16  # fewer than two chunks: worker start-up costs more than it saves


def _figure(svg: str, label: str) -> Markup:
    """SVG in a figure whose accessible name (``label``) a screen reader announces
    instead of the drawing. vl-convert writes the SVG itself: data values in it are
    escaped as XML text."""
    return Markup('<figure class="chart" role="img" aria-label="{}">{}</figure>').format(
        label, Markup(svg)
    )


def _svg(chart: alt.TopLevelMixin, label: str) -> Markup:
    """Render one chart (the site-wide pages) to SVG that scales to its container."""
    spec = chart.configure_view(stroke=None).to_dict(validate=False)
    return _figure(vl_convert.vegalite_to_svg(spec), label)


def _band_scale() -> alt.Scale:
    return alt.Scale(domain=list(BAND_COLOURS), range=list(BAND_COLOURS.values()))


USAGE_SERIES = {
    "logins": "This account",
    "own_baseline_logins": "Its own 13-week baseline",
    "cohort_median_logins": "Cohort median (segment x plan)",
}
ACCOUNT_CHART_LABEL = (
    "Weekly logins against the account's own baseline and its cohort; health score history "
    "with the green and yellow band thresholds"
)


@functools.cache
def _account_template(green: float, yellow: float) -> str:
    """The account chart's Vega-Lite spec with named, empty data sets ("weeks",
    "health"), built once: each page only fills the data in (see account_spec)."""
    series = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(
            domain=list(USAGE_SERIES.values()), range=["#1d4ed8", "#6b7280", "#a855f7"]
        ),
        legend=alt.Legend(orient="bottom"),
    )
    usage = (
        alt.Chart(alt.NamedData("weeks"), title="Logins per week")
        .transform_fold(list(USAGE_SERIES), as_=["key", "value"])
        .transform_filter("isValid(datum.value)")
        .transform_calculate(series=f"{json.dumps(USAGE_SERIES)}[datum.key]")
        .mark_line(point=alt.OverlayMarkDef(size=16))
        .encode(
            x=alt.X("week_start:T", title=None),
            y=alt.Y("value:Q", title="Logins"),
            color=series,
            strokeDash=alt.StrokeDash(
                "series:N",
                legend=None,
                scale=alt.Scale(domain=list(USAGE_SERIES.values()), range=[[1, 0], [6, 3], [2, 2]]),
            ),
        )
        .properties(width=WIDTH, height=170)
    )
    health_line = (
        alt.Chart(alt.NamedData("health"), title="Health score")
        .mark_line(color="#1f2937", point=alt.OverlayMarkDef(size=12, color="#1f2937"))
        .encode(
            x=alt.X("observation_date:T", title=None),
            y=alt.Y("health_score:Q", title="Score", scale=alt.Scale(domain=[0, 100])),
        )
    )
    thresholds = (
        alt.Chart(pd.DataFrame({"score": [green, yellow], "band": ["green", "yellow"]}))
        .mark_rule(strokeDash=[4, 4])
        .encode(y="score:Q", color=alt.Color("band:N", scale=_band_scale(), legend=None))
    )
    chart = alt.vconcat(usage, (health_line + thresholds).properties(width=WIDTH, height=120))
    chart = chart.resolve_scale(color="independent").configure_view(stroke=None)
    return json.dumps(chart.to_dict(validate=False))


def account_spec(
    weeks: list[dict[str, Any]], health: list[dict[str, Any]], bands: dict[str, float]
) -> dict[str, Any]:
    """The account page's chart (usage trend over health history) for one account's rows
    (dates as ISO strings)."""
    spec = json.loads(_account_template(float(bands["green"]), float(bands["yellow"])))
    spec.setdefault("datasets", {}).update({"weeks": weeks, "health": health})
    return spec


def render_svgs(specs: list[dict[str, Any]], label: str, workers: int) -> list[Markup]:
    """Render many specs: vl-convert takes ~50-90 ms a chart whatever its size and holds
    one core, so the account pages' charts are spread over worker processes."""
    if workers <= 1 or len(specs) < 2 * PARALLEL_MIN_CHARTS:
        svgs = [vl_convert.vegalite_to_svg(spec) for spec in specs]
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            svgs = list(pool.map(vl_convert.vegalite_to_svg, specs, chunksize=16))
    return [_figure(svg, label) for svg in svgs]


def alert_volume(volume: pd.DataFrame) -> Markup | None:
    """Alerts opened per night, stacked by severity."""
    if volume.empty:
        return None
    frame = volume.groupby(["night", "severity"], as_index=False)["alerts_opened"].sum()
    frame["night"] = pd.to_datetime(frame["night"]).dt.strftime("%Y-%m-%d")
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("night:O", title="Night"),
            y=alt.Y("alerts_opened:Q", title="Alerts opened"),
            color=_severity_colour(),
            order=alt.Order("severity_rank:Q"),
        )
        .transform_calculate(
            severity_rank="indexof(['critical','high','medium','low'], datum.severity)"
        )
        .properties(width=WIDTH, height=180)
    )
    return _svg(chart, "Alerts opened per night by severity")


def open_alerts_by_type(alerts: pd.DataFrame) -> Markup | None:
    """Tonight's open alerts per primary type, stacked by severity."""
    if alerts.empty:
        return None
    frame = alerts.groupby(["primary_type", "severity"], as_index=False).size()
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("primary_type:N", title=None, sort="-x"),
            x=alt.X("size:Q", title="Open alerts"),
            color=_severity_colour(),
        )
        .properties(width=WIDTH - 160, height=alt.Step(18))
    )
    return _svg(chart, "Open alerts by type and severity")


def health_bands_over_time(bands: pd.DataFrame) -> Markup | None:
    """Share of accounts per health band on each month start."""
    if bands.empty:
        return None
    frame = bands.assign(observation_date=pd.to_datetime(bands["observation_date"]))
    chart = (
        alt.Chart(frame)
        .mark_area()
        .encode(
            x=alt.X("observation_date:T", title="Month"),
            y=alt.Y(
                "accounts:Q",
                stack="normalize",
                title="Share of accounts",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("health_band:N", title="Health band", scale=_band_scale()),
        )
        .properties(width=WIDTH, height=160)
    )
    return _svg(chart, "Health band distribution per month")


def revenue_retention(retention: pd.DataFrame) -> Markup | None:
    """Monthly gross and net revenue retention over the last two years."""
    if retention.empty:
        return None
    frame = (
        retention.tail(24)
        .melt(
            id_vars="month_start",
            value_vars=["gross_revenue_retention", "net_revenue_retention"],
            var_name="measure",
        )
        .dropna()
    )
    frame["measure"] = frame["measure"].map(
        {"gross_revenue_retention": "GRR", "net_revenue_retention": "NRR"}
    )
    frame["month_start"] = pd.to_datetime(frame["month_start"])
    chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("month_start:T", title="Month"),
            y=alt.Y(
                "value:Q",
                title="Monthly retention",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(zero=False),
            ),
            color=alt.Color("measure:N", title=None, legend=alt.Legend(orient="bottom")),
        )
        .properties(width=WIDTH, height=170)
    )
    return _svg(chart, "Monthly gross and net revenue retention")


def cohort_heatmap(cohorts: pd.DataFrame, months: int = 12) -> Markup | None:
    """Logo retention of the last two years' signup-month cohorts, by months since signup."""
    newest = pd.to_datetime(cohorts["cohort_month"]).max()
    frame = cohorts[
        (cohorts["months_since_signup"] <= months)
        & (pd.to_datetime(cohorts["cohort_month"]) > newest - pd.DateOffset(months=24))
    ].copy()
    if frame.empty:
        return None
    frame["cohort"] = pd.to_datetime(frame["cohort_month"]).dt.strftime("%Y-%m")
    frame["label"] = (frame["logo_retention"] * 100).round().astype("Int64").astype(str)
    base = alt.Chart(frame).encode(
        x=alt.X("months_since_signup:O", title="Months since signup"),
        y=alt.Y("cohort:O", title="Signup cohort", sort="descending"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "logo_retention:Q",
            title="Logo retention",
            scale=alt.Scale(scheme="blues", domain=[0.5, 1]),
            legend=alt.Legend(format="%"),
        )
    )
    text = base.mark_text(fontSize=9).encode(
        text="label:N",
        color=alt.condition("datum.logo_retention > 0.8", alt.value("white"), alt.value("black")),
    )
    chart = (cells + text).properties(width=WIDTH - 80, height=alt.Step(16))
    return _svg(chart, "Cohort logo retention heatmap")


def survival(curves: pd.DataFrame) -> Markup | None:
    """Survival probability by tenure month, one line per segment (and all accounts)."""
    if curves.empty:
        return None
    chart = (
        alt.Chart(curves)
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("tenure_month:Q", title="Months of tenure"),
            y=alt.Y(
                "survival_probability:Q",
                title="Still a customer",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(zero=False),
            ),
            color=alt.Color("segment:N", title="Segment", legend=alt.Legend(orient="bottom")),
        )
        .properties(width=WIDTH, height=170)
    )
    return _svg(chart, "Survival curves by segment")


def _severity_colour() -> Any:
    return alt.Color(
        "severity:N",
        title="Severity",
        scale=alt.Scale(domain=list(SEVERITY_COLOURS), range=list(SEVERITY_COLOURS.values())),
        legend=alt.Legend(orient="bottom"),
    )
