-- One row per account per spell: a run of subscription periods with no gap longer than
-- var('resign_gap_days') between them. A spell that ends is a churn; a later spell of
-- the same account is a win-back. Plan changes and late renewals stay inside a spell.
with periods as (
    select
        account_id,
        start_date,
        coalesce(end_date, cast('9999-12-31' as date)) as end_date,
        mrr
    from {{ ref('stg_billing__subscriptions') }}
),

ordered as (
    select
        *,
        max(end_date) over (
            partition by account_id
            order by start_date, end_date
            rows between unbounded preceding and 1 preceding
        ) as covered_until
    from periods
),

marked as (
    select
        *,
        sum(
            case
                when covered_until is null then 1
                when start_date > {{ dbt.dateadd('day', var('resign_gap_days'), 'covered_until') }}
                    then 1
                else 0
            end
        ) over (
            partition by account_id order by start_date, end_date rows unbounded preceding
        ) as spell_number
    from ordered
),

ranked as (
    select
        *,
        row_number() over (
            partition by account_id, spell_number order by start_date desc
        ) as recency_rank
    from marked
)

select
    account_id,
    spell_number,
    min(start_date) as spell_start,
    nullif(max(end_date), cast('9999-12-31' as date)) as spell_end,
    max(mrr) as max_mrr,
    -- the MRR billed when the spell ended: what a churn loses
    max(case when recency_rank = 1 then mrr end) as last_mrr
from ranked
group by account_id, spell_number
