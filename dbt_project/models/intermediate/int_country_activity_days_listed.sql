-- One row per country per day, from var('metrics').min_history_days (plus a margin)
-- before the first usage day up to the as-of date: the share of a normal day's
-- activity expected that day (1, or less on the country's public holidays and the
-- company's own ranges in reference.holiday_calendar, the lowest when several apply),
-- and the running total of expected activity days. A window's expected activity days
-- are the difference of two running totals, so seasonality-adjusted rates (logins per
-- expected day) cost two lookups per account and night, not a pass over the days.
-- Countries are those the CRM names ('' for accounts without one: only the company's
-- ranges apply to them).
{{ config(materialized='table') }}

with bounds as (
    select
        {%- set margin = var('metrics')['min_history_days'] + 10 %}
        cast({{ dbt.dateadd('day', -margin, 'min(activity_date)') }} as date) as first_day,
        {{ as_of_date() }} as as_of_date
    from {{ ref('fct_account_daily_usage') }}
),

days as (
    select cast(s.date_day as date) as calendar_date
    from ({{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2100-01-01' as date)") }}) as s
    cross join bounds as b
    where s.date_day >= b.first_day and s.date_day <= b.as_of_date
),

countries as (
    select distinct coalesce(country, '') as country
    from {{ ref('stg_crm__accounts') }}
),

expected as (
    select
        c.country,
        d.calendar_date,
        coalesce(min(h.expected_activity), 1.0) as expected_activity
    from countries as c
    cross join days as d
    left join {{ source('reference', 'holiday_calendar') }} as h
        on
            d.calendar_date = h.holiday_date
            and (h.country is null or c.country = h.country)
    group by c.country, d.calendar_date
)

select
    country,
    calendar_date,
    cast(expected_activity as double) as expected_activity,
    cast(
        sum(expected_activity) over (
            partition by country order by calendar_date rows between unbounded preceding and current row
        ) as double
    ) as expected_days_through
from expected
