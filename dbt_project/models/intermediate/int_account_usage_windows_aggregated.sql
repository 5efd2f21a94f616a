-- One row per account per observation date with usage in the var('metrics').
-- min_history_days before it: sums over the last 7 / 30 / 90 days and days 31-120, active
-- days and the newest login / core action / activity day. Pure functions of the daily
-- usage, stored incrementally by observation date (macro observation_dates_to_build: a
-- night computes tonight's as-of date and any date a late file reaches, and drops
-- yesterday's); fct_account_usage_trends turns these into rates and changes.
{%- set metrics = {'logins': 'bigint', 'core_actions': 'bigint', 'session_minutes': 'double'} %}
{{ config_incremental_by_observation_date() }}

with window_days as (
    select *
    from {{ ref('int_observation_window_days_listed') }}
    where observation_date in ({{ observation_dates_in_scope() }})
)

select
    u.account_id,
    w.observation_date,
    {%- for m, type in metrics.items() %}
        cast(sum(case when w.days_before <= 7 then u.{{ m }} else 0 end) as {{ type }}) as {{ m }}_7d,
        cast(sum(case when w.days_before <= 30 then u.{{ m }} else 0 end) as {{ type }}) as {{ m }}_30d,
        cast(sum(case when w.days_before <= 90 then u.{{ m }} else 0 end) as {{ type }}) as {{ m }}_90d,
        cast(sum(case when w.days_before between 31 and 120 then u.{{ m }} else 0 end) as {{ type }})
            as {{ m }}_prior_90d,
    {%- endfor %}
    count(case when w.days_before <= 7 then 1 end) as active_days_7d,
    count(case when w.days_before <= 30 then 1 end) as active_days_30d,
    count(case when w.days_before <= 90 then 1 end) as active_days_90d,
    max(case when u.logins > 0 then u.activity_date end) as last_login_date,
    max(case when u.core_actions > 0 then u.activity_date end) as last_core_action_date,
    max(u.activity_date) as last_activity_date,
    {{ inputs_loaded_at() }} as inputs_loaded_at
from {{ ref('fct_account_daily_usage') }} as u
inner join window_days as w on u.activity_date = w.activity_date
group by u.account_id, w.observation_date
