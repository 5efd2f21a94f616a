-- Grain: one row per account per observation date. Support load as it stood on the
-- date, from ticket timestamps before it: open tickets, tickets open longer than
-- var('metrics').support.stale_ticket_days, recent tickets and bursts, satisfaction of
-- tickets closed in the last 90 days, and the ticket trend (last 30 days vs the prior
-- 90 days' monthly average). Zeros when the help desk is not exported. Incremental by
-- observation date (macro observation_dates_to_build).
{%- set sup = var('metrics')['support'] %}
{{ config_incremental_by_observation_date() }}

with observed as (
    select
        account_id,
        observation_date
    from {{ ref('int_account_observations_listed') }}
    where observation_date in ({{ observation_dates_in_scope() }})
),

tickets as (
    select
        o.account_id,
        o.observation_date,
        t.opened_at,
        t.closed_at,
        t.csat,
        cast(t.opened_at as date) as opened_on,
        t.closed_at is null or t.closed_at >= o.observation_date as is_open
    from observed as o
    inner join {{ ref('stg_support__tickets') }} as t
        on
            o.account_id = t.account_id
            and o.observation_date > t.opened_at
),

summed as (
    select
        account_id,
        observation_date,
        count(case when is_open then 1 end) as open_tickets,
        count(
            case
                when
                    is_open
                    and opened_at
                    < {{ dbt.dateadd('day', -sup['stale_ticket_days'], 'observation_date') }}
                    then 1
            end
        ) as stale_open_tickets,
        count(
            case
                when opened_on >= {{ dbt.dateadd('day', -sup['burst_window_days'], 'observation_date') }}
                    then 1
            end
        ) as tickets_recent,
        count(
            case when opened_on >= {{ dbt.dateadd('day', -30, 'observation_date') }} then 1 end
        ) as tickets_30d,
        count(
            case
                when
                    opened_on < {{ dbt.dateadd('day', -30, 'observation_date') }}
                    and opened_on >= {{ dbt.dateadd('day', -120, 'observation_date') }}
                    then 1
            end
        ) as tickets_prior_90d,
        avg(
            case
                when
                    not is_open
                    and closed_at >= {{ dbt.dateadd('day', -90, 'observation_date') }}
                    then csat
            end
        ) as csat_90d
    from tickets
    group by account_id, observation_date
)

select
    o.account_id,
    o.observation_date,
    coalesce(s.open_tickets, 0) as open_tickets,
    coalesce(s.stale_open_tickets, 0) as stale_open_tickets,
    coalesce(s.tickets_recent, 0) as tickets_recent,
    coalesce(s.tickets_recent, 0) >= {{ sup['burst_tickets'] }} as has_ticket_burst,
    coalesce(s.tickets_30d, 0) as tickets_30d,
    coalesce(s.tickets_prior_90d, 0) / 3.0 as tickets_prior_90d_monthly,
    coalesce(s.tickets_30d, 0) - coalesce(s.tickets_prior_90d, 0) / 3.0 as ticket_trend,
    s.csat_90d,
    {{ inputs_loaded_at([ref('int_account_observations_listed')]) }} as inputs_loaded_at
from observed as o
left join summed as s on o.account_id = s.account_id and o.observation_date = s.observation_date
