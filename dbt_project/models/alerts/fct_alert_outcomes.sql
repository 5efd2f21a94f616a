-- Grain: one row per alert type (rule) per peak severity per touch (csm or automated:
-- who acted, int_alerts_evaluated). How the alerts of each type
-- turned out (DOMAIN.md §7: track which alerts led to saves, which were false
-- positives, which churners were missed; tune thresholds from that). An alert counts
-- under every type that fired for it. Precision = alerts whose account churned within
-- var('alerts').horizon_days / alerts whose outcome is known (precision_rate). Save rate compares the
-- churn rate of contacted alerts (a CSM's, or enrolled in a sequence) with the control
-- group's (alerts held out as "do not contact"): 1 - contacted rate / control rate, null
-- until the control group has a churn. Per touch, so a sequence's save rate is its own.
{{ config(tags=['after_alerts']) }}
{%- set codes = var('alerts')['reason_codes'] %}
with typed as (
    select distinct
        alert_id,
        rule as alert_type
    from {{ source('alerts', 'alert_type_nights') }}
),

alerts as (
    select
        t.alert_type,
        a.*
    from typed as t
    inner join {{ ref('int_alerts_evaluated') }} as a on t.alert_id = a.alert_id
)

select
    alert_type,
    peak_severity as severity,
    touch,
    count(*) as alerts_raised,
    count(churned_within_horizon) as alerts_with_outcome,
    coalesce(sum(churned_within_horizon), 0) as churned_within_horizon,
    sum(churned_within_horizon) * 1.0 / nullif(count(churned_within_horizon), 0)
        as precision_rate,
    count(case when churned_within_horizon = 0 then 1 end) as false_positives,
    count(case when close_reason = 'dismissed' then 1 end) as dismissed,
    {%- for code in codes %}
        count(case when dismissal_reason = '{{ code }}' then 1 end) as dismissed_{{ code }},
    {%- endfor %}
    percentile_cont(0.5) within group (order by lead_days) as median_lead_days,
    count(case when was_contacted then 1 end) as contacted,
    avg(case when was_contacted then churned_within_horizon end) as contacted_churn_rate,
    count(case when is_holdout then 1 end) as held_out,
    avg(case when is_holdout then churned_within_horizon end) as held_out_churn_rate,
    1 - avg(case when was_contacted then churned_within_horizon end)
    / nullif(avg(case when is_holdout then churned_within_horizon end), 0) as save_rate
from alerts
group by alert_type, peak_severity, touch
