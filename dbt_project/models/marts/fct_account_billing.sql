-- Grain: one row per account per observation date. Payment health and contract timing
-- as known on the date: failed payment attempts in the last
-- var('metrics').payment_lookback_days (and how many were paid), the newest failure and
-- whether a paid attempt has followed it, a cancellation
-- already requested but not yet effective, and days to the next renewal. Incremental by
-- observation date (macro observation_dates_to_build).
{%- set lookback = var('metrics')['payment_lookback_days'] %}
{{ config_incremental_by_observation_date() }}

with observed as (
    select
        account_id,
        observation_date,
        contract_term,
        signup_date
    from {{ ref('int_account_observations_listed') }}
    where observation_date in ({{ observation_dates_in_scope() }})
),

payments as (
    select
        o.account_id,
        o.observation_date,
        count(case when p.status = 'failed' then 1 end) as failed_payments,
        count(case when p.status = 'paid' then 1 end) as paid_payments,
        max(case when p.status = 'failed' then p.attempted_at end) as last_failed_payment_at,
        max(case when p.status = 'paid' then p.attempted_at end) as last_paid_payment_at
    from observed as o
    inner join {{ ref('stg_billing__payments') }} as p
        on
            o.account_id = p.account_id
            and o.observation_date > p.attempted_at
            and p.attempted_at >= {{ dbt.dateadd('day', -lookback, 'o.observation_date') }}
    group by o.account_id, o.observation_date
),

pending_cancellations as (
    select distinct
        o.account_id,
        o.observation_date
    from observed as o
    inner join {{ ref('stg_billing__cancellations') }} as c
        on
            o.account_id = c.account_id
            and o.observation_date > c.requested_at
            and o.observation_date <= c.effective_date
)

select
    o.account_id,
    o.observation_date,
    p.failed_payments is not null as has_payment_history,
    coalesce(p.failed_payments, 0) as failed_payments,
    coalesce(p.paid_payments, 0) as paid_payments,
    p.last_failed_payment_at,
    -- the newest attempt in the lookback failed: the failure is still unresolved
    coalesce(
        p.last_failed_payment_at > p.last_paid_payment_at
        or (p.last_failed_payment_at is not null and p.last_paid_payment_at is null),
        false
    ) as has_unresolved_payment_failure,
    c.account_id is not null as has_pending_cancellation,
    {%- set term_days = contract_term_days('o.contract_term') %}
    -- the next anniversary of the signup in whole terms (accounts.contract_terms)
    {{ term_days }}
    - {{ dbt.datediff('o.signup_date', 'o.observation_date', 'day') }} % ({{ term_days }})
        as days_to_renewal,
    {{ inputs_loaded_at([ref('int_account_observations_listed')]) }} as inputs_loaded_at
from observed as o
left join payments as p on o.account_id = p.account_id and o.observation_date = p.observation_date
left join pending_cancellations as c
    on o.account_id = c.account_id and o.observation_date = c.observation_date
