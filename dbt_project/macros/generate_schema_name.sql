{#- Use the folder's schema name as is (staging, intermediate, marts) so analysts
    query marts.fct_account_daily_usage rather than main_marts.... -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
