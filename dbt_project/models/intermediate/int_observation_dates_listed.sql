-- One row per observation date: every month start from var('metrics').min_history_days
-- after the first usage day (so a date has 30 + 90 days of history behind it) up to
-- the as-of date, plus the as-of date itself, which is the row tonight's scores use.
{{ config(materialized='table') }}

with bounds as (
    select
        min(activity_date) as first_day,
        {{ as_of_date() }} as as_of_date
    from {{ ref('fct_account_daily_usage') }}
),

month_starts as (
    select cast(date_month as date) as observation_date
    from ({{ dbt.date_spine('month', "cast('2000-01-01' as date)", "cast('2100-01-01' as date)") }}) as spine
)

select
    m.observation_date,
    false as is_scoring_row
from month_starts as m
cross join bounds as b
where
    m.observation_date >= {{ dbt.dateadd('day', var('metrics')['min_history_days'], 'b.first_day') }}
    and m.observation_date < b.as_of_date
union all
select
    as_of_date as observation_date,
    true as is_scoring_row
from bounds
