-- One row per account per observation date on which the account is inside a
-- subscription spell, with its attributes as they were then: segment and CSM from the
-- newest CRM snapshot before the date (before an account's first snapshot, that first
-- one: the nearest known), plan, term, seats and MRR from the subscription period in
-- force (today's CRM values would leak later up- and downgrades into past rows).
-- Every account in a spell is observed, however young: the snapshots' is_model_row
-- leaves accounts younger than var('min_tenure_days') out of the model's month starts,
-- while the alert rules (onboarding milestones above all) see them on every night.
-- Incremental by observation date (macro observation_dates_to_build).
{{ config_incremental_by_observation_date() }}

with in_spell as (
    select
        d.observation_date,
        s.account_id,
        s.spell_number,
        s.spell_start
    from {{ ref('int_observation_dates_listed') }} as d
    inner join {{ ref('int_subscription_spells_grouped') }} as s
        on
            d.observation_date > s.spell_start
            and (s.spell_end is null or d.observation_date <= s.spell_end)
    where d.observation_date in ({{ observation_dates_in_scope() }})
),

period_in_force as (
    select
        o.observation_date,
        o.account_id,
        p.plan,
        p.contract_term,
        p.seats,
        p.mrr
    from in_spell as o
    inner join {{ ref('stg_billing__subscriptions') }} as p
        on
            o.account_id = p.account_id
            and o.observation_date > p.start_date
            and o.spell_start <= p.start_date
    -- the newest period started before the date (carried across a re-sign gap)
    qualify
        row_number() over (
            partition by o.observation_date, o.account_id order by p.start_date desc
        ) = 1
),

crm_then as (
    -- the newest snapshot before the date, else the account's first one
    select
        o.observation_date,
        o.account_id,
        c.segment,
        c.csm_owner,
        c.plan,
        c.contract_term,
        c.seats,
        c.mrr
    from in_spell as o
    inner join {{ ref('stg_crm__account_snapshots') }} as c
        {{ crm_snapshot_in_force('o', 'c') }}
)

select
    o.observation_date,
    o.account_id,
    -- no dated CRM snapshot at all (an export without snapshot dates): today's values
    coalesce(c.segment, a.segment) as segment,
    coalesce(c.csm_owner, a.csm_owner) as csm_owner,
    coalesce(p.plan, c.plan, a.plan) as plan,
    coalesce(p.contract_term, c.contract_term, a.contract_term) as contract_term,
    coalesce(p.seats, c.seats, a.seats) as seats,
    coalesce(p.mrr, c.mrr, a.mrr) as mrr,
    a.signup_date,
    {{ dbt.datediff('a.signup_date', 'o.observation_date', 'day') }} as tenure_days,
    o.spell_number,
    {{ inputs_loaded_at() }} as inputs_loaded_at
from in_spell as o
inner join {{ ref('stg_crm__accounts') }} as a on o.account_id = a.account_id
left join period_in_force as p
    on o.observation_date = p.observation_date and o.account_id = p.account_id
left join crm_then as c
    on o.observation_date = c.observation_date and o.account_id = c.account_id
-- a subscription billed before the CRM's signup date (a signup re-dated later) starts
-- being observed at the signup
where a.signup_date <= o.observation_date
