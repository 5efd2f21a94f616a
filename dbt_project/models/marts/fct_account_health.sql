-- Grain: one row per account per observation date. A composite 0-100 health score
-- (DOMAIN.md §4) from six component scores (usage against the account's own baseline is
-- seasonality-adjusted: int_account_activity_expected), each 0-100 and visible here. Weights and
-- band bounds come from var('health'); a component with no data for the account (never
-- surveyed, help desk not exported, no payment attempts) is left out and the remaining
-- weights are renormalised, so missing data neither helps nor hurts. Incremental by
-- observation date (macro observation_dates_to_build).
{%- set w = var('health')['weights'] %}
{%- set bands = var('health')['bands'] %}
{{ config_incremental_by_observation_date() }}

with inputs as (
    select
        o.account_id,
        o.observation_date,
        t.logins_30d_tenure_scaled,
        -- against its own baseline per expected activity day: a holiday dip is not a drop
        x.seasonal_logins_change_30v90 as logins_change_30v90,
        b.median_logins_30d,
        a.feature_depth_share,
        a.active_user_share_30d,
        s.open_tickets,
        s.stale_open_tickets,
        s.has_ticket_burst,
        n.nps_latest_score,
        p.has_payment_history,
        p.failed_payments
    from {{ ref('int_account_observations_listed') }} as o
    inner join {{ ref('fct_account_usage_trends') }} as t
        on o.account_id = t.account_id and o.observation_date = t.observation_date
    inner join {{ ref('int_account_activity_expected') }} as x
        on o.account_id = x.account_id and o.observation_date = x.observation_date
    inner join {{ ref('fct_account_adoption') }} as a
        on o.account_id = a.account_id and o.observation_date = a.observation_date
    inner join {{ ref('fct_account_support') }} as s
        on o.account_id = s.account_id and o.observation_date = s.observation_date
    inner join {{ ref('fct_account_nps') }} as n
        on o.account_id = n.account_id and o.observation_date = n.observation_date
    inner join {{ ref('fct_account_billing') }} as p
        on o.account_id = p.account_id and o.observation_date = p.observation_date
    left join {{ ref('fct_cohort_baselines') }} as b
        on
            o.observation_date = b.observation_date
            and o.segment = b.segment
            and o.plan = b.plan
    where o.observation_date in ({{ observation_dates_in_scope() }})
),

helpdesk as (
    -- the help desk export covers a date once it holds a ticket opened before it
    select min(opened_at) as first_opened_at from {{ ref('stg_support__tickets') }}
),

components as (
    select
        i.account_id,
        i.observation_date,
        -- usage: against the cohort's median and against the account's own prior rate
        100.0 * (
            least(1.0, i.logins_30d_tenure_scaled / nullif(i.median_logins_30d, 0))
            + coalesce(
                least(1.0, greatest(0.0, 1.0 + i.logins_change_30v90)),
                least(1.0, i.logins_30d_tenure_scaled / nullif(i.median_logins_30d, 0))
            )
        ) / 2 as usage_score,
        100.0 * i.feature_depth_share as feature_depth_score,
        100.0 * least(1.0, i.active_user_share_30d) as breadth_score,
        case
            when i.observation_date > h.first_opened_at
                then
                    greatest(
                        0.0,
                        100.0
                        - 30.0 * i.stale_open_tickets
                        - case when i.has_ticket_burst then 20.0 else 0.0 end
                        - 10.0 * greatest(i.open_tickets - 1, 0)
                    )
        end as support_score,
        10.0 * i.nps_latest_score as nps_score,
        case
            when i.has_payment_history then greatest(0.0, 100.0 - 50.0 * i.failed_payments)
        end as payment_score
    from inputs as i
    cross join helpdesk as h
),

weighted as (
    select
        *,
        (
            {%- for name, weight in w.items() %}
                coalesce({{ weight }} * {{ name }}_score, 0){{ ' +' if not loop.last }}
            {%- endfor %}
        ) as weighted_sum,
        (
            {%- for name, weight in w.items() %}
                case when {{ name }}_score is not null then {{ weight }} else 0 end
                {{- ' +' if not loop.last }}
            {%- endfor %}
        ) as weight_present
    from components
)

select
    account_id,
    observation_date,
    {%- for name in w %}
        cast({{ name }}_score as double) as {{ name }}_score,
    {%- endfor %}
    cast(weighted_sum / nullif(weight_present, 0) as double) as health_score,
    case
        when weighted_sum / nullif(weight_present, 0) >= {{ bands['green'] }} then 'green'
        when weighted_sum / nullif(weight_present, 0) >= {{ bands['yellow'] }} then 'yellow'
        else 'red'
    end as health_band,
    cast(weight_present as double) as weight_covered,
    {{ inputs_loaded_at([
        ref('int_account_observations_listed'),
        ref('int_account_usage_windows_aggregated'),
        ref('fct_account_adoption'),
        ref('fct_account_support'),
        ref('fct_account_nps'),
        ref('fct_account_billing'),
        ref('fct_cohort_baselines'),
    ]) }} as inputs_loaded_at
from weighted
