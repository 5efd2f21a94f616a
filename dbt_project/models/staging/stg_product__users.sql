-- One row per user: the newest delivered version (user exports are full snapshots).
-- Incremental (macro newest_versions): a night ranks only the new deliveries.
{{ config_newest_versions('user_id') }}

with fresh as (
    {{ fresh_versions('users') }}
),

versions as (
    select
        user_id,
        account_id,
        lower(trim(role)) as user_role,
        created_at,
        deactivated_at,
        _loaded_at,
        _source_file,
        _source_row
    from fresh
    {{ stored_versions_of('fresh', 'user_id') }}
)

select *
from versions
qualify
    row_number() over (
        partition by user_id order by _loaded_at desc, _source_file desc, _source_row desc
    ) = 1
