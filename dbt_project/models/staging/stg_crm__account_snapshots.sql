-- One row per account per CRM snapshot date: the newest delivery of that snapshot, and
-- the next snapshot's date (the row describes the account until then). Point-in-time
-- attributes (segment, CSM owner) come from here, not from today's CRM.
with ranked as (
    select
        *,
        row_number() over (
            partition by account_id, snapshot_date
            order by _loaded_at desc, _source_file desc, _source_row desc
        ) as delivery_rank
    from {{ source('raw', 'accounts') }}
    where snapshot_date is not null
),

newest_deliveries as (
    select *
    from ranked
    where delivery_rank = 1
)

select
    account_id,
    snapshot_date,
    segment,
    plan,
    contract_term,
    seats,
    mrr,
    csm_owner,
    renewal_date,
    lead(snapshot_date) over (partition by account_id order by snapshot_date) as next_snapshot_date
from newest_deliveries
