-- One row per account per observation date with feature use in the 90 days or any
-- activity in the 30 days before it: distinct features used (30 / 90 days, and days
-- 31-60), core features used and used regularly (on var('metrics').regular_use_days of
-- the last 30, and of days 31-60: depth a month earlier, for declining-depth alerts),
-- distinct active users in the last 30 days. Incremental by observation date (macro
-- observation_dates_to_build); fct_account_adoption relates them to seats.
{%- set m = var('metrics') %}
{{ config_incremental_by_observation_date() }}

with window_days as (
    select *
    from {{ ref('int_observation_window_days_listed') }}
    where observation_date in ({{ observation_dates_in_scope() }})
),

feature_windows as (
    select
        f.account_id,
        w.observation_date,
        f.feature,
        bool_or(f.is_core_feature) as is_core_feature,
        count(case when w.days_before <= 30 then 1 end) as days_used_30d,
        count(case when w.days_before > 30 and w.days_before <= 60 then 1 end)
            as days_used_prior_30d
    from {{ ref('fct_account_feature_daily_usage') }} as f
    inner join window_days as w on f.activity_date = w.activity_date
    where w.days_before <= 90
    group by f.account_id, w.observation_date, f.feature
),

depth as (
    select
        account_id,
        observation_date,
        count(case when days_used_30d > 0 then 1 end) as features_used_30d,
        count(*) as features_used_90d,
        count(case when is_core_feature and days_used_30d > 0 then 1 end)
            as core_features_used_30d,
        count(
            case when is_core_feature and days_used_30d >= {{ m['regular_use_days'] }} then 1 end
        ) as core_features_regular_30d,
        count(case when days_used_prior_30d > 0 then 1 end) as features_used_prior_30d,
        count(
            case
                when is_core_feature and days_used_prior_30d >= {{ m['regular_use_days'] }} then 1
            end
        ) as core_features_regular_prior_30d
    from feature_windows
    group by account_id, observation_date
),

breadth as (
    select
        u.account_id,
        w.observation_date,
        -- null when the account's events carry no user ids: breadth unknown, not zero
        case when count(u.user_id) > 0 then count(distinct u.user_id) end as active_users_30d
    from {{ ref('int_usage_user_days_aggregated') }} as u
    inner join window_days as w on u.activity_date = w.activity_date
    where w.days_before <= 30
    group by u.account_id, w.observation_date
),

keys as (
    select
        account_id,
        observation_date
    from depth
    union
    select
        account_id,
        observation_date
    from breadth
)

select
    k.account_id,
    k.observation_date,
    coalesce(d.features_used_30d, 0) as features_used_30d,
    coalesce(d.features_used_90d, 0) as features_used_90d,
    coalesce(d.core_features_used_30d, 0) as core_features_used_30d,
    coalesce(d.core_features_regular_30d, 0) as core_features_regular_30d,
    coalesce(d.features_used_prior_30d, 0) as features_used_prior_30d,
    coalesce(d.core_features_regular_prior_30d, 0) as core_features_regular_prior_30d,
    b.active_users_30d,
    b.account_id is not null as has_activity_30d,
    {{ inputs_loaded_at() }} as inputs_loaded_at
from keys as k
left join depth as d on k.account_id = d.account_id and k.observation_date = d.observation_date
left join breadth as b on k.account_id = b.account_id and k.observation_date = b.observation_date
