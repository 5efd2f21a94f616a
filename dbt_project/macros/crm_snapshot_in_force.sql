{#- Joins observations (`observed`: account_id, observation_date) to the CRM snapshot
    (`snapshots`: stg_crm__account_snapshots) in force on each date: the newest one
    before the date, else the account's first one (the nearest known). Used by
    int_account_observations_listed and int_account_attributes_listed, which must agree
    on which export an account's attributes come from. -#}
{% macro crm_snapshot_in_force(observed, snapshots) -%}
    on
        {{ observed }}.account_id = {{ snapshots }}.account_id
        and (
            {{ observed }}.observation_date > {{ snapshots }}.snapshot_date
            or {{ snapshots }}.previous_snapshot_date is null
        )
    qualify
        row_number() over (
            partition by {{ observed }}.observation_date, {{ observed }}.account_id
            order by
                case
                    when {{ observed }}.observation_date > {{ snapshots }}.snapshot_date
                        then {{ snapshots }}.snapshot_date
                end desc nulls last
        ) = 1
{%- endmacro %}
