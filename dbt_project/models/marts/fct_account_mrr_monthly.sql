-- Grain: one row per account per calendar month, from the month its first spell starts
-- to the last complete month before the as-of date. MRR is measured at month end: the
-- newest period started in the spell then in force (carried across a re-sign gap, which
-- is not churn). The month's change is split into exactly one movement:
-- new (first spell starts), reactivation (a later spell starts), expansion, contraction
-- or churn (the spell ended), so start + movements = end for every row.
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

months as (
    select
        cast(date_month as date) as month_start,
        cast({{ dbt.last_day('date_month', 'month') }} as date) as month_end
    from ({{ dbt.date_spine('month', "cast('2000-01-01' as date)", "cast('2100-01-01' as date)") }}) as spine
),

spells as (
    select * from {{ ref('int_subscription_spells_grouped') }}
),

first_starts as (
    select
        account_id,
        min(spell_start) as first_start
    from spells
    group by account_id
),

account_months as (
    select
        s.account_id,
        m.month_start,
        m.month_end
    from first_starts as s
    cross join months as m
    cross join as_of as a
    where
        m.month_end >= s.first_start
        and m.month_end < a.as_of_date
),

in_force as (
    select
        am.account_id,
        am.month_start,
        am.month_end,
        sp.spell_number,
        p.mrr,
        p.seats
    from account_months as am
    inner join spells as sp
        on
            am.account_id = sp.account_id
            and am.month_end >= sp.spell_start
            and (sp.spell_end is null or am.month_end < sp.spell_end)
    inner join {{ ref('stg_billing__subscriptions') }} as p
        on
            sp.account_id = p.account_id
            and sp.spell_start <= p.start_date
            and am.month_end >= p.start_date
    qualify
        row_number() over (
            partition by am.account_id, am.month_start order by p.start_date desc
        ) = 1
),

states as (
    select
        am.account_id,
        am.month_start,
        am.month_end,
        f.spell_number,
        coalesce(f.mrr, 0) as mrr_end,
        coalesce(f.seats, 0) as seats_end,
        coalesce(
            lag(f.mrr) over (partition by am.account_id order by am.month_start), 0
        ) as mrr_start
    from account_months as am
    left join in_force as f on am.account_id = f.account_id and am.month_start = f.month_start
),

classified as (
    select
        *,
        case
            when mrr_start = 0 and mrr_end > 0 and spell_number = 1 then 'new'
            when mrr_start = 0 and mrr_end > 0 then 'reactivation'
            when mrr_start > 0 and mrr_end = 0 then 'churn'
            when mrr_end > mrr_start then 'expansion'
            when mrr_end < mrr_start then 'contraction'
            when mrr_end > 0 then 'unchanged'
            else 'inactive'
        end as movement
    from states
)

select
    c.account_id,
    c.month_start,
    c.month_end,
    coalesce(crm.segment, a.segment) as segment,
    c.mrr_start,
    c.mrr_end,
    c.seats_end,
    c.movement,
    case when c.movement = 'new' then c.mrr_end else 0 end as new_mrr,
    case when c.movement = 'expansion' then c.mrr_end - c.mrr_start else 0 end as expansion_mrr,
    case when c.movement = 'contraction' then c.mrr_start - c.mrr_end else 0 end
        as contraction_mrr,
    case when c.movement = 'churn' then c.mrr_start else 0 end as churned_mrr,
    case when c.movement = 'reactivation' then c.mrr_end else 0 end as reactivation_mrr,
    e.churn_reason,
    e.churn_type,
    coalesce(e.is_provisional, false) as is_provisional_churn
from classified as c
inner join {{ ref('stg_crm__accounts') }} as a on c.account_id = a.account_id
left join {{ ref('int_churn_events_classified') }} as e
    on
        c.movement = 'churn'
        and c.account_id = e.account_id
        and c.month_start <= e.churned_on
        and c.month_end >= e.churned_on
left join {{ ref('stg_crm__account_snapshots') }} as crm
    on
        c.account_id = crm.account_id
        and c.month_end >= crm.snapshot_date
        and (crm.next_snapshot_date is null or c.month_end < crm.next_snapshot_date)
