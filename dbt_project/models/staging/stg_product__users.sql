-- One row per user: the newest delivered version (user exports are full snapshots).
with ranked as (
    select
        *,
        row_number() over (
            partition by user_id
            order by _loaded_at desc, _source_file desc, _source_row desc
        ) as version_rank
    from {{ source('raw', 'users') }}
)

select
    user_id,
    account_id,
    lower(trim(role)) as user_role,
    created_at,
    deactivated_at
from ranked
where version_rank = 1
