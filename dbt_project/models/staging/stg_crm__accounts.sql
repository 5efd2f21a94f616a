-- One row per account: its newest CRM snapshot (by snapshot date, then delivery).
-- Incremental (macro newest_versions): a night ranks only the new deliveries.
-- do_not_contact (the CRM opt-out) is false when the export leaves it out or empty. A
-- warehouse built before the column existed needs one `dbt build --full-refresh -s
-- stg_crm__accounts` (its stored rows lack the column).
{{ config_newest_versions('account_id') }}

with fresh as (
    {{ fresh_versions('accounts') }}
),

versions as (
    select
        account_id,
        company_name,
        segment,
        plan,
        contract_term,
        seats,
        mrr,
        signup_date,
        renewal_date,
        csm_owner,
        contact_name,
        contact_email,
        country,
        timezone,
        coalesce(do_not_contact, false) as do_not_contact,
        snapshot_date,
        _loaded_at,
        _source_file,
        _source_row
    from fresh
    {{ stored_versions_of('fresh', 'account_id') }}
)

select *
from versions
qualify
    row_number() over (
        partition by account_id
        order by
            snapshot_date desc nulls last,
            _loaded_at desc,
            _source_file desc,
            _source_row desc
    ) = 1
