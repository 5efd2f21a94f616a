-- One row per support ticket: its newest version (help desks re-export a ticket each
-- time it changes). Only timestamps are used point in time; status and priority are
-- the ticket's current values. Incremental (macro newest_versions): a night ranks only
-- the new exports.
{{ config_newest_versions('ticket_id') }}

with fresh as (
    {{ fresh_versions('support_tickets') }}
),

versions as (
    select
        ticket_id,
        account_id,
        requester_user_id,
        opened_at,
        first_response_at,
        closed_at,
        lower(trim(status)) as status,
        lower(trim(priority)) as priority,
        lower(trim(category)) as category,
        csat,
        subject,
        updated_at,
        _loaded_at,
        _source_file,
        _source_row
    from fresh
    {{ stored_versions_of('fresh', 'ticket_id') }}
)

select *
from versions
qualify
    row_number() over (
        partition by ticket_id
        order by updated_at desc nulls last, _loaded_at desc, _source_file desc, _source_row desc
    ) = 1
