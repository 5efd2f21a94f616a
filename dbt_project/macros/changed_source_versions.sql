{#- The rows of raw.<table> loaded after `since` that change what staging sees: a key
    never loaded before, or a version whose content (every contract column, not the
    load metadata) differs from the key's previous version. Re-delivered full snapshots
    (the users export, a subscriptions snapshot) thus yield only the rows that changed.
    For each column in `columns` the previous version's value comes as previous_<column>,
    and is_new_key marks a key's first version, so a caller can bound the days a change
    can reach from what changed, in its old and new values. -#}
{% macro changed_source_versions(table, key, columns, since) -%}
    {%- set relation = source('raw', table) -%}
    {%- set changed = ['row_number() over key_versions = 1'] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if not column.name.startswith('_') -%}
                {%- do changed.append(
                    'versions.' ~ column.name ~ ' is distinct from lag(versions.'
                    ~ column.name ~ ') over key_versions'
                ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set compared = [] -%}
    {%- for column in columns -%}
        {%- do compared.append(
            'versions.' ~ column ~ ', lag(versions.' ~ column ~ ') over key_versions as previous_' ~ column
        ) -%}
    {%- endfor -%}
    {%- set same_key = [] -%}
    {%- for column in key -%}
        {%- do same_key.append('fresh.' ~ column ~ ' is not distinct from versions.' ~ column) -%}
    {%- endfor -%}
    select *
    from (
        select
            versions._loaded_at as loaded_at,
            {{ compared | join(', ') }},
            row_number() over key_versions = 1 as is_new_key,
            ({{ changed | join(' or ') }}) as is_changed
        from {{ relation }} as versions
        -- only keys with a new version, and all of their versions (the previous one is
        -- needed to tell a change from a re-delivery)
        where exists (
            select 1
            from {{ relation }} as fresh
            where fresh._loaded_at > {{ since }} and {{ same_key | join(' and ') }}
        )
        window key_versions as (
            partition by {{ key | join(', ') }}
            order by _loaded_at, _source_file, _source_row
        )
    ) as compared
    where loaded_at > {{ since }} and is_changed
{%- endmacro %}
