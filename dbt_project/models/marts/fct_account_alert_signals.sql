-- Grain: one row per account per alert night (int_observation_dates_listed). Every
-- measure an alert rule reads (DOMAIN.md §3-§4), as known before the night: the
-- snapshot's point-in-time features, the cohort medians they are compared with, the
-- account's own prior-90-day baseline, and seasonality-adjusted usage. The rules
-- themselves (thresholds, grace periods, severities) are applied by the alerts engine
-- (alerts/), which reads this view for the nights it evaluates; no label or outcome
-- column is here, so a rule cannot see the future.
--
-- Seasonality (int_account_activity_expected): a window's logins are divided by its
-- expected activity days, so a holiday dip is not read as a decline, and inactivity is
-- counted in expected activity days, so a week of public holidays is not a week of silence.
-- Usage is team-level throughout: an account is quiet only when all its users are.
{{ config(materialized='view') }}
{%- set ms = var('metrics')['milestones'] %}
{%- set milestones = {
    'onboarding': ('first_core_feature_date', ms['onboarding_days']),
    'first_value': ('first_core_action_date', ms['first_value_days']),
    'second_feature': ('second_feature_date', ms['second_feature_days']),
} %}
with nights as (
    select
        s.*,
        a.company_name,
        a.signup_date
    from {{ ref('fct_account_snapshots') }} as s
    inner join {{ ref('stg_crm__accounts') }} as a on s.account_id = a.account_id
    where s.is_alert_night
),

sums as (
    select
        account_id,
        observation_date,
        logins_prior_90d,
        core_actions_prior_90d
    from {{ ref('int_account_usage_windows_aggregated') }}
)

select
    n.account_id,
    n.observation_date as night,
    n.is_scoring_row,
    n.company_name,
    n.segment,
    n.plan,
    n.contract_term,
    n.csm_owner,
    e.country,
    n.seats,
    n.mrr,
    n.mrr * 12 as arr,
    n.tenure_days,
    n.days_to_renewal,
    n.has_pending_cancellation,
    -- usage vs the cohort and vs the account's own baseline
    n.logins_7d,
    n.logins_30d,
    n.logins_prior_90d_monthly,
    n.logins_change_30v90,
    b.median_logins_30d as cohort_median_logins_30d,
    n.logins_vs_cohort,
    n.core_actions_30d,
    n.core_actions_change_30v90,
    n.core_actions_vs_cohort,
    n.active_days_30d,
    -- seasonality-adjusted: per expected activity day
    e.expected_days_7d,
    e.expected_days_30d,
    e.expected_days_prior_90d,
    e.login_rate_7d,
    e.login_rate_30d,
    e.login_rate_prior_90d,
    e.seasonal_logins_change_30v90,
    e.seasonal_logins_change_7v90,
    coalesce(m.core_actions_prior_90d, 0) as core_actions_prior_90d,
    n.days_since_last_login,
    coalesce(e.expected_days_since_last_login, n.days_since_last_login)
        as expected_days_since_last_login,
    n.days_since_last_core_action,
    coalesce(e.expected_days_since_last_core_action, n.days_since_last_core_action)
        as expected_days_since_last_core_action,
    -- adoption and breadth
    n.features_used_30d,
    a.features_used_prior_30d,
    n.core_features_regular_30d,
    a.core_features_regular_prior_30d,
    n.active_users_30d,
    n.active_user_share_30d,
    n.is_single_user_dependent,
    -- onboarding milestones whose deadline passed unmet before the night (null: the
    -- account's first days precede the usage history)
    {%- for name, (column, days) in milestones.items() %}
        case
            when o.onboarding_status != 'not_observed'
                then
                    {{ dbt.dateadd('day', days, 'n.signup_date') }} < n.observation_date
                    and not coalesce(o.{{ column }} <= {{ dbt.dateadd('day', days, 'n.signup_date') }}, false)
        end as {{ name }}_missed,
    {%- endfor %}
    coalesce(sc.is_silent_churn, false) as is_silent_churn,
    -- support, NPS, billing
    n.open_tickets,
    n.stale_open_tickets,
    n.tickets_recent,
    n.tickets_30d,
    n.nps_latest_score,
    n.is_detractor,
    np.days_since_nps,
    n.failed_payments,
    p.last_failed_payment_at,
    p.has_unresolved_payment_failure,
    n.health_score,
    h.health_band
from nights as n
inner join {{ ref('int_account_activity_expected') }} as e
    on n.account_id = e.account_id and n.observation_date = e.observation_date
left join sums as m on n.account_id = m.account_id and n.observation_date = m.observation_date
inner join {{ ref('fct_account_adoption') }} as a
    on n.account_id = a.account_id and n.observation_date = a.observation_date
inner join {{ ref('fct_account_nps') }} as np
    on n.account_id = np.account_id and n.observation_date = np.observation_date
inner join {{ ref('fct_account_billing') }} as p
    on n.account_id = p.account_id and n.observation_date = p.observation_date
inner join {{ ref('fct_account_health') }} as h
    on n.account_id = h.account_id and n.observation_date = h.observation_date
inner join {{ ref('fct_account_onboarding_milestones') }} as o on n.account_id = o.account_id
left join {{ ref('fct_silent_churn') }} as sc
    on n.account_id = sc.account_id and n.observation_date = sc.night
left join {{ ref('fct_cohort_baselines') }} as b
    on n.observation_date = b.observation_date and n.segment = b.segment and n.plan = b.plan
