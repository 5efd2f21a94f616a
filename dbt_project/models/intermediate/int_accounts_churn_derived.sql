-- One row per account with subscription history: its latest spell decides whether it
-- has churned. The reason comes from a cancellation record near the spell's end when
-- one exists; otherwise failed payments just before the end mark involuntary churn.
with spells as (
    select
        *,
        row_number() over (partition by account_id order by spell_number desc) as recency_rank,
        count(*) over (partition by account_id) as spells
    from {{ ref('int_subscription_spells_grouped') }}
),

latest as (
    select *
    from spells
    where recency_rank = 1
),

cancellation as (
    select
        l.account_id,
        c.reason,
        c.churn_type,
        row_number() over (partition by l.account_id order by c.requested_at desc) as rn
    from latest as l
    inner join {{ ref('stg_billing__cancellations') }} as c
        on
            l.account_id = c.account_id
            and c.effective_date
            between {{ dbt.dateadd('day', -var('resign_gap_days'), 'l.spell_end') }}
            and {{ dbt.dateadd('day', var('resign_gap_days'), 'l.spell_end') }}
),

failed_payments as (
    select
        l.account_id,
        count(*) filter (where p.status = 'failed') as failed,
        count(*) filter (where p.status = 'paid') as paid
    from latest as l
    inner join {{ ref('stg_billing__payments') }} as p
        on
            l.account_id = p.account_id
            and p.attempted_at >= {{ dbt.dateadd('day', -45, 'l.spell_end') }}
            and p.attempted_at < {{ dbt.dateadd('day', 1, 'l.spell_end') }}
    group by l.account_id
)

select
    l.account_id,
    l.spells as subscription_spells,
    l.spells > 1 as was_won_back,
    l.spell_end is not null as has_churned,
    l.spell_end as churned_on,
    case
        when l.spell_end is null then null
        when c.reason is not null then c.reason
        when f.failed > 0 and f.paid = 0 then 'payment_failure'
        else 'unknown'
    end as churn_reason,
    case
        when l.spell_end is null then null
        when c.churn_type in ('voluntary', 'involuntary') then c.churn_type
        when c.reason = 'payment_failure' or (f.failed > 0 and f.paid = 0) then 'involuntary'
        else 'voluntary'
    end as churn_type,
    l.max_mrr as peak_spell_mrr
from latest as l
left join cancellation as c on l.account_id = c.account_id and c.rn = 1
left join failed_payments as f on l.account_id = f.account_id
