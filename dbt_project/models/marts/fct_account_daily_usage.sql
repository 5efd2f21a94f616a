-- Grain: one row per account per day with at least one usage event.
-- active_users is null (not 0) when the export has no user ids: breadth is then unknown.
-- Incremental: days whose user-days were recomputed in this run (newer events) are
-- rebuilt whole and replace the stored ones; a full refresh gives the same rows.
{{ config_incremental_by_activity_date() }}

with user_days as (
    select *
    from {{ ref('int_usage_user_days_aggregated') }}
    {%- if is_incremental() %}
        where activity_date in (
            {{ new_activity_days(ref('int_usage_user_days_aggregated'), 'events_loaded_at') }}
        )
    {%- endif %}
),

features as (
    select
        account_id,
        activity_date,
        count(*) as distinct_features,
        count(case when is_core_feature then 1 end) as core_features_used
    from {{ ref('fct_account_feature_daily_usage') }}
    {%- if is_incremental() %}
        where activity_date in (select d.activity_date from user_days as d)
    {%- endif %}
    group by account_id, activity_date
),

accounts as (
    select
        account_id,
        activity_date,
        cast(sum(logins) as bigint) as logins,
        case when count(user_id) > 0 then count(user_id) end as active_users,
        cast(sum(session_seconds) / 60.0 as double) as session_minutes,
        cast(sum(core_actions) as bigint) as core_actions,
        cast(sum(feature_events) as bigint) as feature_events,
        cast(sum(events) as bigint) as events,
        max(events_loaded_at) as events_loaded_at
    from user_days
    group by account_id, activity_date
)

select
    a.account_id,
    a.activity_date,
    a.logins,
    a.active_users,
    a.logins as sessions,
    a.session_minutes,
    a.core_actions,
    a.feature_events,
    coalesce(f.distinct_features, 0) as distinct_features,
    coalesce(f.core_features_used, 0) as core_features_used,
    a.events,
    a.events_loaded_at
from accounts as a
left join features as f on a.account_id = f.account_id and a.activity_date = f.activity_date
order by a.activity_date  -- day order, as in int_usage_user_days_aggregated
