{#- A churned account's value tier (DOMAIN.md §9: lifetime value and last MRR): high or
    medium when either reaches the tier's bound in var('winback').value_tiers. One
    definition for the candidates and the reactivations. -#}
{% macro winback_value_tier(lifetime_value, last_mrr) %}
    {%- set tiers = var('winback')['value_tiers'] -%}
    case
        when
            {{ lifetime_value }} >= {{ tiers['high'] }}
            or {{ last_mrr }} >= {{ tiers['high_mrr'] }}
            then 'high'
        when
            {{ lifetime_value }} >= {{ tiers['medium'] }}
            or {{ last_mrr }} >= {{ tiers['medium_mrr'] }}
            then 'medium'
        else 'low'
    end
{%- endmacro %}
