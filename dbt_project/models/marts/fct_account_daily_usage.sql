-- Grain: one row per account per day on which the account had any usage event.
-- active_users is null (not 0) when the export has no user ids: breadth is then unknown.
select
    account_id,
    activity_date,
    count(case when event_role = 'login' then 1 end) as logins,
    case when count(user_id) > 0 then count(distinct user_id) end as active_users,
    count(case when event_role = 'login' then 1 end) as sessions,
    coalesce(sum(case when event_role = 'login' then session_seconds end), 0) / 60.0
        as session_minutes,
    count(case when event_role = 'core_action' then 1 end) as core_actions,
    count(case when event_role = 'feature_use' then 1 end) as feature_events,
    count(distinct case when event_role = 'feature_use' then feature end) as distinct_features
from {{ ref('stg_product__usage_events') }}
group by account_id, activity_date
