-- Grain: one row per observation date per segment per plan. Medians of the key usage
-- metrics across the accounts observed on that date: the comparison for cohort-relative
-- thresholds (DOMAIN.md §4: below 60% of comparable accounts' median). Built only from
-- rows that are themselves point in time, so a past baseline never sees later usage.
-- Only established accounts (var('min_tenure_days') or older) form the baseline, so the
-- scoring date's baseline is the same one its later training row gets. Incremental by
-- observation date (macro observation_dates_to_build): a date's medians are rebuilt
-- with all of its accounts.
{{ config_incremental_by_observation_date() }}

select
    o.observation_date,
    o.segment,
    o.plan,
    count(*) as observed_accounts,
    median(t.logins_30d_tenure_scaled) as median_logins_30d,
    median(t.core_actions_30d_tenure_scaled) as median_core_actions_30d,
    median(t.session_minutes_30d_tenure_scaled) as median_session_minutes_30d,
    median(t.active_days_30d) as median_active_days_30d,
    median(a.core_features_regular_30d) as median_core_features_regular_30d,
    median(a.active_user_share_30d) as median_active_user_share_30d,
    {{ inputs_loaded_at([
        ref('int_account_observations_listed'),
        ref('int_account_usage_windows_aggregated'),
        ref('fct_account_adoption'),
    ]) }} as inputs_loaded_at
from {{ ref('int_account_observations_listed') }} as o
inner join {{ ref('fct_account_usage_trends') }} as t
    on o.account_id = t.account_id and o.observation_date = t.observation_date
inner join {{ ref('fct_account_adoption') }} as a
    on o.account_id = a.account_id and o.observation_date = a.observation_date
where
    o.tenure_days >= {{ var('min_tenure_days') }}
    and o.observation_date in ({{ observation_dates_in_scope() }})
group by o.observation_date, o.segment, o.plan
