{#- The days an incremental model must recompute: those with rows in `relation` loaded
    after the newest load the model has already seen (its max `watermark` column). A late
    file for an old day re-opens exactly that day; nothing new loaded means no days. -#}
{% macro new_activity_days(relation, loaded_at, watermark='events_loaded_at') -%}
    select distinct fresh.activity_date
    from {{ relation }} as fresh
    where fresh.{{ loaded_at }} > (select max(done.{{ watermark }}) from {{ this }} as done)
{%- endmacro %}

{#- The incremental filter of the event-level models: the events of the days to
    recompute, with the same bound on the stored timestamp so DuckDB skips the row
    groups of older days instead of casting every event's timestamp to a date. -#}
{% macro where_new_event_days() -%}
    where
        activity_date in ({{ new_activity_days(ref('stg_product__usage_events'), 'loaded_at') }})
        and occurred_at >= (
            select min(new_days.activity_date)
            from ({{ new_activity_days(ref('stg_product__usage_events'), 'loaded_at') }}) as new_days
        )
{%- endmacro %}
