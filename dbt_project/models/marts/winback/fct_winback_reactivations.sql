-- Grain: one row per offer key x customer segment x value tier, over every churn (an
-- ended subscription spell) before the as-of date that is no longer provisional (a spell
-- that ended within var('resign_gap_days') may still continue). A churn is reactivated
-- when a later spell of the account started (from billing, int_subscription_spells_grouped).
-- The offer is the one the churn's reason maps to in var('winback').offers: what the
-- win-back list offers that reason, so the rates compare offers (DOMAIN.md §9: measure
-- reactivation rate per offer). Segment is the account's current CRM segment; the value
-- tier is the lifetime value billed up to the churn.
{%- set last_touch = var('winback')['touch_days'][-1] %}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

churns as (
    select
        c.offer_key,
        a.segment,
        c.value_tier,
        c.churned_mrr,
        c.returned_on,
        c.days_to_return,
        c.returned_mrr
    from {{ ref('int_winback_churns_listed') }} as c
    inner join {{ ref('dim_accounts') }} as a on c.account_id = a.account_id
    where not c.is_provisional
)

select
    c.offer_key,
    c.segment,
    c.value_tier,
    count(*) as churns,
    count(c.returned_on) as reactivated,
    count(case when c.days_to_return <= {{ last_touch }} then 1 end) as reactivated_in_cadence,
    cast(count(c.returned_on) as double) / count(*) as reactivation_rate,
    cast(median(c.days_to_return) as double) as median_days_to_return,
    round(cast(sum(c.churned_mrr) as double), 2) as churned_mrr,
    round(cast(coalesce(sum(c.returned_mrr), 0) as double), 2) as returned_mrr,
    o.as_of_date
from churns as c
cross join as_of as o
group by c.offer_key, c.segment, c.value_tier, o.as_of_date
