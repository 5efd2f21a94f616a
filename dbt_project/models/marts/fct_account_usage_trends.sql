-- Grain: one row per account per observation date (int_account_observations_listed).
-- Usage over the 7, 30 and 90 days before the date and the 90 days before those (days
-- 31-120), from days strictly before the date (the sums are stored incrementally in
-- int_account_usage_windows_aggregated). "Change" compares the last 30 days with the
-- prior 90 days' monthly average (DOMAIN.md §3: 30 -> 20 logins is -33%). Tenure-scaled
-- rates count only days the account existed, so an account 10 days old is not read as a
-- 66% drop; with metrics.min_history_days under 120 the prior window is that much shorter
-- and its rate is divided by the days it has. A view: arithmetic on two stored per-date
-- tables, read date by date by the incremental marts above it.
{{ config(materialized='view') }}
{%- set lookback = var('metrics')['min_history_days'] %}
{%- set metrics = ['logins', 'core_actions', 'session_minutes'] %}
with observed as (
    select
        account_id,
        observation_date,
        tenure_days
    from {{ ref('int_account_observations_listed') }}
),

sums as (
    select * from {{ ref('int_account_usage_windows_aggregated') }}
),

scaled as (
    select
        o.account_id,
        o.observation_date,
        o.tenure_days,
        -- days of each window the account existed (at least 1) and the history covers
        -- (the windows reach back metrics.min_history_days: a shorter history has a
        -- shorter prior window, not one divided by 90 days)
        {{ usage_window_days('o.tenure_days') }}
    from observed as o
)

select
    o.account_id,
    o.observation_date,
    {%- for m in metrics %}
        coalesce(s.{{ m }}_7d, 0) as {{ m }}_7d,
        coalesce(s.{{ m }}_30d, 0) as {{ m }}_30d,
        coalesce(s.{{ m }}_90d, 0) as {{ m }}_90d,
        coalesce(s.{{ m }}_prior_90d, 0) * 30.0 / nullif(o.days_in_prior_90d, 0)
            as {{ m }}_prior_90d_monthly,
        coalesce(s.{{ m }}_30d, 0) * 30.0 / o.days_in_30d as {{ m }}_30d_tenure_scaled,
        (coalesce(s.{{ m }}_30d, 0) * 30.0 / o.days_in_30d)
        / nullif(coalesce(s.{{ m }}_prior_90d, 0) * 30.0 / nullif(o.days_in_prior_90d, 0), 0)
        - 1 as {{ m }}_change_30v90,
    {%- endfor %}
    coalesce(s.active_days_7d, 0) as active_days_7d,
    coalesce(s.active_days_30d, 0) as active_days_30d,
    coalesce(s.active_days_90d, 0) as active_days_90d,
    s.last_activity_date,
    -- capped: nothing in the lookback reads as one day more than the lookback
    coalesce(
        {{ dbt.datediff('s.last_login_date', 'o.observation_date', 'day') }}, {{ lookback + 1 }}
    ) as days_since_last_login,
    coalesce(
        {{ dbt.datediff('s.last_core_action_date', 'o.observation_date', 'day') }},
        {{ lookback + 1 }}
    ) as days_since_last_core_action,
    coalesce(
        {{ dbt.datediff('s.last_activity_date', 'o.observation_date', 'day') }}, {{ lookback + 1 }}
    ) as days_since_last_activity
from scaled as o
left join sums as s on o.account_id = s.account_id and o.observation_date = s.observation_date
