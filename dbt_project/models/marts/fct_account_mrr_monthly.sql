-- Grain: one row per account per calendar month, from the month its first spell starts
-- to the last complete month before the as-of date. MRR is measured at month end: the
-- newest period started in the spell then in force (carried across a re-sign gap, which
-- is not churn). The month's change is split into exactly one movement:
-- new (first spell starts), reactivation (a later spell starts), expansion, contraction
-- or churn (the spell ended), so start + movements = end for every row.
--
-- Incremental by month: a run rebuilds the months not stored yet and every month ending
-- on or after the earliest day that subscriptions, CRM snapshots, cancellations or
-- payments loaded since the last run reach (int_source_changes_listed). Older months are
-- final. Whether a churn is still provisional (a re-sign may undo it) changes with the
-- as-of date alone, so readers work it out from churned_on (fct_churn_monthly does).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month_start',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where month_end >= {{ as_of_date() }}"
            ~ " or month_end < (select min(spell_start) from "
            ~ "{{ ref('int_subscription_spells_grouped') }})",
    )
}}

with as_of as (
    select {{ as_of_date() }} as as_of_date
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

months as (
    -- the calendar months from the first spell's to the last complete one
    select
        cast(spine.date_month as date) as month_start,
        cast({{ dbt.last_day('spine.date_month', 'month') }} as date) as month_end
    from ({{ dbt.date_spine('month', "cast('2000-01-01' as date)", "cast('2100-01-01' as date)") }}) as spine
    cross join as_of as a
    where
        cast({{ dbt.last_day('spine.date_month', 'month') }} as date) < a.as_of_date
        and cast({{ dbt.last_day('spine.date_month', 'month') }} as date)
        >= (select min(f.first_start) from first_starts as f)
),

months_to_build as (
    select
        m.month_start,
        m.month_end
    from months as m
    {%- if is_incremental() %}
        where
            m.month_start not in (select done.month_start from {{ this }} as done)
            or m.month_end >= (
                select cast({{ dbt.dateadd('day', -1, 'min(c.first_affected_date)') }} as date)
                from {{ ref('int_source_changes_listed') }} as c
                where
                    c.source_name in (
                        'subscriptions', 'accounts', 'cancellations', 'payments', 'configuration'
                    )
                    and c.loaded_at > (select max(done.inputs_loaded_at) from {{ this }} as done)
            )
    {%- endif %}
),

account_months as (
    -- the months to build and the month before each (its end is the next one's start)
    select
        s.account_id,
        m.month_start,
        m.month_end
    from first_starts as s
    inner join months as m on s.first_start <= m.month_end
    where
        m.month_start >= (
            select cast({{ dbt.dateadd('month', -1, 'min(b.month_start)') }} as date)
            from months_to_build as b
        )
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
    e.churned_on,
    {{ inputs_loaded_at() }} as inputs_loaded_at
from classified as c
inner join {{ ref('stg_crm__accounts') }} as a on c.account_id = a.account_id
left join {{ ref('int_churn_events_classified') }} as e
    on
        c.movement = 'churn'
        and c.account_id = e.account_id
        and c.month_start <= e.churned_on
        and c.month_end >= e.churned_on
-- the CRM snapshot describing the month end (before the first one: that first one)
left join {{ ref('stg_crm__account_snapshots') }} as crm
    on
        c.account_id = crm.account_id
        and (c.month_end >= crm.snapshot_date or crm.previous_snapshot_date is null)
        and (crm.next_snapshot_date is null or c.month_end < crm.next_snapshot_date)
where c.month_start in (select b.month_start from months_to_build as b)
