-- One row per subscription period: the newest delivered version of it.
with ranked as (
    select
        *,
        row_number() over (
            partition by subscription_id
            order by _loaded_at desc, _source_file desc, _source_row desc
        ) as version_rank
    from {{ source('raw', 'subscriptions') }}
)

select
    subscription_id,
    account_id,
    plan,
    contract_term,
    seats,
    mrr,
    start_date,
    end_date
from ranked
where version_rank = 1
