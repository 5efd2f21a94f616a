-- Grain: one row per account paying on the as-of date. Silent churn (DOMAIN.md §3):
-- still paying, but for var('metrics').silent_churn_quarters quarters no expansion
-- (month-end MRR never above where it stood before them) while feature depth only
-- shrank (distinct features per quarter never rose and ended lower).
--
-- Quarters are the 90 days before the newest observed month start (quarter 0), and
-- before the month starts 3, 6, ... months earlier: the distinct-feature counts the
-- incremental adoption windows already hold for those dates, so the flag moves on at
-- each new month start and costs nothing to recompute nightly.
{%- set n = var('metrics')['silent_churn_quarters'] %}
with paying as (
    select
        account_id,
        observation_date as as_of_date,
        tenure_days,
        mrr
    from {{ ref('int_account_observations_listed') }}
    where is_scoring_row
),

quarter_end as (
    select max(observation_date) as quarter_end_date
    from {{ ref('int_observation_dates_listed') }}
    where not is_scoring_row
),

quarter_dates as (
    {%- for q in range(n + 1) %}
        select
            {{ q }} as quarters_ago,
            cast({{ dbt.dateadd('month', -3 * q, 'quarter_end_date') }} as date) as window_end
        from quarter_end
        {{- ' union all' if not loop.last }}
    {%- endfor %}
),

quarters as (
    -- a quarter whose window end is not an observation date (too little history) stays
    -- null, and the account is not judged
    select
        p.account_id,
        d.quarters_ago,
        case when o.observation_date is not null then coalesce(w.features_used_90d, 0) end
            as features_used
    from paying as p
    cross join quarter_dates as d
    left join {{ ref('int_observation_dates_listed') }} as o on d.window_end = o.observation_date
    left join {{ ref('int_account_adoption_windows_aggregated') }} as w
        on p.account_id = w.account_id and d.window_end = w.observation_date
),

depth as (
    select
        {%- for q in range(n + 1) %}
            max(case when quarters_ago = {{ q }} then features_used end) as features_q{{ q }},
        {%- endfor %}
        account_id
    from quarters
    group by account_id
),

window_start as (
    -- the oldest quarter's end
    select window_end as window_start
    from quarter_dates
    where quarters_ago = {{ n }}
),

revenue as (
    -- month-end MRR inside the window (the months from the oldest quarter's end on) vs
    -- the month just before it
    select
        p.account_id,
        max(case when m.month_start >= q.window_start then m.mrr_end end) as peak_mrr_in_window,
        max(
            case
                when m.month_start = cast({{ dbt.dateadd('month', -1, 'q.window_start') }} as date)
                    then m.mrr_end
            end
        ) as mrr_before_window
    from paying as p
    cross join window_start as q
    inner join {{ ref('fct_account_mrr_monthly') }} as m on p.account_id = m.account_id
    group by p.account_id
)

select
    p.account_id,
    p.as_of_date,
    q.quarter_end_date,
    p.mrr,
    {%- for q in range(n + 1) %}
        d.features_q{{ q }},
    {%- endfor %}
    r.mrr_before_window,
    r.peak_mrr_in_window,
    coalesce(r.peak_mrr_in_window <= r.mrr_before_window, false) as has_no_expansion,
    (
        {%- for q in range(n) %}
            d.features_q{{ q }} <= d.features_q{{ q + 1 }} and
        {%- endfor %}
        d.features_q0 < d.features_q{{ n }}
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
cross join quarter_end as q
inner join depth as d on p.account_id = d.account_id
left join revenue as r on p.account_id = r.account_id
