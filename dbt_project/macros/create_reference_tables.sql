{#- on-run-start: the reference tables the models read exist even before the pipeline
    first fills them (a standalone dbt build, a fresh warehouse). An empty holiday
    calendar means no seasonality adjustment; the `reference/holiday_calendar` asset
    (alerts.seasonality) writes the real one with the same columns. -#}
{% macro create_reference_tables() -%}
    create schema if not exists reference;
    create table if not exists reference.holiday_calendar (
        country varchar,
        holiday_date date not null,
        holiday_name varchar,
        expected_activity double not null
    )
{%- endmacro %}
