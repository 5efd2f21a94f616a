-- One row per churn (an ended subscription spell, int_churn_events_classified) before
-- the as-of date, with what the win-back list needs about it: the account's lifetime
-- value up to the churn and its value tier (var('winback').value_tiers), the offer its
-- reason maps to (int_winback_offers_listed; 'default' for any other reason), and
-- whether the account came back: the first later spell's start (from billing, before
-- the as-of date), the days it took and the MRR it returned with.
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

churns as (
    select c.*
    from {{ ref('int_churn_events_classified') }} as c
    cross join as_of as o
    where c.churned_on < o.as_of_date
),

returns as (
    -- the spell after the churned one, if it started before the as-of date
    select
        s.account_id,
        s.spell_number - 1 as churned_spell_number,
        s.spell_start as returned_on
    from {{ ref('int_subscription_spells_grouped') }} as s
    cross join as_of as o
    where s.spell_number > 1 and s.spell_start < o.as_of_date
),

returned_mrr as (
    -- the MRR of the first period of the return
    select
        r.account_id,
        r.churned_spell_number,
        max(p.mrr) as returned_mrr
    from returns as r
    inner join {{ ref('stg_billing__subscriptions') }} as p
        on r.account_id = p.account_id and r.returned_on = p.start_date
    group by r.account_id, r.churned_spell_number
),

offers as (
    select * from {{ ref('int_winback_offers_listed') }}
)

select
    c.account_id,
    c.spell_number,
    c.spell_start,
    c.churned_on,
    c.churned_mrr,
    c.churn_reason,
    c.churn_type,
    c.is_provisional,
    v.lifetime_value,
    v.tenure_days,
    v.billed_months,
    v.billed_periods,
    {{ winback_value_tier('v.lifetime_value', 'c.churned_mrr') }} as value_tier,
    coalesce(o.offer_key, d.offer_key) as offer_key,
    coalesce(o.offer_text, d.offer_text) as offer_text,
    coalesce(o.waits_for_product_update, d.waits_for_product_update) as waits_for_product_update,
    r.returned_on,
    {{ dbt.datediff('c.churned_on', 'r.returned_on', 'day') }} as days_to_return,
    m.returned_mrr
from churns as c
inner join {{ ref('int_account_lifetime_value_summed') }} as v
    on c.account_id = v.account_id and c.spell_number = v.spell_number
left join offers as o on c.churn_reason = o.churn_reason
inner join offers as d on d.churn_reason = 'default'
left join returns as r on c.account_id = r.account_id and c.spell_number = r.churned_spell_number
left join returned_mrr as m
    on c.account_id = m.account_id and c.spell_number = m.churned_spell_number
