-- Grain: one row per account paying on the as-of date. Silent churn (DOMAIN.md §3):
-- still paying, but for var('metrics').silent_churn_quarters quarters no expansion
-- (MRR never above where it stood before them) while feature depth only shrank
-- (distinct features per 90-day quarter never rose and ended lower).
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

quarters as (
    select
        p.account_id,
        -- days 1-90 before the date are quarter 0, 91-180 quarter 1, ...
        cast(
            floor(({{ dbt.datediff('f.activity_date', 'p.as_of_date', 'day') }} - 1) / 90.0)
            as integer
        ) as quarters_ago,
        count(distinct f.feature) as features_used
    from paying as p
    inner join {{ ref('fct_account_feature_daily_usage') }} as f
        on
            p.account_id = f.account_id
            and p.as_of_date > f.activity_date
            and f.activity_date >= {{ dbt.dateadd('day', -90 * (n + 1), 'p.as_of_date') }}
    group by p.account_id, quarters_ago
),

depth as (
    select
        p.account_id,
        {%- for q in range(n + 1) %}
            coalesce(max(case when q.quarters_ago = {{ q }} then q.features_used end), 0)
                as features_q{{ q }},
        {%- endfor %}
        max(p.tenure_days) as tenure_days
    from paying as p
    left join quarters as q on p.account_id = q.account_id
    group by p.account_id
),

revenue as (
    -- complete months of the window vs the month just before it
    select
        p.account_id,
        max(case when m.month_end >= {{ dbt.dateadd('day', -90 * n, 'p.as_of_date') }} then m.mrr_end end)
            as peak_mrr_in_window,
        max(
            case
                when
                    m.month_end < {{ dbt.dateadd('day', -90 * n, 'p.as_of_date') }}
                    and m.month_end >= {{ dbt.dateadd('day', -90 * n - 31, 'p.as_of_date') }}
                    then m.mrr_end
            end
        ) as mrr_before_window
    from paying as p
    inner join {{ ref('fct_account_mrr_monthly') }} as m on p.account_id = m.account_id
    group by p.account_id
)

select
    p.account_id,
    p.as_of_date,
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
inner join depth as d on p.account_id = d.account_id
left join revenue as r on p.account_id = r.account_id
