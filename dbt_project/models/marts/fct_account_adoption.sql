-- Grain: one row per account per observation date. Feature depth (how many core
-- features the account uses regularly) and user breadth (how many of its people use
-- the product), from days strictly before the date. A team account with one active
-- user depends on that one person (single-user dependency, DOMAIN.md §3).
{%- set m = var('metrics') %}
with observed as (
    select
        account_id,
        observation_date,
        seats
    from {{ ref('int_account_observations_listed') }}
),

feature_days as (
    select
        o.account_id,
        o.observation_date,
        f.feature,
        f.is_core_feature,
        count(case when f.activity_date >= {{ dbt.dateadd('day', -30, 'o.observation_date') }} then 1 end)
            as days_used_30d
    from observed as o
    inner join {{ ref('fct_account_feature_daily_usage') }} as f
        on
            o.account_id = f.account_id
            and f.activity_date >= {{ dbt.dateadd('day', -90, 'o.observation_date') }}
            and o.observation_date > f.activity_date
    group by o.account_id, o.observation_date, f.feature, f.is_core_feature
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
        ) as core_features_regular_30d
    from feature_days
    group by account_id, observation_date
),

breadth as (
    select
        o.account_id,
        o.observation_date,
        -- null when the account's events carry no user ids: breadth unknown, not zero
        case when count(u.user_id) > 0 then count(distinct u.user_id) end as active_users_30d,
        count(*) as user_days_30d
    from observed as o
    inner join {{ ref('int_usage_user_days_aggregated') }} as u
        on
            o.account_id = u.account_id
            and u.activity_date >= {{ dbt.dateadd('day', -30, 'o.observation_date') }}
            and o.observation_date > u.activity_date
    group by o.account_id, o.observation_date
),

known_users as (
    -- users that existed on the date (null when the users source is not exported)
    select
        o.account_id,
        o.observation_date,
        count(*) as user_count
    from observed as o
    inner join {{ ref('stg_product__users') }} as u
        on
            o.account_id = u.account_id
            and (u.created_at is null or o.observation_date > u.created_at)
            and (u.deactivated_at is null or o.observation_date <= u.deactivated_at)
    group by o.account_id, o.observation_date
)

select
    o.account_id,
    o.observation_date,
    coalesce(d.features_used_30d, 0) as features_used_30d,
    coalesce(d.features_used_90d, 0) as features_used_90d,
    coalesce(d.core_features_used_30d, 0) as core_features_used_30d,
    coalesce(d.core_features_regular_30d, 0) as core_features_regular_30d,
    {{ m['core_features'] | length }} as core_features_available,
    coalesce(d.core_features_regular_30d, 0) * 1.0 / {{ m['core_features'] | length }}
        as feature_depth_share,
    case when b.user_days_30d is null then 0 else b.active_users_30d end as active_users_30d,
    o.seats,
    k.user_count as known_users,
    case when b.user_days_30d is null then 0 else b.active_users_30d end * 1.0
    / nullif(o.seats, 0) as active_user_share_30d,
    coalesce(
        o.seats >= {{ m['team_min_seats'] }}
        and case when b.user_days_30d is null then 0 else b.active_users_30d end <= 1,
        false
    ) as is_single_user_dependent
from observed as o
left join depth as d on o.account_id = d.account_id and o.observation_date = d.observation_date
left join breadth as b on o.account_id = b.account_id and o.observation_date = b.observation_date
left join known_users as k
    on o.account_id = k.account_id and o.observation_date = k.observation_date
