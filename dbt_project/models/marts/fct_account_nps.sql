-- Grain: one row per account per observation date. The account's NPS as known on the
-- date: its latest answer before the date, the one before it, the change between them,
-- and whether the latest marks a detractor (0-6). Null scores when never surveyed.
-- Incremental by observation date (macro observation_dates_to_build).
{{ config_incremental_by_observation_date() }}

with observed as (
    select
        account_id,
        observation_date
    from {{ ref('int_account_observations_listed') }}
    where observation_date in ({{ observation_dates_in_scope() }})
),

answers as (
    select
        o.account_id,
        o.observation_date,
        r.score,
        r.responded_at,
        row_number() over (
            partition by o.account_id, o.observation_date
            order by r.responded_at desc, r.response_id desc
        ) as recency_rank,
        count(*) over (partition by o.account_id, o.observation_date) as responses
    from observed as o
    inner join {{ ref('stg_surveys__nps_responses') }} as r
        on o.account_id = r.account_id and o.observation_date > r.responded_at
),

latest as (
    select
        account_id,
        observation_date,
        max(case when recency_rank = 1 then score end) as latest_score,
        max(case when recency_rank = 1 then responded_at end) as latest_responded_at,
        max(case when recency_rank = 2 then score end) as previous_score,
        max(responses) as responses
    from answers
    where recency_rank <= 2
    group by account_id, observation_date
)

select
    o.account_id,
    o.observation_date,
    l.latest_score as nps_latest_score,
    l.previous_score as nps_previous_score,
    l.latest_score - l.previous_score as nps_trend,
    l.latest_score <= 6 as is_detractor,
    {{ dbt.datediff('l.latest_responded_at', 'o.observation_date', 'day') }} as days_since_nps,
    coalesce(l.responses, 0) as nps_responses,
    {{ inputs_loaded_at([ref('int_account_observations_listed')]) }} as inputs_loaded_at
from observed as o
left join latest as l on o.account_id = l.account_id and o.observation_date = l.observation_date
