-- Grain: one row per alert night per source. The newest day each source holds a record
-- for before the night (null: nothing yet, or the source is not exported): the alerts
-- engine compares it with alerts.sources.max_lag_days and keeps the rules that read a
-- stale source silent on that night, rather than alert on data that stopped arriving.
-- Point in time like the signals: a record dated on or after the night is not seen.
{{ config(materialized='view') }}

with nights as (
    select observation_date as night
    from {{ ref('int_observation_dates_listed') }}
    where is_alert_night
),

record_days as (
    select distinct
        'usage_events' as source_name,
        activity_date as record_date
    from {{ ref('fct_account_daily_usage') }}
    union all
    select distinct
        'support_tickets' as source_name,
        cast(opened_at as date) as record_date
    from {{ ref('stg_support__tickets') }}
    union all
    select distinct
        'payments' as source_name,
        cast(attempted_at as date) as record_date
    from {{ ref('stg_billing__payments') }}
    union all
    select distinct
        'nps_responses' as source_name,
        cast(responded_at as date) as record_date
    from {{ ref('stg_surveys__nps_responses') }}
    union all
    select distinct
        'subscriptions' as source_name,
        start_date as record_date
    from {{ ref('stg_billing__subscriptions') }}
    union all
    select distinct
        'accounts' as source_name,
        snapshot_date as record_date
    from {{ ref('stg_crm__account_snapshots') }}
),

sources as (
    select distinct source_name from record_days
)

select
    n.night,
    s.source_name,
    max(r.record_date) as newest_record_date,
    {{ dbt.datediff('max(r.record_date)', 'n.night', 'day') }} as days_since_newest_record
from nights as n
cross join sources as s
left join record_days as r
    on s.source_name = r.source_name and n.night > r.record_date
group by n.night, s.source_name
