-- Grain: one row per account per feature per day on which the feature was used.
-- Incremental like int_usage_user_days_aggregated: days with newly loaded events are
-- recomputed whole and replace the stored ones.
{{ config_incremental_by_activity_date() }}

with new_events as (
    select *
    from {{ ref('stg_product__usage_events') }}
    {%- if is_incremental() %}
        {{ where_new_event_days() }}
    {%- endif %}
),

events as (
    select *
    from new_events
    where event_role = 'feature_use' and feature is not null
)

select
    account_id,
    activity_date,
    feature,
    feature in ('{{ var("metrics")["core_features"] | join("', '") }}') as is_core_feature,  -- noqa: LT05
    count(*) as feature_events,
    max(loaded_at) as events_loaded_at
from events
group by account_id, activity_date, feature
order by activity_date  -- day order, as in int_usage_user_days_aggregated
