-- Grain: one row per account per feature per day on which the feature was used.
-- Incremental like int_usage_user_days_aggregated: days with newly loaded events are
-- recomputed whole and replace the stored ones.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_date',
        on_schema_change='fail',
    )
}}

with events as (
    select *
    from {{ ref('stg_product__usage_events') }}
    where
        event_role = 'feature_use'
        and feature is not null
        {% if is_incremental() %}
            and activity_date in (
                select distinct activity_date
                from {{ ref('stg_product__usage_events') }}
                where loaded_at > (select max(events_loaded_at) from {{ this }})
            )
        {% endif %}
)

select
    account_id,
    activity_date,
    feature,
    feature in ('{{ var("metrics")["core_features"] | join("', '") }}') as is_core_feature,
    count(*) as feature_events,
    max(loaded_at) as events_loaded_at
from events
group by account_id, activity_date, feature
