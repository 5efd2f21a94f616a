-- One row per account with subscription history: its latest spell decides whether it
-- has churned, and that spell's churn event (int_churn_events_classified) says why.
with spells as (
    select
        *,
        row_number() over (partition by account_id order by spell_number desc) as recency_rank,
        count(*) over (partition by account_id) as spells
    from {{ ref('int_subscription_spells_grouped') }}
)

select
    s.account_id,
    s.spells as subscription_spells,
    s.spells > 1 as was_won_back,
    s.spell_end is not null as has_churned,
    s.spell_end as churned_on,
    c.churn_reason,
    c.churn_type,
    s.max_mrr as peak_spell_mrr
from spells as s
left join {{ ref('int_churn_events_classified') }} as c
    on s.account_id = c.account_id and s.spell_number = c.spell_number
where s.recency_rank = 1
