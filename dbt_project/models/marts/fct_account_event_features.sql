-- Grain: one row per account per model observation date (macro event_feature_dates: the
-- training dates, tonight's scoring date, a replay's nights) per event group
-- (int_event_groups_mapped: the company's own event names, configured groups, 'other').
-- The model's features from the customer's own vocabulary (issue: any product): counts
-- over the last 7 and 30 days, the change of the last 30 days against the prior 90
-- days' monthly rate, events per active user in 30 days, and days since the group's
-- last event, all from days strictly before the date. Tenure-scaled like
-- fct_account_usage_trends (macro usage_window_days), so a young account or a short
-- history is not read as a rise. Every group on every date: an account without a
-- group's events has counts of 0 and days since capped at the lookback + 1.
-- A view over two stored tables; ml.features pivots it to one column per group and
-- measure.
{{ config(materialized='view') }}
{%- set lookback = var('metrics')['min_history_days'] %}

with observed as (
    select
        account_id,
        observation_date,
        {{ usage_window_days('tenure_days') }}
    from {{ ref('int_account_observations_listed') }}
    where observation_date in ({{ event_feature_dates() }})
),

event_groups as (
    select distinct event_group from {{ ref('int_event_groups_mapped') }}
),

grouped as (
    select
        w.account_id,
        w.observation_date,
        g.event_group,
        sum(w.events_7d) as events_7d,
        sum(w.events_30d) as events_30d,
        sum(w.events_prior_90d) as events_prior_90d,
        max(w.last_event_date) as last_event_date
    from {{ ref('int_account_event_windows_aggregated') }} as w
    inner join {{ ref('int_event_groups_mapped') }} as g on w.event_type = g.event_type
    group by w.account_id, w.observation_date, g.event_group
),

dense as (
    select
        o.account_id,
        o.observation_date,
        o.days_in_30d,
        o.days_in_prior_90d,
        e.event_group,
        coalesce(s.events_7d, 0) as events_7d,
        coalesce(s.events_30d, 0) as events_30d,
        coalesce(s.events_prior_90d, 0) * 30.0 / nullif(o.days_in_prior_90d, 0)
            as events_prior_90d_monthly,
        s.last_event_date
    from observed as o
    cross join event_groups as e
    left join grouped as s
        on
            o.account_id = s.account_id
            and o.observation_date = s.observation_date
            and e.event_group = s.event_group
)

select
    d.account_id,
    d.observation_date,
    d.event_group,
    d.events_7d,
    d.events_30d,
    d.events_prior_90d_monthly,
    (d.events_30d * 30.0 / d.days_in_30d) / nullif(d.events_prior_90d_monthly, 0) - 1
        as events_change_30v90,
    d.events_30d * 1.0 / nullif(a.active_users_30d, 0) as events_per_active_user_30d,
    -- capped: nothing in the lookback reads as one day more than the lookback
    coalesce(
        {{ dbt.datediff('d.last_event_date', 'd.observation_date', 'day') }}, {{ lookback + 1 }}
    ) as days_since_last_event
from dense as d
inner join {{ ref('fct_account_adoption') }} as a
    on d.account_id = a.account_id and d.observation_date = a.observation_date
