-- One row per account per model observation date per event name with events in the
-- var('metrics').min_history_days before the date: counts over the last 7 / 30 / 90
-- days and days 31-120, and the newest day with the event. Pure functions of the
-- event-name days, stored incrementally by observation date like
-- int_account_usage_windows_aggregated (macro observation_dates_to_build);
-- fct_account_event_features groups the names and turns the sums into rates and changes.
-- Only the dates of macro event_feature_dates (the model's): the incremental contract of
-- config_incremental_by_observation_date, with those dates kept and the others dropped.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='observation_date',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where observation_date not in ({{ event_feature_dates() }})",
    )
}}

with window_days as (
    select *
    from {{ ref('int_observation_window_days_listed') }}
    where
        observation_date in ({{ observation_dates_in_scope() }})
        and observation_date in ({{ event_feature_dates() }})
)

select
    e.account_id,
    w.observation_date,
    e.event_type,
    cast(sum(case when w.days_before <= 7 then e.events else 0 end) as bigint) as events_7d,
    cast(sum(case when w.days_before <= 30 then e.events else 0 end) as bigint) as events_30d,
    cast(sum(case when w.days_before <= 90 then e.events else 0 end) as bigint) as events_90d,
    cast(sum(case when w.days_before between 31 and 120 then e.events else 0 end) as bigint)
        as events_prior_90d,
    max(e.activity_date) as last_event_date,
    {{ inputs_loaded_at() }} as inputs_loaded_at
from {{ ref('int_account_event_type_days_aggregated') }} as e
inner join window_days as w on e.activity_date = w.activity_date
group by e.account_id, w.observation_date, e.event_type
