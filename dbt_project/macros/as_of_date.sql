{#- The day the pipeline scores as of: var('as_of_date') if set, else the day after
    the newest usage event. Features are always computed from days before it. -#}
{% macro as_of_date() -%}
    {#- ref'd either way: the graph (and the order Dagster's manifest expects) must not
        depend on whether the date is set -#}
    {%- set daily_usage = ref('fct_account_daily_usage') -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (
            select cast({{ dbt.dateadd('day', 1, 'max(activity_date)') }} as date)
            from {{ daily_usage }}
        )
    {%- endif -%}
{%- endmacro %}

{#- A churn (spell end) after this day is provisional: within var('resign_gap_days') of
    the as-of date the account may still re-sign and continue the spell. -#}
{% macro provisional_churn_after() -%}
    {{ dbt.dateadd('day', -var('resign_gap_days'), as_of_date()) }}
{%- endmacro %}
