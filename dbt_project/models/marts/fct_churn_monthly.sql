-- Grain: one row per calendar month per segment (segment as in the CRM at month end).
-- Logo churn rate = customers lost in the month / customers at its start (DOMAIN.md §8),
-- split voluntary / involuntary; MRR movements and gross / net revenue retention.
-- A re-sign within var('resign_gap_days') is not churn (it stays inside one spell).
-- Months whose churn may still be undone by a re-sign are marked provisional.
select
    month_start,
    segment,
    count(case when mrr_start > 0 then 1 end) as customers_start,
    count(case when mrr_end > 0 then 1 end) as customers_end,
    count(case when movement = 'new' then 1 end) as new_customers,
    count(case when movement = 'reactivation' then 1 end) as reactivated_customers,
    count(case when movement = 'churn' then 1 end) as churned_customers,
    count(case when movement = 'churn' and churn_type = 'voluntary' then 1 end)
        as voluntary_churned_customers,
    count(case when movement = 'churn' and churn_type = 'involuntary' then 1 end)
        as involuntary_churned_customers,
    count(case when movement = 'contraction' then 1 end) as downgraded_customers,
    count(case when movement = 'churn' then 1 end) * 1.0
    / nullif(count(case when mrr_start > 0 then 1 end), 0) as logo_churn_rate,
    sum(mrr_start) as mrr_start,
    sum(new_mrr) as new_mrr,
    sum(expansion_mrr) as expansion_mrr,
    sum(contraction_mrr) as contraction_mrr,
    sum(churned_mrr) as churned_mrr,
    sum(reactivation_mrr) as reactivation_mrr,
    sum(mrr_end) as mrr_end,
    (sum(mrr_start) - sum(contraction_mrr) - sum(churned_mrr)) / nullif(sum(mrr_start), 0)
        as gross_revenue_retention,
    (sum(mrr_start) + sum(expansion_mrr) - sum(contraction_mrr) - sum(churned_mrr))
    / nullif(sum(mrr_start), 0) as net_revenue_retention,
    coalesce(bool_or(churned_on > {{ provisional_churn_after() }}), false) as is_provisional
from {{ ref('fct_account_mrr_monthly') }}
group by month_start, segment
