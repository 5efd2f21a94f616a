-- Grain: one row per account per observation date (month starts, plus the as-of date
-- used for scoring). Usage features come only from days strictly before the
-- observation date; the label looks forward and is null where the horizon has not
-- fully passed yet or the account was already in the act of cancelling.
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

daily as (
    select * from {{ ref('fct_account_daily_usage') }}
),

history as (
    select min(activity_date) as first_day from daily
),

candidate_dates as (
    select distinct cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as observation_date
    from daily
    union
    select as_of_date from as_of
),

observation_dates as (
    select
        d.observation_date,
        d.observation_date = o.as_of_date as is_scoring_row
    from candidate_dates as d
    cross join as_of as o
    cross join history as h
    where
        d.observation_date >= {{ dbt.dateadd('day', 120, 'h.first_day') }}
        and d.observation_date <= o.as_of_date
),

period_in_force as (
    -- plan, term, seats and MRR as billed on the observation date (point in time: the
    -- CRM's current values would leak later up- and downgrades into past rows)
    select
        d.observation_date,
        p.account_id,
        p.plan,
        p.contract_term,
        p.seats,
        p.mrr
    from observation_dates as d
    inner join {{ ref('stg_billing__subscriptions') }} as p
        on
            d.observation_date > p.start_date
            and (p.end_date is null or d.observation_date <= p.end_date)
    qualify
        row_number() over (
            partition by d.observation_date, p.account_id order by p.start_date desc
        ) = 1
),

observed_accounts as (
    -- accounts inside a subscription spell on the observation date; the spell's end
    -- (null while it runs) is the churn the label looks for
    select
        d.observation_date,
        d.is_scoring_row,
        a.account_id,
        a.segment,
        coalesce(p.plan, a.plan) as plan,
        coalesce(p.contract_term, a.contract_term) as contract_term,
        coalesce(p.seats, a.seats) as seats,
        coalesce(p.mrr, a.mrr) as mrr,
        a.signup_date,
        s.spell_end as churned_on
    from observation_dates as d
    inner join {{ ref('int_subscription_spells_grouped') }} as s
        on
            d.observation_date > s.spell_start
            and (s.spell_end is null or d.observation_date <= s.spell_end)
    inner join {{ ref('dim_accounts') }} as a
        on
            s.account_id = a.account_id
            -- brand-new accounts are scored but too young to learn from
            and (
                d.is_scoring_row
                or a.signup_date
                <= {{ dbt.dateadd('day', -var('min_tenure_days'), 'd.observation_date') }}
            )
    left join period_in_force as p
        on d.observation_date = p.observation_date and s.account_id = p.account_id
),

usage_window as (
    {%- set last_30 = "u.activity_date >= " ~ dbt.dateadd('day', -30, 'o.observation_date') %}
    select
        o.account_id,
        o.observation_date,
        coalesce(sum(u.logins) filter (where {{ last_30 }}), 0) as logins_30d,
        coalesce(sum(u.logins) filter (where not {{ last_30 }}), 0) as logins_prior_90d,
        count(*) filter (where {{ last_30 }}) as active_days_30d,
        coalesce(sum(u.core_actions) filter (where {{ last_30 }}), 0) as core_actions_30d,
        coalesce(sum(u.core_actions) filter (where not {{ last_30 }}), 0)
            as core_actions_prior_90d,
        coalesce(sum(u.session_minutes) filter (where {{ last_30 }}), 0) as session_minutes_30d,
        coalesce(sum(u.active_users) filter (where {{ last_30 }}), 0) / 30.0
            as avg_daily_active_users_30d,
        max(u.distinct_features) filter (where {{ last_30 }}) as max_daily_features_30d,
        max(u.activity_date) as last_activity_date
    from observed_accounts as o
    inner join daily as u
        on
            o.account_id = u.account_id
            and u.activity_date >= {{ dbt.dateadd('day', -120, 'o.observation_date') }}
            and o.observation_date > u.activity_date
    group by o.account_id, o.observation_date
)

select
    o.account_id,
    o.observation_date,
    o.is_scoring_row,
    o.segment,
    o.plan,
    o.contract_term,
    o.seats,
    o.mrr,
    {{ dbt.datediff('o.signup_date', 'o.observation_date', 'day') }} as tenure_days,
    case
        when o.contract_term = 'annual'
            then 365 - {{ dbt.datediff('o.signup_date', 'o.observation_date', 'day') }} % 365
        else 30 - {{ dbt.datediff('o.signup_date', 'o.observation_date', 'day') }} % 30
    end as days_to_renewal,
    coalesce(w.logins_30d, 0) as logins_30d,
    coalesce(w.logins_prior_90d, 0) / 3.0 as logins_prior_90d_monthly,
    (coalesce(w.logins_30d, 0) - w.logins_prior_90d / 3.0)
    / nullif(w.logins_prior_90d / 3.0, 0) as login_trend,
    coalesce(w.active_days_30d, 0) as active_days_30d,
    coalesce(w.core_actions_30d, 0) as core_actions_30d,
    (coalesce(w.core_actions_30d, 0) - w.core_actions_prior_90d / 3.0)
    / nullif(w.core_actions_prior_90d / 3.0, 0) as core_action_trend,
    coalesce(w.session_minutes_30d, 0) as session_minutes_30d,
    coalesce(w.avg_daily_active_users_30d, 0) as avg_daily_active_users_30d,
    coalesce(w.avg_daily_active_users_30d, 0) / nullif(o.seats, 0) as active_user_share_30d,
    coalesce(w.max_daily_features_30d, 0) as max_daily_features_30d,
    w.last_activity_date,
    coalesce(
        {{ dbt.datediff('w.last_activity_date', 'o.observation_date', 'day') }}, 121
    ) as days_since_last_activity,
    case
        when {{ dbt.dateadd('day', var('horizon_days'), 'o.observation_date') }} > a.as_of_date
            then null
        when o.churned_on < {{ dbt.dateadd('day', var('lead_days'), 'o.observation_date') }}
            then null
        -- an end this recent may still be followed by a re-sign within the gap: unknown yet
        when o.churned_on > {{ dbt.dateadd('day', -var('resign_gap_days'), 'a.as_of_date') }}
            then null
        when o.churned_on < {{ dbt.dateadd('day', var('horizon_days'), 'o.observation_date') }}
            then 1
        else 0
    end as churned_within_horizon
from observed_accounts as o
cross join as_of as a
left join usage_window as w
    on o.account_id = w.account_id and o.observation_date = w.observation_date
