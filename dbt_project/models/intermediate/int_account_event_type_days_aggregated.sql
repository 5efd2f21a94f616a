-- One row per account per day per event name (the company's own event_type values)
-- with any event: the day grain the per-event-type features (fct_account_event_features)
-- are summed from. Event names, not their groups: the grouping
-- (int_event_groups_mapped) follows the data and the config, and a stored day never
-- needs rebuilding when it changes.
--
-- Incremental like int_usage_user_days_aggregated: the days that received events loaded
-- after the newest load this table has seen are recomputed whole (delete+insert on
-- activity_date); a full refresh gives the same rows.
{{ config_incremental_by_activity_date() }}

with events as (
    select *
    from {{ ref('stg_product__usage_events') }}
    {%- if is_incremental() %}
        {{ where_new_event_days() }}
    {%- endif %}
)

select
    account_id,
    activity_date,
    event_type,
    count(*) as events,
    max(loaded_at) as events_loaded_at
from events
group by account_id, activity_date, event_type
-- stored in day order, like the user-days: the window model reads a few months of days
order by activity_date
