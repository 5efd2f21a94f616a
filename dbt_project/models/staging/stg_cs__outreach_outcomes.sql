-- One row per outreach sent from a draft (optional source): when it was sent, opened,
-- clicked or replied to, and its outcome, tied to the alert it answered.
select
    outreach_id,
    trim(alert_id) as alert_id,
    account_id,
    lower(trim(channel)) as channel,
    sent_at,
    opened_at,
    clicked_at,
    replied_at,
    lower(trim(outcome)) as outcome
from {{ source('raw', 'outreach_outcomes') }}
