-- One row per subscription period: the newest delivered version of it. Incremental
-- (macro newest_versions): a night ranks only the new deliveries.
{{ config_newest_versions('subscription_id') }}

with fresh as (
    {{ fresh_versions('subscriptions') }}
),

versions as (
    select
        subscription_id,
        account_id,
        plan,
        contract_term,
        seats,
        mrr,
        start_date,
        end_date,
        _loaded_at,
        _source_file,
        _source_row
    from fresh
    {{ stored_versions_of('fresh', 'subscription_id') }}
)

select *
from versions
qualify
    row_number() over (
        partition by subscription_id order by _loaded_at desc, _source_file desc, _source_row desc
    ) = 1
