-- Grain: one row per churn (an ended subscription spell) since the alerts engine's first
-- night: was the account alerted before it left, how early, and by which type first.
-- Churners never alerted are the rows with was_alerted false (DOMAIN.md §7: which
-- churners were missed).
{{ config(tags=['after_alerts']) }}
{%- set horizon = var('alerts')['horizon_days'] %}
with first_night as (
    select min(night) as first_night from {{ source('alerts', 'alert_history') }}
),

churns as (
    select
        e.account_id,
        e.churned_on,
        e.churn_reason,
        e.churn_type,
        e.churned_mrr
    from {{ ref('int_churn_events_classified') }} as e
    cross join first_night as f
    where e.churned_on > f.first_night and not e.is_provisional
),

alerted as (
    select
        c.account_id,
        c.churned_on,
        a.alert_id,
        a.opening_type,
        a.opened_night,
        row_number() over (
            partition by c.account_id, c.churned_on order by a.opened_night, a.alert_id
        ) as earliest_first
    from churns as c
    inner join {{ ref('int_alerts_evaluated') }} as a
        on
            c.account_id = a.account_id
            and c.churned_on > a.opened_night
            and {{ dbt.dateadd('day', -horizon, 'c.churned_on') }} <= a.opened_night
)

select
    c.account_id,
    c.churned_on,
    c.churn_reason,
    c.churn_type,
    c.churned_mrr,
    a.alert_id is not null as was_alerted,
    a.alert_id as first_alert_id,
    a.opening_type as first_alert_type,
    a.opened_night as first_alerted_on,
    {{ dbt.datediff('a.opened_night', 'c.churned_on', 'day') }} as lead_days
from churns as c
left join alerted as a
    on c.account_id = a.account_id and c.churned_on = a.churned_on and a.earliest_first = 1
