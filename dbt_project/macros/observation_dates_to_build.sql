{#- The observation dates an incremental windowed model must (re)compute: dates it does
    not hold yet (tonight's as-of date, a new month start), and dates whose window of
    `lookback` days contains a day with usage loaded after the newest load the model has
    seen (a late file re-opens the dates around it). Every other stored date is final:
    its window's days cannot change. -#}
{% macro observation_dates_to_build(lookback) -%}
    select d.observation_date
    from {{ ref('int_observation_dates_listed') }} as d
    where
        d.observation_date not in (select done.observation_date from {{ this }} as done)
        or exists (
            select 1
            from {{ ref('fct_account_daily_usage') }} as fresh
            where
                fresh.events_loaded_at > (select max(done.usage_loaded_at) from {{ this }} as done)
                and fresh.activity_date < d.observation_date
                and fresh.activity_date >= {{ dbt.dateadd('day', -lookback, 'd.observation_date') }}
        )
{%- endmacro %}

{#- Post-hook of those models: drop dates no longer observed (yesterday's as-of date),
    so the table always holds exactly the current observation dates, as a full refresh
    would. -#}
{% macro drop_unobserved_dates() -%}
    delete from {{ this }}
    where observation_date not in (
        select observation_date from {{ ref('int_observation_dates_listed') }}
    )
{%- endmacro %}
