-- One row per account per CRM snapshot date: the newest delivery of that snapshot, and
-- the previous and next snapshot's dates, which bound the days the row describes.
-- Point-in-time attributes (segment, CSM owner) come from here, not from today's CRM.
-- Incremental (macro newest_versions): the accounts with a new delivery are ranked
-- again with their stored snapshots, and replaced whole (their neighbours' dates move).
{{ config_newest_versions('account_id') }}

with fresh as (
    select *
    from ({{ fresh_versions('accounts') }}) as delivered
    where snapshot_date is not null
),

versions as (
    select
        account_id,
        snapshot_date,
        segment,
        plan,
        contract_term,
        seats,
        mrr,
        csm_owner,
        renewal_date,
        _loaded_at,
        _source_file,
        _source_row
    from fresh
    {%- if is_incremental() %}
        union all
        select
            done.account_id,
            done.snapshot_date,
            done.segment,
            done.plan,
            done.contract_term,
            done.seats,
            done.mrr,
            done.csm_owner,
            done.renewal_date,
            done._loaded_at,
            done._source_file,
            done._source_row
        from {{ this }} as done
        where done.account_id in (select f.account_id from fresh as f)
    {%- endif %}
),

newest_deliveries as (
    select *
    from versions
    qualify
        row_number() over (
            partition by account_id, snapshot_date
            order by _loaded_at desc, _source_file desc, _source_row desc
        ) = 1
)

select
    account_id,
    snapshot_date,
    segment,
    plan,
    contract_term,
    seats,
    mrr,
    csm_owner,
    renewal_date,
    lag(snapshot_date) over (partition by account_id order by snapshot_date)
        as previous_snapshot_date,
    lead(snapshot_date) over (partition by account_id order by snapshot_date) as next_snapshot_date,
    _loaded_at,
    _source_file,
    _source_row
from newest_deliveries
