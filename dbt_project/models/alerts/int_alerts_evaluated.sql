-- One row per alert (alerts.alert_history), with what became of it: how it closed, the
-- CSM's feedback, who acted (a CSM once one received it, else its touch: an automated
-- sequence), whether it was contacted or held out, and whether the account churned
-- (its subscription spell ended) within var('alerts').horizon_days of the alert opening.
-- The outcome is null while it is still unknown: the horizon (plus the re-sign gap)
-- has not passed and no churn has happened yet.
{{ config(tags=['after_alerts'], schema='intermediate', materialized='view') }}
{%- set horizon = var('alerts')['horizon_days'] %}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

ranked as (
    select
        h.*,
        row_number() over (partition by h.alert_id order by h.night desc) as newest_first,
        row_number() over (partition by h.alert_id order by h.night) as oldest_first
    from {{ source('alerts', 'alert_history') }} as h
),

opening as (
    select
        alert_id,
        account_id,
        opened_night,
        primary_type as opening_type,
        opened_severity
    from ranked
    where oldest_first = 1
),

latest as (
    select
        alert_id,
        csm_owner,
        segment,
        status as last_status,
        peak_severity,
        closed_night,
        close_reason,
        dismissal_reason,
        engaged_at,
        first_delivered_night,
        is_holdout,
        touch,
        arr,
        night as last_night
    from ranked
    where newest_first = 1
),

-- enrolled in an automated sequence on some night: open, automated, not yet with a
-- CSM, not held out, not snoozed (alerts.lifecycle.in_automated_sequence)
sequenced as (
    select
        alert_id,
        bool_or(
            touch = 'automated'
            and first_delivered_night is null
            and not coalesce(is_holdout, false)
            and (snoozed_until is null or snoozed_until <= night)
        ) as was_in_sequence
    from {{ source('alerts', 'alert_history') }}
    where status in ('new', 'open', 'escalated')
    group by alert_id
),

outreach as (
    select
        alert_id,
        count(*) as outreach_sent,
        count(replied_at) as outreach_replied
    from {{ ref('stg_cs__outreach_outcomes') }}
    where alert_id is not null
    group by alert_id
),

churned as (
    select
        o.alert_id,
        min(e.churned_on) as churned_on,
        bool_or(e.is_provisional) as is_provisional
    from opening as o
    inner join {{ ref('int_churn_events_classified') }} as e
        on
            o.account_id = e.account_id
            and o.opened_night < e.churned_on
            and {{ dbt.dateadd('day', horizon, 'o.opened_night') }} >= e.churned_on
    group by o.alert_id
)

select
    o.alert_id,
    o.account_id,
    l.csm_owner,
    l.segment,
    o.opened_night,
    o.opening_type,
    o.opened_severity,
    l.peak_severity,
    l.last_status,
    l.closed_night,
    l.close_reason,
    l.dismissal_reason,
    l.engaged_at is not null as was_engaged,
    l.first_delivered_night,
    coalesce(l.is_holdout, false) as is_holdout,
    case
        when l.first_delivered_night is not null then 'csm'
        when q.was_in_sequence then 'automated'
        else l.touch
    end as touch,
    not coalesce(l.is_holdout, false)
    and (l.first_delivered_night is not null or coalesce(q.was_in_sequence, false))
        as was_contacted,
    coalesce(r.outreach_sent, 0) as outreach_sent,
    coalesce(r.outreach_replied, 0) as outreach_replied,
    l.arr,
    c.churned_on,
    case
        when c.churned_on is not null and not c.is_provisional then 1
        when
            {{ dbt.dateadd('day', horizon + var('resign_gap_days'), 'o.opened_night') }}
            <= x.as_of_date
            and c.churned_on is null
            then 0
    end as churned_within_horizon,
    {{ dbt.datediff('o.opened_night', 'c.churned_on', 'day') }} as lead_days
from opening as o
inner join latest as l on o.alert_id = l.alert_id
cross join as_of as x
left join sequenced as q on o.alert_id = q.alert_id
left join outreach as r on o.alert_id = r.alert_id
left join churned as c on o.alert_id = c.alert_id
