-- One row per account: the newest CRM snapshot that mentions it.
with ranked as (
    select
        *,
        row_number() over (
            partition by account_id order by _loaded_at desc, _source_file desc, _source_row desc
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
    timezone
from ranked
where snapshot_rank = 1
