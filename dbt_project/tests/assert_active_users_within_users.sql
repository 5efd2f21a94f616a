-- Reads two models: dagster-dbt attaches it, as an asset check, to the one named here.
{{ config(meta={'dagster': {'ref': {'name': 'fct_account_daily_usage'}}}) }}

-- Business invariant: an account cannot have more active users on a day than the users
-- export lists for it (checked only for accounts the users export covers).
with users as (
    select
        account_id,
        count(*) as user_count
    from {{ ref('stg_product__users') }}
    group by account_id
)

select
    d.account_id,
    d.activity_date,
    d.active_users,
    u.user_count
from {{ ref('fct_account_daily_usage') }} as d
inner join users as u on d.account_id = u.account_id
where d.active_users > u.user_count
