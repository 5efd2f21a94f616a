-- Grain: one row per account paying on an alert night (the as-of date is one; see
-- int_observation_dates_listed). Silent churn (DOMAIN.md §3): still paying, but for
-- var('metrics').silent_churn_quarters quarters no expansion (month-end MRR never
-- above where it stood before them) while feature depth only shrank (distinct features
-- per quarter never rose and ended lower).
--
-- A night's quarters are the 90 days before the newest month start before it (quarter
-- 0) and before the month starts 3, 6, ... months earlier: the distinct-feature counts
-- the incremental adoption windows already hold for those dates, so the flag moves on
-- at each new month start, is the same on every night of a month, and never reads a
-- day on or after the night.
{%- set n = var('metrics')['silent_churn_quarters'] %}
with dates as (
    select * from {{ ref('int_observation_dates_listed') }}
),

nights as (
    select
        night.observation_date as night,
        max(month_start.observation_date) as quarter_end_date
    from dates as night
    inner join dates as month_start
        on night.observation_date > month_start.observation_date and month_start.is_month_start
    where night.is_alert_night
    group by night.observation_date
),

paying as (
    select
        o.account_id,
        o.observation_date as night,
        o.tenure_days,
        o.mrr,
        n.quarter_end_date
    from {{ ref('int_account_observations_listed') }} as o
    inner join nights as n on o.observation_date = n.night
),

quarter_dates as (
    {%- for q in range(n + 1) %}
        select
            night,
            {{ q }} as quarters_ago,
            cast({{ dbt.dateadd('month', -3 * q, 'quarter_end_date') }} as date) as window_end
        from nights
        {{- ' union all' if not loop.last }}
    {%- endfor %}
),

quarters as (
    -- a quarter whose window end is not an observation date (too little history) stays
    -- null, and the account is not judged
    select
        p.account_id,
        p.night,
        d.quarters_ago,
        case when o.observation_date is not null then coalesce(w.features_used_90d, 0) end
            as features_used
    from paying as p
    inner join quarter_dates as d on p.night = d.night
    left join dates as o on d.window_end = o.observation_date
    left join {{ ref('int_account_adoption_windows_aggregated') }} as w
        on p.account_id = w.account_id and d.window_end = w.observation_date
),

depth as (
    select
        {%- for q in range(n + 1) %}
            max(case when quarters_ago = {{ q }} then features_used end) as features_q{{ q }},
        {%- endfor %}
        account_id,
        night
    from quarters
    group by account_id, night
),

window_start as (
    -- the oldest quarter's end
    select
        night,
        window_end as window_start
    from quarter_dates
    where quarters_ago = {{ n }}
),

revenue as (
    -- month-end MRR inside the window (the months from the oldest quarter's end on, up
    -- to the night's quarter end) vs the month just before it
    select
        p.account_id,
        p.night,
        max(
            case
                when m.month_start >= q.window_start and m.month_start < p.quarter_end_date
                    then m.mrr_end
            end
        ) as peak_mrr_in_window,
        max(
            case
                when m.month_start = cast({{ dbt.dateadd('month', -1, 'q.window_start') }} as date)
                    then m.mrr_end
            end
        ) as mrr_before_window
    from paying as p
    inner join window_start as q on p.night = q.night
    inner join {{ ref('fct_account_mrr_monthly') }} as m on p.account_id = m.account_id
    group by p.account_id, p.night
)

select
    p.account_id,
    p.night,
    p.quarter_end_date,
    p.mrr,
    {%- for q in range(n + 1) %}
        d.features_q{{ q }},
    {%- endfor %}
    r.mrr_before_window,
    r.peak_mrr_in_window,
    coalesce(r.peak_mrr_in_window <= r.mrr_before_window, false) as has_no_expansion,
    coalesce(
        {%- for q in range(n) %}
            d.features_q{{ q }} <= d.features_q{{ q + 1 }} and
        {%- endfor %}
        d.features_q0 < d.features_q{{ n }},
        false
    ) as has_shrinking_depth,
    coalesce(
        p.tenure_days >= {{ 90 * (n + 1) }}
        and r.peak_mrr_in_window <= r.mrr_before_window
        {%- for q in range(n) %}
            and d.features_q{{ q }} <= d.features_q{{ q + 1 }}
        {%- endfor %}
        and d.features_q0 < d.features_q{{ n }},
        false
    ) as is_silent_churn
from paying as p
inner join depth as d on p.account_id = d.account_id and p.night = d.night
left join revenue as r on p.account_id = r.account_id and p.night = r.night
