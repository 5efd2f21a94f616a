-- Grain: one row per account per observation date (month starts, the alert nights and
-- the as-of date used for scoring; the date's roles are columns). The table the churn
-- model trains and scores from (is_model_row) and the alert signals read: every
-- feature is built only from data before the observation date (the account marts it
-- joins are all point in time). The label looks forward and is null where the horizon has not
-- fully passed yet, the account was already in the act of cancelling, or a churn is
-- too recent to know whether the account re-signs. churned_on is the end of the
-- subscription spell in force at the date, once it has happened.
--
-- A view: the features are stored, date by date, in the per-date marts it joins; the
-- label, the outcome and the missed milestones change with the as-of date and with
-- later churns, for old dates too, so they are worked out when the view is read.
{{ config(materialized='view') }}
{%- set ms = var('metrics')['milestones'] %}
{%- set renewal_days = var('days_before_renewal') | int %}
{%- set model_observation -%}
    d.is_model_date
    {%- if var('observation_dates') == 'before_renewal' %}
        -- a week's window starting days_before_renewal ahead, or a week short of
        -- the whole term when that is shorter (monthly: 23-29 days ahead)
        and coalesce(p.days_to_renewal - least(
            {{ renewal_days }}, {{ contract_term_days('o.contract_term') }} - 7
        ) between 0 and 6, false)
    {%- endif %}
{%- endset %}
{%- set milestones = {
    'first_core_feature_date': ms['onboarding_days'],
    'first_core_action_date': ms['first_value_days'],
    'second_feature_date': ms['second_feature_days'],
} %}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

observed as (
    -- churned_on: the end of the spell in force at the date (null while it lasts)
    select
        o.*,
        s.spell_end as churned_on
    from {{ ref('int_account_observations_listed') }} as o
    inner join {{ ref('int_subscription_spells_grouped') }} as s
        on o.account_id = s.account_id and o.spell_number = s.spell_number
)

select
    o.account_id,
    o.observation_date,
    d.is_scoring_row,
    d.is_month_start,
    d.is_alert_night,
    -- the model observes an account on its observation dates (var observation_dates;
    -- with before_renewal only on the Monday of the week days_before_renewal ahead of
    -- a renewal, so each renewal once), trains on those rows without accounts too
    -- young to be judged, and scores every account on the as-of date
    {{ model_observation }} as is_model_observation,
    d.is_scoring_row
    or ({{ model_observation }} and o.tenure_days >= {{ var('min_tenure_days') }})
        as is_model_row,
    o.segment,
    o.plan,
    o.contract_term,
    o.csm_owner,
    o.seats,
    o.mrr,
    o.tenure_days,
    p.days_to_renewal,
    t.logins_7d,
    t.logins_30d,
    t.logins_prior_90d_monthly,
    t.logins_change_30v90,
    t.logins_30d_tenure_scaled / nullif(b.median_logins_30d, 0) as logins_vs_cohort,
    t.core_actions_30d,
    t.core_actions_change_30v90,
    t.core_actions_30d_tenure_scaled / nullif(b.median_core_actions_30d, 0)
        as core_actions_vs_cohort,
    t.session_minutes_30d,
    t.session_minutes_change_30v90,
    t.active_days_7d,
    t.active_days_30d,
    t.days_since_last_login,
    t.days_since_last_core_action,
    t.days_since_last_activity,
    t.last_activity_date,
    a.features_used_30d,
    a.core_features_regular_30d,
    a.feature_depth_share,
    a.active_users_30d,
    a.active_user_share_30d,
    a.is_single_user_dependent,
    -- onboarding milestones whose deadline had passed unmet by the date (null when the
    -- account's first days precede the usage history)
    case
        when m.onboarding_status != 'not_observed'
            then
        {%- for column, days in milestones.items() %}
                case
                    when
                        {{ dbt.dateadd('day', days, 'o.signup_date') }} < o.observation_date
                        and not coalesce(
                            m.{{ column }} <= {{ dbt.dateadd('day', days, 'o.signup_date') }}, false
                        )
                        then 1
                    else 0
                end {{ '+' if not loop.last }}
        {%- endfor %}
    end as milestones_missed,
    s.open_tickets,
    s.stale_open_tickets,
    s.tickets_recent,
    s.tickets_30d,
    s.ticket_trend,
    s.csat_90d,
    n.nps_latest_score,
    n.nps_trend,
    n.is_detractor,
    p.failed_payments,
    p.has_pending_cancellation,
    h.health_score,
    -- known once the horizon and the re-sign gap after it have passed: an end inside
    -- the horizon is then final. Judged per date, not per row: leaving out only the
    -- churners whose end is still provisional would label the newest dates all-safe.
    case
        when
            {{ dbt.dateadd('day', var('horizon_days') + var('resign_gap_days'), 'o.observation_date') }}
            > x.as_of_date
            then null
        when o.churned_on < {{ dbt.dateadd('day', var('lead_days'), 'o.observation_date') }}
            then null
        when o.churned_on < {{ dbt.dateadd('day', var('horizon_days'), 'o.observation_date') }}
            then 1
        else 0
    end as churned_within_horizon,
    -- the outcome the label summarises, for forecast backtests: never a feature
    case when o.churned_on <= x.as_of_date then o.churned_on end as churned_on
from observed as o
cross join as_of as x
inner join {{ ref('int_observation_dates_listed') }} as d on o.observation_date = d.observation_date
inner join {{ ref('fct_account_usage_trends') }} as t
    on o.account_id = t.account_id and o.observation_date = t.observation_date
inner join {{ ref('fct_account_adoption') }} as a
    on o.account_id = a.account_id and o.observation_date = a.observation_date
inner join {{ ref('fct_account_support') }} as s
    on o.account_id = s.account_id and o.observation_date = s.observation_date
inner join {{ ref('fct_account_nps') }} as n
    on o.account_id = n.account_id and o.observation_date = n.observation_date
inner join {{ ref('fct_account_billing') }} as p
    on o.account_id = p.account_id and o.observation_date = p.observation_date
inner join {{ ref('fct_account_health') }} as h
    on o.account_id = h.account_id and o.observation_date = h.observation_date
inner join {{ ref('fct_account_onboarding_milestones') }} as m on o.account_id = m.account_id
left join {{ ref('fct_cohort_baselines') }} as b
    on o.observation_date = b.observation_date and o.segment = b.segment and o.plan = b.plan
