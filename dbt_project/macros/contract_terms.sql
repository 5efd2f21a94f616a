{#- The configured contract terms (var accounts.contract_terms: name and months), as SQL.
    A term's length comes from the config, not from its name, so a company whose terms
    are called "month" and "year" (or has quarterly ones) needs no model change. An
    unknown term gives null: the in_configured_values tests name it. -#}
{% macro contract_term_months(column) -%}
    {%- set lengths = {} -%}
    {%- for term in var('accounts')['contract_terms'] -%}
        {%- do lengths.update({term.name: term.months}) -%}
    {%- endfor -%}
    {{- term_case(column, lengths) -}}
{%- endmacro %}

{#- Days in one term: a whole number of years counts 365 days a year, anything else 30
    days a month (the renewal cycle the billing export follows). -#}
{% macro contract_term_days(column) -%}
    {%- set lengths = {} -%}
    {%- for term in var('accounts')['contract_terms'] -%}
        {%- set days = (term.months // 12) * 365 if term.months % 12 == 0 else term.months * 30 -%}
        {%- do lengths.update({term.name: days}) -%}
    {%- endfor -%}
    {{- term_case(column, lengths) -}}
{%- endmacro %}

{% macro term_case(column, values) -%}
    case {{ column }}{% for name, value in values.items() %} when '{{ name | replace("'", "''") }}' then {{ value }}{% endfor %} end
{%- endmacro %}
