-- Every CRM attribute declared in var('accounts').attributes is carried by the accounts
-- export (at least one value), and a numeric one holds numbers: one row per attribute
-- and problem, with how many values break it. Blocking: a model that silently lost an
-- attribute, or read "12 employees" as missing, would score on a different basis.
{%- set attributes = var('accounts').get('attributes', []) %}
with declared as (
    {%- for attribute in attributes %}
        select {{ quoted(attribute['name']) }} as attribute_name
        union all
    {%- endfor %}
    select cast(null as varchar) as attribute_name
    where false
),

values_read as (
    select
        attribute_name,
        count(value_text) as present,
        count(
            case
                when attribute_type = 'numeric' and value_text is not null and value_number is null then 1
            end
        ) as not_numbers
    from {{ ref('int_account_attributes_listed') }}
    group by attribute_name
)

select
    d.attribute_name,
    'no accounts export carries the column' as problem,
    0 as failing_values
from declared as d
left join values_read as v on d.attribute_name = v.attribute_name
where coalesce(v.present, 0) = 0
union all
select
    attribute_name,
    'declared numeric, but values are not numbers' as problem,
    not_numbers as failing_values
from values_read
where not_numbers > 0
