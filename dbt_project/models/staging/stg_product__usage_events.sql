-- One row per usage event, with the event's role (login / core_action / feature_use)
-- mapped from the company's own event names by var('event_roles'); events of unmapped
-- names keep a null role. No de-duplication here: the loader already guarantees one
-- row per event_id (global key scope, later copies quarantined), and a window over every
-- event would stop the incremental marts from reading only the days they need.
select
    event_id,
    account_id,
    user_id,
    event_type,
    case
        {% for role, names in var('event_roles').items() %}
            when event_type in ({{ quoted_list(names) }}) then {{ quoted(role) }}
        {% endfor %}
    end as event_role,
    occurred_at,
    cast(occurred_at as date) as activity_date,
    session_seconds,
    lower(feature) as feature,
    _loaded_at as loaded_at
from {{ source('raw', 'usage_events') }}
