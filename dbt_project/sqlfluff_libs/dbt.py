"""Lint-time stand-ins for dbt's cross-database macros (sqlfluff's jinja templater).

They only need to render valid SQL of the same shape; dbt itself renders the real ones.
"""


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def last_day(date, datepart):
    return f"last_day({date})"


def date_spine(datepart, start_date, end_date):
    return f"select range as date_{datepart} from range({start_date}, {end_date}, interval 1 {datepart})"


def generate_series(upper_bound):
    return f"select range + 1 as generated_number from range(0, {upper_bound})"


def type_string():
    return "varchar"


def hash(field):  # the name of dbt's macro
    return f"md5(cast({field} as varchar))"
