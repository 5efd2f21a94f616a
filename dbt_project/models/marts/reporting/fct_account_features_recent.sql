-- Grain: one row per account per feature used in the account's last 30 active days
-- before the as-of date: the 30 days before the as-of date, before its churn for a
-- churned account, or before its newest feature use for one that went quiet. Ranked by
-- days used, then events: an outreach draft's value reminder names an account's top
-- three (DOMAIN.md §10; for win-back, what they relied on before leaving) and the
-- account page lists its adoption.
with last_use as (
    select
        f.account_id,
        max(f.activity_date) as last_used_on
    from {{ ref('fct_account_feature_daily_usage') }} as f
    inner join {{ ref('dim_accounts') }} as a on f.account_id = a.account_id
    where f.activity_date < coalesce(a.churned_on, a.as_of_date)
    group by f.account_id
),

windows as (
    select
        l.account_id,
        {{ dbt.dateadd('day', 1, 'l.last_used_on') }} as window_end
    from last_use as l
),

recent as (
    select
        f.account_id,
        f.feature,
        max(case when f.is_core_feature then 1 else 0 end) = 1 as is_core_feature,
        count(*) as days_used,
        sum(f.feature_events) as feature_events,
        max(f.activity_date) as last_used_on
    from {{ ref('fct_account_feature_daily_usage') }} as f
    inner join windows as w on f.account_id = w.account_id
    where
        f.activity_date < w.window_end
        and f.activity_date >= {{ dbt.dateadd('day', -30, 'w.window_end') }}
    group by f.account_id, f.feature
)

select
    account_id,
    feature,
    is_core_feature,
    days_used,
    feature_events,
    last_used_on,
    row_number() over (
        partition by account_id order by days_used desc, feature_events desc, feature asc
    ) as usage_rank
from recent
