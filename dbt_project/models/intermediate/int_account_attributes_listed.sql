-- One row per account per observation date per CRM attribute declared in
-- var('accounts').attributes: its value as it was then, from the CRM snapshot in force
-- (macro crm_snapshot_in_force, as int_account_observations_listed picks segment and
-- CSM), else today's export. An attribute is a column of the accounts contract (country)
-- or an extra column of the export, which the loader keeps in raw.accounts._extra_columns.
-- Long, so declaring another attribute changes no table's schema: ml.features pivots it
-- into model features. value_number is the numeric attributes' value (the test
-- assert_account_attributes_are_readable fails on text that is not a number, and on an
-- attribute no export carries).
{{ config(materialized='table') }}
{%- set attributes = var('accounts').get('attributes', []) %}
{%- set contract_columns = [] %}
{%- if execute and attributes %}
    {%- for column in adapter.get_columns_in_relation(source('raw', 'accounts')) %}
        {%- do contract_columns.append(column.name | lower) %}
    {%- endfor %}
{%- endif %}

with observed as (
    select
        account_id,
        observation_date
    from {{ ref('int_account_observations_listed') }}
),

crm_then as (
    select
        o.observation_date,
        o.account_id,
        c._source_file,
        c._source_row
    from observed as o
    inner join {{ ref('stg_crm__account_snapshots') }} as c
        {{ crm_snapshot_in_force('o', 'c') }}
),

-- unused only while no attribute is declared
crm_rows as (  -- noqa: ST03
    select
        o.account_id,
        o.observation_date,
        r.*
    from observed as o
    inner join {{ ref('stg_crm__accounts') }} as a on o.account_id = a.account_id
    left join crm_then as t
        on o.observation_date = t.observation_date and o.account_id = t.account_id
    inner join {{ source('raw', 'accounts') }} as r
        on
            coalesce(t._source_file, a._source_file) = r._source_file
            and coalesce(t._source_row, a._source_row) = r._source_row
),

attribute_values as (
    {%- for attribute in attributes %}
        select
            account_id,
            observation_date,
            {{ quoted(attribute['name']) }} as attribute_name,
            {{ quoted(attribute['type']) }} as attribute_type,
            {%- if attribute['name'] in contract_columns %}
                cast({{ attribute['name'] }} as varchar) as value_text
            {%- else %}
                json_extract_string(_extra_columns, '$.{{ attribute["name"] }}') as value_text
            {%- endif %}
        from crm_rows
        union all
    {%- endfor %}
    select
        cast(null as varchar) as account_id,
        cast(null as date) as observation_date,
        cast(null as varchar) as attribute_name,
        cast(null as varchar) as attribute_type,
        cast(null as varchar) as value_text
    where false
)

select
    account_id,
    observation_date,
    attribute_name,
    attribute_type,
    nullif(trim(value_text), '') as value_text,
    case
        when attribute_type = 'numeric' then try_cast(nullif(trim(value_text), '') as double)
    end as value_number
from attribute_values
