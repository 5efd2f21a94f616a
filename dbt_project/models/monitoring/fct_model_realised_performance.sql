-- Grain: one row per score date. How the scores published that night ranked what then
-- happened (int_scores_evaluated), beside what the backtest of the model version that
-- published them promised (ml.model_versions): the check that the backtest predicts live
-- use. Dates whose outcome is not known yet have counts and nulls. ROC AUC is the
-- Mann-Whitney statistic (ties at their average rank); top-decile lift is the churn rate
-- of the highest-scored tenth over the night's rate; Brier the mean squared error.
{{ config(tags=['after_alerts'], materialized='table') }}
with ranked as (
    select
        *,
        rank() over (partition by score_date order by churn_probability)
        + (count(*) over (partition by score_date, churn_probability) - 1) / 2.0 as score_rank,
        ntile(10) over (
            partition by score_date order by churn_probability desc, account_id asc
        ) as score_decile
    from {{ ref('int_scores_evaluated') }}
    where churned_within_horizon is not null
),

per_date as (
    select
        score_date,
        count(*) as accounts_with_outcome,
        sum(churned_within_horizon) as churners,
        avg(churned_within_horizon) as churn_rate,
        avg(churn_probability) as mean_probability,
        avg(power(churn_probability - churned_within_horizon, 2)) as brier,
        sum(case when churned_within_horizon = 1 then score_rank else 0 end) as positive_rank_sum,
        avg(case when score_decile = 1 then churned_within_horizon end) as top_decile_churn_rate
    from ranked
    group by score_date
),

scored as (
    select
        score_date,
        min(model_version) as model_version,
        count(distinct model_version) as model_versions,
        count(*) as accounts_scored
    from {{ ref('int_scores_evaluated') }}
    group by score_date
),

figures as (
    select
        s.*,
        coalesce(p.accounts_with_outcome, 0) as accounts_with_outcome,
        coalesce(p.churners, 0) as churners,
        p.churn_rate,
        p.mean_probability,
        (p.positive_rank_sum - p.churners * (p.churners + 1) / 2.0)
        / nullif(p.churners * (p.accounts_with_outcome - p.churners), 0) as realised_roc_auc,
        p.top_decile_churn_rate / nullif(p.churn_rate, 0) as realised_top_decile_lift,
        p.brier as realised_brier
    from scored as s
    left join per_date as p on s.score_date = p.score_date
)

select
    f.*,
    v.backtest_roc_auc,
    v.backtest_top_decile_lift,
    v.backtest_brier,
    v.backtest_roc_auc - f.realised_roc_auc as backtest_minus_realised_auc
from figures as f
left join {{ source('ml', 'model_versions') }} as v on f.model_version = v.model_version
