-- One row per load per source (per usage day for usage events) that changed what the
-- warehouse knows, with the range of observation dates the change can reach: the log
-- every per-observation-date model reads to decide which stored dates to rebuild
-- (macro observation_dates_to_build). A date d is reachable when the changed fact is
-- dated before d: usage of a day reaches the var('metrics').min_history_days dates
-- after it; a ticket, answer, payment, cancellation, user, subscription period or CRM
-- snapshot reaches every later date (open-ended). Loads that change nothing (a full
-- snapshot delivered again) leave no row.
--
-- Append-only: a run logs the loads newer than the newest it has logged. Usage comes
-- from fct_account_daily_usage (the newest load of each rebuilt day), the other sources
-- from their raw rows compared with the previous version of the same key. A change of
-- the configuration the stored dates depend on (metrics, health, re-sign gap, minimum
-- tenure, the alerts' seasonality, which the health score's usage reads, the model's
-- observation dates, the accounts' terms behind days to renewal) is
-- logged as a 'configuration' change reaching every date, so the next run
-- rebuilds them all instead of mixing two definitions in one table.
{%- set lookback = var('metrics')['min_history_days'] %}
{%- set gap = var('resign_gap_days') %}
{%- set config_text = [
    var('metrics'), var('health'), var('resign_gap_days'), var('min_tenure_days'),
    var('alerts')['seasonality'], var('observation_dates'), var('accounts')['contract_terms'],
] | tojson %}
{%- set fingerprint = dbt.hash("'" ~ config_text | replace("'", "''") ~ "'") %}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
{%- if is_incremental() %}
    {%- set since = "(select coalesce(max(logged.loaded_at), cast('1900-01-01' as timestamp)) from "
        ~ this ~ " as logged)" %}
{%- else %}
    {%- set since = "cast('1900-01-01' as timestamp)" %}
{%- endif %}
{%- set day_after = "cast(" ~ dbt.dateadd('day', 1, "cast({} as date)") ~ " as date)" %}

with usage_days as (
    select
        'usage_events' as source_name,
        max(events_loaded_at) as loaded_at,
        cast({{ dbt.dateadd('day', 1, 'activity_date') }} as date) as first_affected_date,
        cast({{ dbt.dateadd('day', lookback, 'activity_date') }} as date) as last_affected_date
    from {{ ref('fct_account_daily_usage') }}
    group by activity_date
    having max(events_loaded_at) > {{ since }}
),

subscriptions as (
    -- a new or re-dated period reaches the dates from its start, a new end date the
    -- dates from the earlier end, a new plan, seats or MRR the dates from the start;
    -- and a period starting within the re-sign gap of a spell's end joins that spell
    select
        'subscriptions' as source_name,
        loaded_at,
        cast({{ dbt.dateadd('day', -gap, """case
            when is_new_key then start_date
            when start_date != previous_start_date then least(start_date, previous_start_date)
            when end_date is distinct from previous_end_date then least(end_date, previous_end_date)
            else start_date
        end""") }} as date) as first_affected_date
    from ({{ changed_source_versions('subscriptions', ['subscription_id'],
        ['start_date', 'end_date'], since) }}) as changed
),

crm_versions as (
    -- every delivered CRM row of the accounts with a new one, ranked as
    -- stg_crm__accounts ranks them: over all of them, and over those loaded before this run
    {%- set newest_first = "v.snapshot_date desc nulls last, v._loaded_at desc, "
        ~ "v._source_file desc, v._source_row desc" %}
    select
        v.account_id,
        v.signup_date,
        row_number() over (partition by v.account_id order by {{ newest_first }}) as rank_now,
        case when v._loaded_at <= {{ since }} then row_number() over (
            partition by v.account_id, v._loaded_at <= {{ since }} order by {{ newest_first }}
        ) end as rank_before
    from {{ source('raw', 'accounts') }} as v
    where v.account_id in (
        select fresh.account_id from {{ source('raw', 'accounts') }} as fresh
        where fresh._loaded_at > {{ since }}
    )
),

signup_moved as (
    -- accounts whose current signup date (their newest snapshot's) is not the one the
    -- stored dates were built with, new accounts included
    select account_id
    from crm_versions
    group by account_id
    having
        count(case when rank_before = 1 then 1 end) = 0
        or max(case when rank_now = 1 then signup_date end)
        != max(case when rank_before = 1 then signup_date end)
),

crm_snapshots as (
    -- a dated snapshot describes the account from the next day on; an account's first
    -- snapshot also stands in for the days before it, so a first (or back-filled) or
    -- undated snapshot, or a moved signup date, reaches every day and month of the
    -- account: from its signup or its first subscription period, whichever is earlier
    select
        'accounts' as source_name,
        c.loaded_at,
        case
            when
                c.snapshot_date is not null
                and c.account_id not in (select m.account_id from signup_moved as m)
                and exists (
                    select 1
                    from {{ source('raw', 'accounts') }} as earlier
                    where earlier.account_id = c.account_id and earlier.snapshot_date < c.snapshot_date
                )
                then {{ day_after.format('c.snapshot_date') }}
            else least(
                (
                    select min(every.signup_date)
                    from {{ source('raw', 'accounts') }} as every
                    where every.account_id = c.account_id
                ),
                (
                    select min(period.start_date)
                    from {{ source('raw', 'subscriptions') }} as period
                    where period.account_id = c.account_id
                )
            )
        end as first_affected_date
    from ({{ changed_source_versions('accounts', ['account_id', 'snapshot_date'],
        ['account_id', 'snapshot_date'], since) }}) as c
),

users as (
    -- a user counts on the dates after creation (every date without one) up to the
    -- deactivation: a change reaches the dates from the earlier of the changed values
    select
        'users' as source_name,
        loaded_at,
        {{ day_after.format("""case
            when is_new_key then coalesce(created_at, cast('1900-01-01' as date))
            when created_at is distinct from previous_created_at
                then least(
                    coalesce(created_at, cast('1900-01-01' as date)),
                    coalesce(previous_created_at, cast('1900-01-01' as date))
                )
            when deactivated_at is distinct from previous_deactivated_at
                then least(deactivated_at, previous_deactivated_at)
            else coalesce(created_at, cast('1900-01-01' as date))
        end""") }} as first_affected_date
    from ({{ changed_source_versions('users', ['user_id'],
        ['created_at', 'deactivated_at'], since) }}) as changed
),

tickets as (
    select
        'support_tickets' as source_name,
        loaded_at,
        {{ day_after.format('least(opened_at, previous_opened_at)') }} as first_affected_date
    from ({{ changed_source_versions('support_tickets', ['ticket_id'],
        ['opened_at'], since) }}) as changed
),

appended as (
    -- append-only sources: every newly loaded row is new
    select
        'nps_responses' as source_name,
        _loaded_at as loaded_at,
        {{ day_after.format('responded_at') }} as first_affected_date
    from {{ source('raw', 'nps_responses') }}
    where _loaded_at > {{ since }}
    union all
    select
        'payments' as source_name,
        _loaded_at as loaded_at,
        {{ day_after.format('attempted_at') }} as first_affected_date
    from {{ source('raw', 'payments') }}
    where _loaded_at > {{ since }}
    union all
    -- a cancellation is pending from the day after its request; its reason classifies
    -- a churn up to the re-sign gap before its effective date
    select
        'cancellations' as source_name,
        _loaded_at as loaded_at,
        least(
            {{ day_after.format('requested_at') }},
            cast({{ dbt.dateadd('day', -gap, 'effective_date') }} as date)
        ) as first_affected_date
    from {{ source('raw', 'cancellations') }}
    where _loaded_at > {{ since }}
),

configuration as (
    -- logged just after the newest load, so it is newer than every table's watermark
    {%- if is_incremental() %}
        select
            'configuration' as source_name,
            {{ dbt.dateadd('microsecond', 1, 'newest.loaded_at') }} as loaded_at,
            cast('1900-01-01' as date) as first_affected_date
        from (
            select
                logged.loaded_at,
                logged.config_fingerprint
            from {{ this }} as logged  -- noqa: RF04
            order by logged.loaded_at desc
            limit 1
        ) as newest
        where newest.config_fingerprint != {{ fingerprint }}
    {%- else %}
        select
            'configuration' as source_name,
            cast(null as timestamp) as loaded_at,
            cast(null as date) as first_affected_date
        where false
    {%- endif %}
),

open_ended as (
    select * from configuration
    union all
    select * from subscriptions
    union all
    select * from crm_snapshots
    union all
    select * from users
    union all
    select * from tickets
    union all
    select * from appended
)

select
    source_name,
    loaded_at,
    first_affected_date,
    last_affected_date,
    {{ fingerprint }} as config_fingerprint
from usage_days
union all
select
    source_name,
    loaded_at,
    min(first_affected_date) as first_affected_date,
    cast(null as date) as last_affected_date,
    {{ fingerprint }} as config_fingerprint
from open_ended
group by source_name, loaded_at
