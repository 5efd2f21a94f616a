-- One row per usage event (deduplicated on event_id), with the event's role
-- (login / core_action / feature_use) mapped from the company's own event names
-- by var('event_roles'); events of unmapped names keep a null role.
with ranked as (
    select
        *,
        row_number() over (partition by event_id order by _loaded_at, _source_file, _source_row)
            as copy_rank
    from {{ source('raw', 'usage_events') }}
)

select
    event_id,
    account_id,
    user_id,
    event_type,
    case
        {% for role, names in var('event_roles').items() %}
            when event_type in ('{{ names | join("', '") }}') then '{{ role }}'  -- noqa: LT05
        {% endfor %}
    end as event_role,
    occurred_at,
    cast(occurred_at as date) as activity_date,
    session_seconds,
    feature
from ranked
where copy_rank = 1
