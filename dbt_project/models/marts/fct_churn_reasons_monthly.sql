-- Grain: one row per calendar month per churn type per reason: who left and why
-- (DOMAIN.md §8: price, missing features, technical problems, support, competitor, no
-- longer needed, payment failure; 'unknown' when neither a cancellation nor failed
-- payments explain it).
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

account_months as (
    -- a churn within the re-sign gap of the as-of date may still be undone
    select
        m.*,
        coalesce(
            m.churned_on > {{ dbt.dateadd('day', -var('resign_gap_days'), 'a.as_of_date') }}, false
        ) as is_provisional_churn
    from {{ ref('fct_account_mrr_monthly') }} as m
    cross join as_of as a
)

select
    month_start,
    churn_type,
    churn_reason,
    count(*) as churned_customers,
    sum(churned_mrr) as churned_mrr,
    coalesce(bool_or(is_provisional_churn), false) as is_provisional
from account_months
where movement = 'churn'
group by month_start, churn_type, churn_reason
