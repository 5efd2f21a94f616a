-- Grain: one row per categorical CRM attribute (var('accounts').attributes) per value.
-- The attribute as a cohort dimension: of the model's labelled observations
-- (fct_account_snapshots, is_model_observation with a known label), how many accounts
-- had each value on the date and how many of those observations churned within
-- var('horizon_days'). The value and the label are both as of the date, so a value's
-- churn rate is what the model could learn from it. Numeric attributes are left to the
-- model. Empty while no categorical attribute is declared.
{{ config(materialized='table') }}
select
    a.attribute_name,
    coalesce(a.value_text, '(missing)') as attribute_value,
    count(distinct s.account_id) as accounts_observed,
    count(*) as labelled_observations,
    count(case when s.churned_within_horizon = 1 then 1 end) as churned_within_horizon,
    avg(s.churned_within_horizon) as churn_rate_within_horizon
from {{ ref('int_account_attributes_listed') }} as a
inner join {{ ref('fct_account_snapshots') }} as s
    on a.account_id = s.account_id and a.observation_date = s.observation_date
where
    a.attribute_type = 'categorical'
    and s.is_model_observation
    and s.churned_within_horizon is not null
group by a.attribute_name, coalesce(a.value_text, '(missing)')
