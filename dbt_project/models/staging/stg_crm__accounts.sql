-- One row per account: its newest CRM snapshot (by snapshot date, then delivery).
with ranked as (
    select
        *,
        row_number() over (
            partition by account_id
            order by
                snapshot_date desc nulls last,
                _loaded_at desc,
                _source_file desc,
                _source_row desc
        ) as snapshot_rank
    from {{ source('raw', 'accounts') }}
)

select
    account_id,
    company_name,
    segment,
    plan,
    contract_term,
    seats,
    mrr,
    signup_date,
    renewal_date,
    csm_owner,
    contact_name,
    contact_email,
    country,
    timezone,
    snapshot_date
from ranked
where snapshot_rank = 1
