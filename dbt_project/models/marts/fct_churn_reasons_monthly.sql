-- Grain: one row per calendar month per churn type per reason: who left and why
-- (DOMAIN.md §8: price, missing features, technical problems, support, competitor, no
-- longer needed, payment failure; 'unknown' when neither a cancellation nor failed
-- payments explain it).
select
    month_start,
    churn_type,
    churn_reason,
    count(*) as churned_customers,
    sum(churned_mrr) as churned_mrr,
    coalesce(bool_or(churned_on > {{ provisional_churn_after() }}), false) as is_provisional
from {{ ref('fct_account_mrr_monthly') }}
where movement = 'churn'
group by month_start, churn_type, churn_reason
