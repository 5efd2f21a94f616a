-- One row per account per subscription spell that started before the as-of date: what
-- the spell billed, and what the account was billed over all its spells up to the end
-- of this one (the lifetime value the win-back list segments on).
--
-- A spell bills once a month: on its first day and on each monthly anniversary of it
-- before its end (or before the as-of date while it runs), at the MRR of the period in
-- force that day (the newest period started by then, carried across a re-sign gap), so
-- a plan change re-prices the next month instead of opening a new one. Annual terms are
-- summed by the month too (their revenue as it is earned). Billing periods count the
-- invoices by term: every month on a monthly term, every twelfth month from the spell's
-- start on an annual one (a renewal is a second period). From the subscription periods,
-- not the payments: the billing export holds every period since signup, while a
-- payments export is optional and may cover only recent months.
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

spells as (
    select
        s.account_id,
        s.spell_number,
        s.spell_start,
        s.spell_end,
        least(coalesce(s.spell_end, o.as_of_date), o.as_of_date) as billed_until,
        {{ dbt.datediff(
            's.spell_start', 'least(coalesce(s.spell_end, o.as_of_date), o.as_of_date)', 'month'
        ) }} as month_boundaries
    from {{ ref('int_subscription_spells_grouped') }} as s
    cross join as_of as o
    where s.spell_start < o.as_of_date
),

month_offsets as (
    -- up to 50 years of months
    select generated_number - 1 as month_offset
    from ({{ dbt.generate_series(600) }}) as series
),

billing_days as (
    -- the spell's first day and monthly anniversaries before billed_until
    select
        s.account_id,
        s.spell_number,
        s.spell_start,
        m.month_offset,
        cast({{ dbt.dateadd('month', 'm.month_offset', 's.spell_start') }} as date) as billed_on
    from spells as s
    inner join month_offsets as m on s.month_boundaries >= m.month_offset
    where {{ dbt.dateadd('month', 'm.month_offset', 's.spell_start') }} < s.billed_until
),

billed as (
    select
        d.account_id,
        d.spell_number,
        d.month_offset,
        p.mrr,
        -- the period's term, else the CRM's (contract_term is optional in billing)
        coalesce(
            {{ contract_term_months('p.contract_term') }},
            {{ contract_term_months('a.contract_term') }},
            1
        ) as term_months
    from billing_days as d
    inner join {{ ref('stg_billing__subscriptions') }} as p
        on
            d.account_id = p.account_id
            and d.billed_on >= p.start_date
            and d.spell_start <= p.start_date
    left join {{ ref('stg_crm__accounts') }} as a on d.account_id = a.account_id
    qualify
        row_number() over (
            partition by d.account_id, d.spell_number, d.month_offset
            order by p.start_date desc, p.end_date desc nulls first
        ) = 1
),

per_spell as (
    select
        s.account_id,
        s.spell_number,
        s.spell_start,
        s.spell_end,
        count(b.month_offset) as spell_billed_months,
        count(
            case when mod(b.month_offset, b.term_months) = 0 then 1 end
        ) as spell_billed_periods,
        cast(coalesce(sum(b.mrr), 0) as double) as spell_billed_value,
        greatest({{ dbt.datediff('s.spell_start', 's.billed_until', 'day') }}, 0) as spell_days
    from spells as s
    left join billed as b on s.account_id = b.account_id and s.spell_number = b.spell_number
    group by s.account_id, s.spell_number, s.spell_start, s.spell_end, s.billed_until
)

select
    account_id,
    spell_number,
    spell_start,
    spell_end,
    spell_billed_months,
    spell_billed_periods,
    spell_billed_value,
    spell_days,
    cast(sum(spell_billed_months) over account_spells as bigint) as billed_months,
    cast(sum(spell_billed_periods) over account_spells as bigint) as billed_periods,
    cast(sum(spell_billed_value) over account_spells as double) as lifetime_value,
    cast(sum(spell_days) over account_spells as bigint) as tenure_days
from per_spell
window account_spells as (
    partition by account_id order by spell_number rows between unbounded preceding and current row
)
