-- One row per ended subscription spell (a churn), with its reason and type. The reason
-- comes from a cancellation record near the spell's end when one exists; otherwise
-- failed payments just before the end mark involuntary churn; otherwise 'unknown'.
-- An end within var('resign_gap_days') of the as-of date is provisional: the account
-- may still re-sign and continue the spell.
with ended as (
    select
        s.account_id,
        s.spell_number,
        s.spell_start,
        s.spell_end as churned_on,
        s.last_mrr as churned_mrr
    from {{ ref('int_subscription_spells_grouped') }} as s
    where s.spell_end is not null
),

cancellation as (
    select
        e.account_id,
        e.spell_number,
        c.reason,
        c.churn_type,
        row_number() over (
            partition by e.account_id, e.spell_number order by c.requested_at desc
        ) as recency_rank
    from ended as e
    inner join {{ ref('stg_billing__cancellations') }} as c
        on
            e.account_id = c.account_id
            and c.effective_date
            between {{ dbt.dateadd('day', -var('resign_gap_days'), 'e.churned_on') }}
            and {{ dbt.dateadd('day', var('resign_gap_days'), 'e.churned_on') }}
),

payments as (
    select
        e.account_id,
        e.spell_number,
        count(case when p.status = 'failed' then 1 end) as failed,
        count(case when p.status = 'paid' then 1 end) as paid
    from ended as e
    inner join {{ ref('stg_billing__payments') }} as p
        on
            e.account_id = p.account_id
            and p.attempted_at >= {{ dbt.dateadd('day', -45, 'e.churned_on') }}
            and p.attempted_at < {{ dbt.dateadd('day', 1, 'e.churned_on') }}
    group by e.account_id, e.spell_number
)

select
    e.account_id,
    e.spell_number,
    e.spell_start,
    e.churned_on,
    e.churned_mrr,
    coalesce(
        c.reason,
        case when p.failed > 0 and p.paid = 0 then 'payment_failure' end,
        'unknown'
    ) as churn_reason,
    case
        when c.churn_type in ('voluntary', 'involuntary') then c.churn_type
        when c.reason = 'payment_failure' or (p.failed > 0 and p.paid = 0) then 'involuntary'
        else 'voluntary'
    end as churn_type,
    e.churned_on > {{ provisional_churn_after() }} as is_provisional
from ended as e
left join cancellation as c
    on e.account_id = c.account_id and e.spell_number = c.spell_number and c.recency_rank = 1
left join payments as p on e.account_id = p.account_id and e.spell_number = p.spell_number
