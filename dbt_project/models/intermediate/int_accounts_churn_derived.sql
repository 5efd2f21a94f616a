-- One row per account with subscription history: churn is derived from subscription
-- periods (no period still running => churned on the last period's end date), not
-- from cancellation records alone.
with periods as (
    select
        account_id,
        end_date,
        cancel_reason,
        mrr,
        row_number() over (
            partition by account_id order by coalesce(end_date, cast('9999-12-31' as date)) desc
        ) as recency_rank
    from {{ ref('stg_billing__subscriptions') }}
),

per_account as (
    select
        account_id,
        count(*) as subscription_periods,
        sum(case when end_date is null then 1 else 0 end) as open_periods,
        max(end_date) as last_end_date
    from periods
    group by account_id
)

select
    a.account_id,
    a.subscription_periods,
    a.open_periods = 0 as has_churned,
    case when a.open_periods = 0 then a.last_end_date end as churned_on,
    case when a.open_periods = 0 then coalesce(p.cancel_reason, 'unknown') end as churn_reason,
    case
        when a.open_periods > 0 then null
        when p.cancel_reason = 'payment_failure' then 'involuntary'
        else 'voluntary'
    end as churn_type,
    p.mrr as last_mrr
from per_account as a
inner join periods as p on a.account_id = p.account_id and p.recency_rank = 1
