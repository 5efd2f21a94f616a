{#- A configured name as a SQL string literal (quotes doubled): event names and groups
    are the company's own text. -#}
{% macro quoted(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}

{#- Configured names as the items of an IN list. -#}
{% macro quoted_list(values) -%}
    {%- for value in values %}{{ quoted(value) }}{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}
