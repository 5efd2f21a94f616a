-- Reads two models: dagster-dbt attaches it, as an asset check, to the one named here.
{{ config(meta={'dagster': {'ref': {'name': 'fct_churn_monthly'}}}) }}

-- Business invariant: each account-month's movements explain its MRR change exactly,
-- each month starts where the previous one ended, and the monthly churn table adds up
-- (customers and MRR) from the same movements.
with account_months as (
    select
        account_id,
        month_start,
        mrr_start + new_mrr + expansion_mrr - contraction_mrr - churned_mrr + reactivation_mrr
        - mrr_end as unexplained,
        mrr_start - lag(mrr_end, 1, 0) over (partition by account_id order by month_start)
            as discontinuity
    from {{ ref('fct_account_mrr_monthly') }}
),

months as (
    select
        month_start,
        segment,
        mrr_start + new_mrr + expansion_mrr - contraction_mrr - churned_mrr + reactivation_mrr
        - mrr_end as unexplained,
        customers_start + new_customers + reactivated_customers - churned_customers
        - customers_end as discontinuity
    from {{ ref('fct_churn_monthly') }}
)

select
    'account' as checked_level,
    account_id as checked_item,
    month_start,
    unexplained,
    discontinuity
from account_months
where abs(unexplained) > 0.005 or abs(discontinuity) > 0.005
union all
select
    'segment' as checked_level,
    segment as checked_item,
    month_start,
    unexplained,
    discontinuity
from months
where abs(unexplained) > 0.005 or discontinuity != 0
