"""The holiday calendar the usage rules discount: expected dips are not risk (DOMAIN.md §7).

Public holidays come from the ``holidays`` package for each country the CRM names (ISO
codes); the company's own recurring ranges (a year-end break, a summer month) come from
``alerts.seasonality.ranges`` in the config. Each day carries the share of a normal
day's activity expected on it; dbt (``int_country_activity_days_listed``) turns the
calendar into expected activity days per window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import duckdb
import holidays
import pandas as pd

from alerts.store import insert_frame

CALENDAR_TABLE = "reference.holiday_calendar"
CALENDAR_COLUMNS = ["country", "holiday_date", "holiday_name", "expected_activity"]


def _month_day(text: str, year: int) -> date:
    month, day = (int(part) for part in str(text).split("-"))
    return date(year, month, day)


def company_range_days(ranges: Iterable[Mapping[str, Any]], years: Iterable[int]) -> pd.DataFrame:
    """Every day of the recurring ``MM-DD`` ranges in the given years; a range whose end
    comes before its start wraps the year end (12-22 .. 01-02)."""
    rows = []
    for spec in ranges:
        for year in years:
            start = _month_day(spec["start"], year)
            end = _month_day(spec["end"], year)
            if end < start:
                end = _month_day(spec["end"], year + 1)
            day = start
            while day <= end:
                rows.append((None, day, spec["name"], float(spec["expected_activity"])))
                day += timedelta(days=1)
    return pd.DataFrame(rows, columns=CALENDAR_COLUMNS)


def public_holiday_days(
    countries: Iterable[str], years: Iterable[int], expected_activity: float
) -> tuple[pd.DataFrame, list[str]]:
    """Public holidays per country code, and the codes the library does not know."""
    rows, unknown = [], []
    years = list(years)
    for country in sorted(set(countries)):
        try:
            calendar = holidays.country_holidays(country, years=years)
        except NotImplementedError:
            unknown.append(country)
            continue
        rows.extend((country, day, name, expected_activity) for day, name in calendar.items())
    return pd.DataFrame(rows, columns=CALENDAR_COLUMNS), unknown


def build_holiday_calendar(
    countries: Iterable[str], first_year: int, last_year: int, seasonality: Mapping[str, Any]
) -> tuple[pd.DataFrame, list[str]]:
    """The calendar for these countries and years (one year either side: a window can
    reach back past the first data day, a range can wrap into the next year)."""
    years = range(first_year - 1, last_year + 2)
    frames = [company_range_days(seasonality.get("ranges") or [], years)]
    unknown: list[str] = []
    if seasonality.get("public_holidays", True):
        public, unknown = public_holiday_days(
            countries, years, seasonality["public_holiday_activity"]
        )
        frames.append(public)
    calendar = pd.concat([f for f in frames if not f.empty] or frames, ignore_index=True)
    calendar["holiday_date"] = pd.to_datetime(calendar["holiday_date"]).dt.date
    return calendar, unknown


def write_holiday_calendar(
    con: duckdb.DuckDBPyConnection, seasonality: Mapping[str, Any]
) -> dict[str, Any]:
    """Replace ``reference.holiday_calendar`` for the countries in the CRM and the years
    the usage data spans; returns what was written (asset metadata)."""
    countries = [
        row[0]
        for row in con.execute(
            "select distinct trim(country) from raw.accounts where nullif(trim(country), '') is not null"
        ).fetchall()
    ]
    first, last = con.execute(
        "select min(occurred_at), max(occurred_at) from raw.usage_events"
    ).fetchone()
    today = date.today()
    first_year = (first or today).year
    last_year = max((last or today).year, today.year)
    calendar, unknown = build_holiday_calendar(countries, first_year, last_year, seasonality)
    con.execute("create schema if not exists reference")
    con.execute(
        f"create or replace table {CALENDAR_TABLE} (country varchar, holiday_date date not null, "
        "holiday_name varchar, expected_activity double not null)"
    )
    insert_frame(con, CALENDAR_TABLE, calendar)
    return {
        "days": len(calendar),
        "countries": sorted(set(countries) - set(unknown)),
        "unknown_country_codes": unknown,
        "years": f"{first_year - 1}..{last_year + 1}",
    }
