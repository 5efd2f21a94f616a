-- Grain: one row per account per observation date. Feature depth (how many core
-- features the account uses regularly) and user breadth (how many of its people use
-- the product), from days strictly before the date (the window counts are stored
-- incrementally in int_account_adoption_windows_aggregated). A team account with one
-- active user depends on that one person (single-user dependency, DOMAIN.md §3).
-- Incremental by observation date (macro observation_dates_to_build).
{%- set m = var('metrics') %}
{{ config_incremental_by_observation_date() }}

with observed as (
    select
        account_id,
        observation_date,
        seats
    from {{ ref('int_account_observations_listed') }}
    where observation_date in ({{ observation_dates_in_scope() }})
),

windows as (
    select *
    from {{ ref('int_account_adoption_windows_aggregated') }}
    where observation_date in ({{ observation_dates_in_scope() }})
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
    coalesce(w.features_used_30d, 0) as features_used_30d,
    coalesce(w.features_used_90d, 0) as features_used_90d,
    coalesce(w.core_features_used_30d, 0) as core_features_used_30d,
    coalesce(w.core_features_regular_30d, 0) as core_features_regular_30d,
    coalesce(w.features_used_prior_30d, 0) as features_used_prior_30d,
    coalesce(w.core_features_regular_prior_30d, 0) as core_features_regular_prior_30d,
    {{ m['core_features'] | length }} as core_features_available,
    coalesce(w.core_features_regular_30d, 0) * 1.0 / {{ m['core_features'] | length }}
        as feature_depth_share,
    -- no activity in 30 days: zero users; activity without user ids: unknown (null)
    case when coalesce(w.has_activity_30d, false) then w.active_users_30d else 0 end
        as active_users_30d,
    o.seats,
    k.user_count as known_users,
    case when coalesce(w.has_activity_30d, false) then w.active_users_30d else 0 end * 1.0
    / nullif(o.seats, 0) as active_user_share_30d,
    coalesce(
        o.seats >= {{ m['team_min_seats'] }}
        and case when coalesce(w.has_activity_30d, false) then w.active_users_30d else 0 end <= 1,
        false
    ) as is_single_user_dependent,
    {{ inputs_loaded_at([
        ref('int_account_observations_listed'),
        ref('int_account_adoption_windows_aggregated'),
    ]) }} as inputs_loaded_at
from observed as o
left join windows as w on o.account_id = w.account_id and o.observation_date = w.observation_date
left join known_users as k
    on o.account_id = k.account_id and o.observation_date = k.observation_date
