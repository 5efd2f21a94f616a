-- Grain: one row per signup-month cohort per month since signup (0 = the signup
-- month). Logo retention = cohort accounts still paying at that month's end / cohort
-- size (never above 1); revenue retention = their MRR / the cohort's MRR at the end of
-- its first month (above 1 when expansion outgrows churn).
with monthly as (
    select
        m.account_id,
        m.month_start,
        m.mrr_end,
        cast({{ dbt.date_trunc('month', 'a.signup_date') }} as date) as cohort_month
    from {{ ref('fct_account_mrr_monthly') }} as m
    inner join {{ ref('stg_crm__accounts') }} as a on m.account_id = a.account_id
),

aged as (
    select
        *,
        {{ dbt.datediff('cohort_month', 'month_start', 'month') }} as months_since_signup
    from monthly
    where month_start >= cohort_month
),

cohort_base as (
    select
        cohort_month,
        count(distinct account_id) as cohort_accounts,
        sum(case when months_since_signup = 0 then mrr_end else 0 end) as cohort_start_mrr
    from aged
    group by cohort_month
)

select
    a.cohort_month,
    a.months_since_signup,
    b.cohort_accounts,
    count(case when a.mrr_end > 0 then 1 end) as retained_accounts,
    count(case when a.mrr_end > 0 then 1 end) * 1.0 / b.cohort_accounts as logo_retention,
    b.cohort_start_mrr,
    sum(a.mrr_end) as retained_mrr,
    sum(a.mrr_end) / nullif(b.cohort_start_mrr, 0) as revenue_retention
from aged as a
inner join cohort_base as b on a.cohort_month = b.cohort_month
group by a.cohort_month, a.months_since_signup, b.cohort_accounts, b.cohort_start_mrr
