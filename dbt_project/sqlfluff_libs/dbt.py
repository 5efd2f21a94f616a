"""Lint-time stand-ins for dbt's cross-database macros (sqlfluff's jinja templater).

They only need to render valid SQL of the same shape; dbt itself renders the real ones.
"""


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"
