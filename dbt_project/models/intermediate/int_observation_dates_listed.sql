-- One row per observation date, with the roles it plays:
--   is_month_start  every month start from var('metrics').min_history_days after the
--                   first usage day (so a date has 30 + 90 days of history behind it)
--                   up to the as-of date (silent churn compares quarters of them);
--   is_model_date   the model's training dates over the same span: the month starts, or
--                   every Monday when var('observation_dates') is 'weekly' or
--                   'before_renewal' (fct_account_snapshots then keeps each account
--                   only on the Monday of its week before each renewal);
--   is_alert_night  every day of the last var('alerts').lookback_nights up to and
--                   including the as-of date, and every day from
--                   var('alerts').nights_from when a replay asks for older nights: the
--                   nights the alert rules are evaluated on (grace periods look back);
--   is_scoring_row  the as-of date itself, the row tonight's scores use (there even
--                   when the history is shorter than min_history_days).
-- A date's rows in the per-date marts do not depend on its roles (every account in a
-- spell is observed on every date), so a date changing role is never rebuilt.
{{ config(materialized='table') }}
{%- set alerts = var('alerts') %}
{%- set model_period = 'week' if var('observation_dates') in ('weekly', 'before_renewal') else 'month' %}

with bounds as (
    select
        cast({{ dbt.dateadd('day', var('metrics')['min_history_days'], 'min(activity_date)') }} as date)
            as first_observable,
        {{ as_of_date() }} as as_of_date
    from {{ ref('fct_account_daily_usage') }}
),

days as (
    select cast(date_day as date) as observation_date
    from ({{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2100-01-01' as date)") }}) as spine
),

roles as (
    select
        d.observation_date,
        d.observation_date = b.as_of_date as is_scoring_row,
        d.observation_date < b.as_of_date
        and d.observation_date = cast({{ dbt.date_trunc('month', 'd.observation_date') }} as date)
            as is_month_start,
        d.observation_date < b.as_of_date
        and d.observation_date
        = cast({{ dbt.date_trunc(model_period, 'd.observation_date') }} as date)
            as is_model_date,
        d.observation_date
        > cast({{ dbt.dateadd('day', -alerts['lookback_nights'], 'b.as_of_date') }} as date)
        {%- if alerts['nights_from'] %}
            or d.observation_date >= cast('{{ alerts["nights_from"] }}' as date)
        {%- endif %}
            as is_alert_night
    from days as d
    cross join bounds as b
    where
        d.observation_date <= b.as_of_date
        and (d.observation_date >= b.first_observable or d.observation_date = b.as_of_date)
)

select
    observation_date,
    is_scoring_row,
    is_month_start,
    is_model_date,
    is_alert_night or is_scoring_row as is_alert_night
from roles
where is_scoring_row or is_month_start or is_model_date or is_alert_night
