-- One row per account per user per day with any event (user_id null for events the
-- export sent without a user). Aggregating to user-days first makes "distinct active
-- users" a plain count downstream instead of a count(distinct) over every event.
--
-- Incremental: a run recomputes whole days that received events loaded after the
-- newest load this table has seen (a late file for an old day re-opens that day), and
-- replaces those days (delete+insert on activity_date). A full refresh gives the same
-- rows.
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
    user_id,
    activity_date,
    count(*) as events,
    count(case when event_role = 'login' then 1 end) as logins,
    coalesce(sum(case when event_role = 'login' then session_seconds end), 0) as session_seconds,
    count(case when event_role = 'core_action' then 1 end) as core_actions,
    count(case when event_role = 'feature_use' then 1 end) as feature_events,
    max(loaded_at) as events_loaded_at
from events
group by account_id, user_id, activity_date
-- stored in day order: the window models read a few weeks of days, and DuckDB skips
-- the row groups outside them only when days are not spread over the whole table
order by activity_date
