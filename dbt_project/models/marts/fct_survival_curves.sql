-- Grain: one row per dimension ('all', 'segment', 'signup_quarter') per value per
-- month of tenure. Kaplan-Meier survival of the first subscription spell: time from its
-- start to its churn, censored at the as-of date while it runs (or while its end may
-- still be undone by a re-sign). survival = product over months m <= t of
-- (1 - churned(m) / at_risk(m)), months counted as whole 30-day steps.
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

first_spells as (
    select
        s.account_id,
        a.segment,
        cast({{ dbt.date_trunc('quarter', 's.spell_start') }} as date) as signup_quarter,
        s.spell_start,
        coalesce(e.churned_on is not null and not e.is_provisional, false) as churned,
        case
            when e.churned_on is not null and not e.is_provisional then e.churned_on
            else o.as_of_date
        end as observed_until
    from {{ ref('int_subscription_spells_grouped') }} as s
    cross join as_of as o
    inner join {{ ref('stg_crm__accounts') }} as a on s.account_id = a.account_id
    left join {{ ref('int_churn_events_classified') }} as e
        on s.account_id = e.account_id and s.spell_number = e.spell_number
    where s.spell_number = 1
),

durations as (
    select
        account_id,
        churned,
        cast(floor({{ dbt.datediff('spell_start', 'observed_until', 'day') }} / 30.0) as integer)
            as tenure_month,
        segment,
        signup_quarter
    from first_spells
),

grouped as (
    select
        'all' as dimension,
        'all' as dimension_value,
        tenure_month,
        churned
    from durations
    union all
    select
        'segment' as dimension,
        segment as dimension_value,
        tenure_month,
        churned
    from durations
    union all
    select
        'signup_quarter' as dimension,
        cast(signup_quarter as {{ dbt.type_string() }}) as dimension_value,
        tenure_month,
        churned
    from durations
),

per_month as (
    select
        dimension,
        dimension_value,
        tenure_month,
        count(case when churned then 1 end) as churned,
        count(case when not churned then 1 end) as censored
    from grouped
    group by dimension, dimension_value, tenure_month
),

month_numbers as (
    {{ dbt.generate_series(600) }}
),

longest as (
    select
        dimension,
        dimension_value,
        max(tenure_month) as max_month
    from per_month
    group by dimension, dimension_value
),

spine as (
    -- every month from 0 to each group's longest observed tenure
    select
        g.dimension,
        g.dimension_value,
        cast(n.generated_number - 1 as integer) as tenure_month
    from longest as g
    inner join month_numbers as n on n.generated_number - 1 <= g.max_month
),

counted as (
    select
        s.dimension,
        s.dimension_value,
        s.tenure_month,
        coalesce(p.churned, 0) as churned,
        coalesce(p.censored, 0) as censored,
        -- at risk at the start of month t: everyone observed for t months or more
        cast(sum(coalesce(p.churned, 0) + coalesce(p.censored, 0)) over (
            partition by s.dimension, s.dimension_value
            order by s.tenure_month desc
            rows between unbounded preceding and current row
        ) as bigint) as at_risk
    from spine as s
    left join per_month as p
        on
            s.dimension = p.dimension
            and s.dimension_value = p.dimension_value
            and s.tenure_month = p.tenure_month
)

select
    dimension,
    dimension_value,
    tenure_month,
    at_risk,
    churned,
    censored,
    -- a product as exp(sum(ln)); a month where everyone at risk churned ends the curve at 0
    case
        when
            max(case when churned = at_risk and churned > 0 then 1 else 0 end) over (
                partition by dimension, dimension_value
                order by tenure_month
                rows between unbounded preceding and current row
            ) = 1
            then 0.0
        else
            exp(
                sum(ln(greatest(1.0 - churned * 1.0 / at_risk, 1e-9))) over (
                    partition by dimension, dimension_value
                    order by tenure_month
                    rows between unbounded preceding and current row
                )
            )
    end as survival_probability
from counted
