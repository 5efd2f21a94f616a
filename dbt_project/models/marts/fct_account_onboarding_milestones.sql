-- Grain: one row per account. The three onboarding milestones (DOMAIN.md §3): a core
-- feature used within var('metrics').milestones.onboarding_days of signup, a first core
-- action (first value) within first_value_days, a second feature adopted within
-- second_feature_days. Status as of the as-of date: done, missed, pending (deadline not
-- reached yet) or not_observed (signed up before the usage history starts, so the
-- early days cannot be seen). The dates let point-in-time readers judge any earlier day.
-- Feature firsts come from the incremental int_account_feature_adoptions_listed.
{%- set ms = var('metrics')['milestones'] %}
{%- set milestones = {
    'onboarding': ('first_core_feature_date', ms['onboarding_days']),
    'first_value': ('first_core_action_date', ms['first_value_days']),
    'second_feature': ('second_feature_date', ms['second_feature_days']),
} %}
with history as (
    select
        min(activity_date) as first_day,
        {{ as_of_date() }} as as_of_date
    from {{ ref('fct_account_daily_usage') }}
),

feature_ranks as (
    select
        account_id,
        feature,
        is_core_feature,
        first_used_date as first_used,
        row_number() over (partition by account_id order by first_used_date, feature)
            as adoption_rank
    from {{ ref('int_account_feature_adoptions_listed') }}
),

firsts as (
    select
        a.account_id,
        a.signup_date,
        min(case when f.is_core_feature then f.first_used end) as first_core_feature_date,
        min(case when f.adoption_rank = 2 then f.first_used end) as second_feature_date
    from {{ ref('dim_accounts') }} as a
    left join feature_ranks as f on a.account_id = f.account_id
    group by a.account_id, a.signup_date
),

core_actions as (
    select
        account_id,
        min(activity_date) as first_core_action_date
    from {{ ref('fct_account_daily_usage') }}
    where core_actions > 0
    group by account_id
)

select
    f.account_id,
    f.signup_date,
    f.first_core_feature_date,
    c.first_core_action_date,
    f.second_feature_date,
    {%- for name, (column, days) in milestones.items() %}
        {{ dbt.dateadd('day', days, 'f.signup_date') }} as {{ name }}_deadline,
        case
            when f.signup_date < h.first_day then 'not_observed'
            when {{ column }} <= {{ dbt.dateadd('day', days, 'f.signup_date') }} then 'done'
            when {{ dbt.dateadd('day', days, 'f.signup_date') }} < h.as_of_date then 'missed'
            else 'pending'
        end as {{ name }}_status,
    {%- endfor %}
    h.as_of_date
from firsts as f
cross join history as h
left join core_actions as c on f.account_id = c.account_id
