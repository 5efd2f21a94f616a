-- One row per support ticket: its newest version (help desks re-export a ticket each
-- time it changes). Only timestamps are used point in time; status and priority are
-- the ticket's current values.
with ranked as (
    select
        *,
        row_number() over (
            partition by ticket_id
            order by
                updated_at desc nulls last,
                _loaded_at desc,
                _source_file desc,
                _source_row desc
        ) as version_rank
    from {{ source('raw', 'support_tickets') }}
)

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
    csat
from ranked
where version_rank = 1
