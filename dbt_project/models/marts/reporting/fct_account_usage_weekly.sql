-- Grain: one row per account per whole week (Monday start) from the account's signup
-- week to the last complete week before the as-of date (or its churn week). Weeks
-- without activity are zeros; the as-of date's partial week is left out (it would read
-- as a dip).
-- What an account page charts: the account's weekly logins against its own baseline
-- (mean of the 13 weeks before) and against its cohort (median of the same segment x
-- plan that week), so a CSM sees whether a dip is the account's or everyone's.
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

usage as (
    select
        d.account_id,
        cast({{ dbt.date_trunc('week', 'd.activity_date') }} as date) as week_start,
        sum(d.logins) as logins,
        sum(d.core_actions) as core_actions,
        count(*) as active_days
    from {{ ref('fct_account_daily_usage') }} as d
    cross join as_of as o
    where
        d.activity_date < o.as_of_date
        and cast({{ dbt.date_trunc('week', 'd.activity_date') }} as date)
        <= {{ dbt.dateadd('day', -7, 'o.as_of_date') }}
    group by d.account_id, cast({{ dbt.date_trunc('week', 'd.activity_date') }} as date)
),

weeks as (
    select distinct week_start from usage
),

accounts as (
    select
        a.account_id,
        a.segment,
        a.plan,
        a.signup_date,
        coalesce(a.churned_on, o.as_of_date) as last_day
    from {{ ref('dim_accounts') }} as a
    cross join as_of as o
),

spine as (
    select
        a.account_id,
        a.segment,
        a.plan,
        w.week_start
    from accounts as a
    inner join weeks as w
        on
            cast({{ dbt.date_trunc('week', 'a.signup_date') }} as date) <= w.week_start
            and a.last_day >= w.week_start
),

filled as (
    select
        s.account_id,
        s.segment,
        s.plan,
        s.week_start,
        coalesce(u.logins, 0) as logins,
        coalesce(u.core_actions, 0) as core_actions,
        coalesce(u.active_days, 0) as active_days
    from spine as s
    left join usage as u on s.account_id = u.account_id and s.week_start = u.week_start
),

baselined as (
    select
        *,
        avg(logins) over (
            partition by account_id order by week_start rows between 13 preceding and 1 preceding
        ) as mean_prior_logins,
        count(*) over (
            partition by account_id order by week_start rows between 13 preceding and 1 preceding
        ) as prior_weeks
    from filled
),

cohort as (
    select
        segment,
        plan,
        week_start,
        median(logins) as cohort_median_logins,
        count(*) as cohort_accounts
    from filled
    group by segment, plan, week_start
)

select
    b.account_id,
    b.week_start,
    b.logins,
    b.core_actions,
    b.active_days,
    case when b.prior_weeks >= 4 then b.mean_prior_logins end as own_baseline_logins,
    c.cohort_median_logins,
    c.cohort_accounts
from baselined as b
inner join cohort as c
    on b.segment = c.segment and b.plan = c.plan and b.week_start = c.week_start
