-- One row per account per feature it has ever used: the first day it did (the
-- feature's adoption) and whether it is a core feature. The input of the onboarding
-- milestones, which would otherwise scan every feature-day of the history each night.
--
-- Incremental: first-use days only move earlier (events are only ever added), so a run
-- reads the feature-days rebuilt since the newest load it has seen and replaces only
-- the pairs that are new or got an earlier first day (a late file); a full refresh
-- gives the same rows.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['account_id', 'feature'],
        on_schema_change='fail',
    )
}}

with candidates as (
    select
        account_id,
        feature,
        bool_or(is_core_feature) as is_core_feature,
        min(activity_date) as first_used_date,
        max(events_loaded_at) as inputs_loaded_at
    from {{ ref('fct_account_feature_daily_usage') }}
    {%- if is_incremental() %}
        where activity_date in ({{ new_activity_days(
            ref('fct_account_feature_daily_usage'), 'events_loaded_at', 'inputs_loaded_at'
        ) }})
    {%- endif %}
    group by account_id, feature
)

select c.*
from candidates as c
{%- if is_incremental() %}
    left join {{ this }} as done on c.account_id = done.account_id and c.feature = done.feature
    where done.account_id is null or c.first_used_date < done.first_used_date
{%- endif %}
