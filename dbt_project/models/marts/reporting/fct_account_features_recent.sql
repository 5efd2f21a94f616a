-- Grain: one row per account per feature used in the 30 days before the as-of date or,
-- for a churned account, before its churn. Ranked by days used, then events: an outreach
-- draft's value reminder names an account's top three (DOMAIN.md §10; for win-back, what
-- they relied on before leaving) and the account page lists its adoption.
with windows as (
    select
        account_id,
        coalesce(churned_on, as_of_date) as window_end
    from {{ ref('dim_accounts') }}
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
