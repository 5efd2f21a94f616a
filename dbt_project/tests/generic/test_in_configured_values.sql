{#- Accepted values from the pipeline config instead of the model's YAML: rows whose
    column holds a value outside var('accounts')[setting] (segments, or the names of
    contract_terms), one row per value with its count. Nulls pass; pair with not_null
    where a value is required. -#}
{% test in_configured_values(model, column_name, setting) %}
{%- set configured = var('accounts')[setting] %}
{%- set values = configured | map(attribute='name') | list
    if configured and configured[0] is mapping else configured %}
select
    {{ column_name }} as value_outside_config,
    count(*) as n_records
from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} not in ({{ quoted_list(values) }})
group by {{ column_name }}
{% endtest %}
