-- One row per feedback entry from CS on an alert (optional source: empty until CS ops
-- send some): engaged, snoozed or dismissed with a reason code. The alerts engine
-- applies each entry on the first night after it was submitted.
select
    feedback_id,
    trim(alert_id) as alert_id,
    account_id,
    lower(trim(action)) as action,  -- noqa: RF04
    lower(trim(reason_code)) as reason_code,
    trim(alert_type) as alert_type,
    csm_owner,
    comment,
    submitted_at,
    _source_file
from {{ source('raw', 'alert_feedback') }}
