-- One row per account per night it was scored (ml.churn_scores): the probability the
-- scores published and what then happened. The outcome is churn within
-- var('horizon_days') of the score date, counted from the score date itself (live use
-- sees every churn, including those the model's lead time keeps out of training), and
-- known once the horizon and the re-sign gap after it have passed (null before: a date
-- is judged whole, never on its confirmed churners alone).
{{ config(tags=['after_alerts'], schema='intermediate', materialized='view') }}
{%- set horizon = var('horizon_days') %}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

scores as (
    select
        account_id,
        as_of_date as score_date,
        churn_probability,
        model_version
    from {{ source('ml', 'churn_scores') }}
),

churned as (
    select
        s.account_id,
        s.score_date,
        min(e.churned_on) as churned_on
    from scores as s
    inner join {{ ref('int_churn_events_classified') }} as e
        on
            s.account_id = e.account_id
            and s.score_date <= e.churned_on
            and {{ dbt.dateadd('day', horizon, 's.score_date') }} > e.churned_on
    group by s.account_id, s.score_date
)

select
    s.account_id,
    s.score_date,
    s.model_version,
    s.churn_probability,
    c.churned_on,
    {{ dbt.dateadd('day', horizon + var('resign_gap_days'), 's.score_date') }} <= x.as_of_date
        as is_outcome_known,
    case
        when
            {{ dbt.dateadd('day', horizon + var('resign_gap_days'), 's.score_date') }}
            <= x.as_of_date
            then case when c.churned_on is null then 0 else 1 end
    end as churned_within_horizon
from scores as s
cross join as_of as x
left join churned as c on s.account_id = c.account_id and s.score_date = c.score_date
