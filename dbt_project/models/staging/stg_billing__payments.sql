-- One row per payment attempt (optional source: empty when not exported).
select
    payment_id,
    account_id,
    invoice_id,
    attempted_at,
    amount,
    currency,
    lower(trim(status)) as status,
    failure_code
from {{ source('raw', 'payments') }}
