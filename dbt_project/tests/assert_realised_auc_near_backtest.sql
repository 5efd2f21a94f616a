-- Warning: a score date whose outcome is known, with enough churners to judge, ranked
-- churners more than var('realised_performance').auc_margin worse than the backtest of
-- the model version that scored it promised. The backtest then overstates live use
-- (a lead time or tenure floor in the labels, drift, a leak): docs/model.md.
{{ config(severity='warn', tags=['after_alerts']) }}
{%- set settings = var('realised_performance') %}
select
    score_date,
    model_version,
    churners,
    realised_roc_auc,
    backtest_roc_auc,
    backtest_minus_realised_auc
from {{ ref('fct_model_realised_performance') }}
where
    churners >= {{ settings['min_churners'] }}
    and backtest_minus_realised_auc > {{ settings['auc_margin'] }}
