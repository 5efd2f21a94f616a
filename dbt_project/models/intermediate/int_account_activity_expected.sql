-- One row per account per observation date: the usage windows measured against the
-- activity expected in them. A window's expected activity days are the sum of each
-- day's expected share of normal activity (int_country_activity_days_listed: 1, less
-- on the account's country's public holidays and the company's breaks), so a holiday dip
-- is not read as a decline and a week of holidays is not a week of silence. Windows
-- count only the days the account existed, as fct_account_usage_trends does. A view:
-- lookups of running totals, read date by date by the health mart and the alert signals.
with observed as (
    select
        o.account_id,
        o.observation_date,
        coalesce(a.country, '') as country,
        {{ usage_window_days('o.tenure_days') }}
    from {{ ref('int_account_observations_listed') }} as o
    inner join {{ ref('stg_crm__accounts') }} as a on o.account_id = a.account_id
),

calendar as (
    select * from {{ ref('int_country_activity_days_listed') }}
),

expected as (
    select
        o.account_id,
        o.observation_date,
        o.country,
        w.logins_7d,
        w.logins_30d,
        w.logins_prior_90d,
        -- rounded: differences of long running sums of doubles drift in the last digits
        round(d1.expected_days_through - d8.expected_days_through, 6) as expected_days_7d,
        round(d1.expected_days_through - s30.expected_days_through, 6) as expected_days_30d,
        round(s30.expected_days_through - s120.expected_days_through, 6)
            as expected_days_prior_90d,
        -- the night itself counts as one normal day, so that without holidays these equal
        -- the days since the last login / core action
        round(d1.expected_days_through - ll.expected_days_through + 1, 6)
            as expected_days_since_last_login,
        round(d1.expected_days_through - lc.expected_days_through + 1, 6)
            as expected_days_since_last_core_action
    from observed as o
    left join {{ ref('int_account_usage_windows_aggregated') }} as w
        on o.account_id = w.account_id and o.observation_date = w.observation_date
    left join calendar as d1
        on
            o.country = d1.country
            and d1.calendar_date = cast({{ dbt.dateadd('day', -1, 'o.observation_date') }} as date)
    left join calendar as d8
        on
            o.country = d8.country
            and d8.calendar_date = cast({{ dbt.dateadd('day', -8, 'o.observation_date') }} as date)
    left join calendar as s30
        on
            o.country = s30.country
            and s30.calendar_date
            = cast({{ dbt.dateadd('day', '-1 - o.days_in_30d', 'o.observation_date') }} as date)
    left join calendar as s120
        on
            o.country = s120.country
            and s120.calendar_date = cast(
                {{ dbt.dateadd('day', '-1 - o.days_in_30d - o.days_in_prior_90d', 'o.observation_date') }}
                as date
            )
    left join calendar as ll
        on o.country = ll.country and w.last_login_date = ll.calendar_date
    left join calendar as lc
        on o.country = lc.country and w.last_core_action_date = lc.calendar_date
)

select
    account_id,
    observation_date,
    country,
    expected_days_7d,
    expected_days_30d,
    expected_days_prior_90d,
    expected_days_since_last_login,
    expected_days_since_last_core_action,
    coalesce(logins_7d, 0) / nullif(expected_days_7d, 0) as login_rate_7d,
    coalesce(logins_30d, 0) / nullif(expected_days_30d, 0) as login_rate_30d,
    coalesce(logins_prior_90d, 0) / nullif(expected_days_prior_90d, 0) as login_rate_prior_90d,
    (coalesce(logins_30d, 0) / nullif(expected_days_30d, 0))
    / nullif(coalesce(logins_prior_90d, 0) / nullif(expected_days_prior_90d, 0), 0)
    - 1 as seasonal_logins_change_30v90,
    (coalesce(logins_7d, 0) / nullif(expected_days_7d, 0))
    / nullif(coalesce(logins_prior_90d, 0) / nullif(expected_days_prior_90d, 0), 0)
    - 1 as seasonal_logins_change_7v90
from expected
