-- One row per event name sent before the as-of date: the event group whose features the
-- model learns from (var('event_features'), docs/model.md). A name listed in a
-- configured group counts in that group; every other name is its own group, except
-- names rarer than min_share of all events. Only max_groups groups keep their own
-- features, the configured ones first and then the most frequent; rare names and the
-- groups beyond the cap share the group 'other', so the number of feature columns is
-- bounded whatever the company sends.
{{ config(materialized='table') }}
{%- set features = var('event_features') %}
{%- set configured = features['groups'] | map(attribute='events') | sum(start=[]) %}

with totals as (
    select
        event_type,
        sum(events) as events
    from {{ ref('int_account_event_type_days_aggregated') }}
    where activity_date < {{ as_of_date() }}
    group by event_type
),

named as (
    select
        event_type,
        events,
        case
        {%- for group in features['groups'] %}
            when event_type in ({{ quoted_list(group['events']) }}) then {{ quoted(group['name']) }}
        {%- endfor %}
            when events < {{ features['min_share'] }} * sum(events) over () then 'other'
            else event_type
        end as named_group,
        {{ "event_type in (" ~ quoted_list(configured) ~ ")" if configured else "false" }} as is_configured
    from totals
),

ranked as (
    select
        named_group,
        sum(events) as group_events,
        -- configured groups first: a rare name the company chose to watch keeps its features
        row_number() over (order by bool_or(is_configured) desc, sum(events) desc, named_group)
            as group_rank
    from named
    where named_group != 'other'
    group by named_group
)

select
    n.event_type,
    n.events,
    case when r.group_rank <= {{ features['max_groups'] }} then n.named_group else 'other' end
        as event_group,
    r.group_rank
from named as n
left join ranked as r on n.named_group = r.named_group
