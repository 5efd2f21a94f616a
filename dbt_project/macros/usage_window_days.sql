{#- The days of the last-30 and prior-90 (days 31-120) windows that count for an
    account on an observation date: the days it existed (at least 1 in the last 30), and
    no more than the history the windows read (var metrics.min_history_days before the
    date). Rates divide by these, so a young account or a short history is not read as
    a drop or a rise. Used by fct_account_usage_trends and int_account_activity_expected,
    which must agree. -#}
{% macro usage_window_days(tenure_days) -%}
    {%- set history = var('metrics')['min_history_days'] -%}
    least(
        case when {{ tenure_days }} < 30 then greatest({{ tenure_days }}, 1) else 30 end,
        {{ [history, 1] | max }}
    ) as days_in_30d,
    least(greatest({{ tenure_days }} - 30, 0), 90, {{ [history - 30, 0] | max }})
        as days_in_prior_90d
{%- endmacro %}
