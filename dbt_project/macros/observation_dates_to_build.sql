{#- The incremental contract of every per-observation-date model (one row per account per
    observation date, unique_key observation_date, delete+insert): a night rebuilds
    whole dates and keeps the others, and a full refresh gives the same rows.

    A stored date is rebuilt when
      - it is tonight's scoring date;
      - it is not stored yet (a new month start or alert night, a longer history);
      - int_source_changes_listed logs a change loaded after the newest load the model
        has seen (its inputs_loaded_at) that reaches the date: usage of a day inside the
        date's lookback, or any other source's fact dated before it.
    Every other stored date is final: nothing it was computed from has changed, and its
    rows do not depend on the roles the date plays (int_observation_dates_listed), so
    yesterday's scoring date stays as it was when it becomes an ordinary alert night. A
    change of the metrics, health, re-sign gap or minimum tenure configuration is
    logged too and reaches every date; changes of model code, event_roles or
    metrics.core_features (which the event-grain tables use) need a --full-refresh build. -#}
{% macro observation_dates_to_build() -%}
    select d.observation_date
    from {{ ref('int_observation_dates_listed') }} as d
    where
        d.is_scoring_row
        or d.observation_date not in (select done.observation_date from {{ this }} as done)
        or exists (
            select 1
            from {{ ref('int_source_changes_listed') }} as c
            where
                c.loaded_at > (select max(done.inputs_loaded_at) from {{ this }} as done)
                and d.observation_date >= c.first_affected_date
                and (c.last_affected_date is null or d.observation_date <= c.last_affected_date)
        )
{%- endmacro %}

{#- The observation dates a per-date model computes in this run: all of them on a full
    refresh, else observation_dates_to_build(). Models filter every input to these. -#}
{% macro observation_dates_in_scope() -%}
    select observation_date
    from {{ ref('int_observation_dates_listed') }}
    {%- if is_incremental() %}
        where observation_date in ({{ observation_dates_to_build() }})
    {%- endif %}
{%- endmacro %}

{#- The watermark a per-date model stores with every row it builds: the newest load in
    the change log, but no newer than the watermark of any per-date table it reads
    (`upstream`). The next run rebuilds the dates that changes loaded after it reach, so
    a model rebuilt on its own while an input still lags behind the change log (a
    partial selection in the UI) catches up with that input in a later run. -#}
{% macro inputs_loaded_at(upstream=[]) -%}
    {%- set watermarks = [
        "(select max(logged.loaded_at) from " ~ ref('int_source_changes_listed') ~ " as logged)"
    ] -%}
    {%- for relation in upstream -%}
        {%- do watermarks.append(
            "(select max(fed.inputs_loaded_at) from " ~ relation ~ " as fed)"
        ) -%}
    {%- endfor -%}
    {{ 'least(' ~ watermarks | join(', ') ~ ')' if upstream else watermarks[0] }}
{%- endmacro %}

{#- Post-hook of the per-date models: drop dates no longer observed (an alert night that
    left the lookback), so the table holds exactly the current observation dates, as a
    full refresh would. -#}
{% macro drop_unobserved_dates() -%}
    delete from {{ this }}
    where observation_date not in (
        select observation_date from {{ ref('int_observation_dates_listed') }}
    )
{%- endmacro %}

{#- The configuration every per-observation-date model shares (called at the top of the
    model): whole dates replaced, schema drift refused, unobserved dates dropped. -#}
{% macro config_incremental_by_observation_date() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='observation_date',
        on_schema_change='fail',
        post_hook="{{ drop_unobserved_dates() }}",
    ) }}
{%- endmacro %}

{#- The configuration every day-grain incremental model shares (called at the top of the
    model): the days with new events replaced whole, schema drift refused. -#}
{% macro config_incremental_by_activity_date() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='activity_date',
        on_schema_change='fail',
    ) }}
{%- endmacro %}

{#- The observation dates the model's event features are computed for: its training
    dates and tonight's scoring date, and the alert nights only when a replay asks for
    them (it scores those nights with the model). The rules of the other alert nights
    never read event features, and computing them there would triple the work. -#}
{% macro event_feature_dates() -%}
    select observation_date
    from {{ ref('int_observation_dates_listed') }}
    where is_model_date or is_scoring_row{{ ' or is_alert_night' if var('alerts')['nights_from'] }}
{%- endmacro %}
