-- Grain: one row per score date per decile of the published probability (1 = highest).
-- The mean probability the scores published against the share that churned within the
-- horizon, once the outcome is known: calibration as live use sees it.
{{ config(tags=['after_alerts'], materialized='table') }}
with deciles as (
    select
        score_date,
        churn_probability,
        churned_within_horizon,
        ntile(10) over (
            partition by score_date order by churn_probability desc, account_id asc
        ) as score_decile
    from {{ ref('int_scores_evaluated') }}
    where churned_within_horizon is not null
)

select
    score_date,
    score_decile,
    count(*) as accounts_in_decile,
    avg(churn_probability) as mean_probability,
    avg(churned_within_horizon) as churn_rate
from deciles
group by score_date, score_decile
