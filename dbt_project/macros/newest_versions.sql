{#- Staging models of versioned sources (full snapshots re-delivered, records re-exported
    when they change) keep the newest version of each key. Ranking every version ever
    loaded on each read grows with every delivery, so these models are incremental
    tables: a run ranks only the rows loaded since the newest load the model has stored
    together with the stored rows of the same keys, and replaces those keys
    (delete+insert). Every version keeps its load metadata (_loaded_at, _source_file,
    _source_row), which also breaks ties, so the result is the same as ranking
    everything (a full refresh). -#}

{#- The source's rows loaded after the newest load the model has stored (every row on a
    full refresh). -#}
{% macro fresh_versions(table) -%}
    select *
    from {{ source('raw', table) }}
    {%- if is_incremental() %}
        where _loaded_at > (select max(done._loaded_at) from {{ this }} as done)
    {%- endif %}
{%- endmacro %}

{#- The stored rows of the keys that have fresh versions (nothing on a full refresh),
    to be ranked again with them. -#}
{% macro stored_versions_of(fresh, key) -%}
    {%- if is_incremental() %}
        union all
        select done.*
        from {{ this }} as done
        where done.{{ key }} in (select f.{{ key }} from {{ fresh }} as f)
    {%- endif %}
{%- endmacro %}

{#- The configuration these staging models share (called at the top of the model). -#}
{% macro config_newest_versions(key) -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=key,
        on_schema_change='fail',
    ) }}
{%- endmacro %}
