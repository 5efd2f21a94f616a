-- One row per cancellation request (optional source: empty when not exported).
select
    cancellation_id,
    account_id,
    subscription_id,
    requested_at,
    effective_date,
    lower(trim(reason)) as reason,
    lower(trim(churn_type)) as churn_type
from {{ source('raw', 'cancellations') }}
