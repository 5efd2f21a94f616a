-- One row per observation date per day of the var('metrics').min_history_days before it
-- (days_before = 1 is the day before the date). Joining account-day tables to this on
-- the day (an equality join) puts each day into exactly the windows that contain it, so
-- trends are computed only at the dates that need them, never per day and never by
-- pairing every account-day with every observation date.
{{ config(materialized='table') }}

with offsets as (
    {{ dbt.generate_series(var('metrics')['min_history_days']) }}
)

select
    d.observation_date,
    cast({{ dbt.dateadd('day', '-o.generated_number', 'd.observation_date') }} as date)
        as activity_date,
    o.generated_number as days_before
from {{ ref('int_observation_dates_listed') }} as d
cross join offsets as o
