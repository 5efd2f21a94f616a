{#- The days an incremental model must recompute: those with rows in `relation` loaded
    after the newest load the model has already seen (its max events_loaded_at). A late
    file for an old day re-opens exactly that day; nothing new loaded means no days. -#}
{% macro new_activity_days(relation, loaded_at) -%}
    select distinct fresh.activity_date
    from {{ relation }} as fresh
    where fresh.{{ loaded_at }} > (select max(done.events_loaded_at) from {{ this }} as done)
{%- endmacro %}
