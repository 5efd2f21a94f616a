-- Grain: one row per account. Current attributes plus churn status as of the
-- pipeline's as-of date.
with as_of as (
    select {{ as_of_date() }} as as_of_date
)

select
    a.account_id,
    a.company_name,
    a.segment,
    a.plan,
    a.contract_term,
    a.seats,
    a.mrr,
    a.mrr * 12 as arr,
    a.signup_date,
    a.renewal_date,
    a.csm_owner,
    a.contact_name,
    a.contact_email,
    a.country,
    a.timezone,
    a.do_not_contact,
    coalesce(c.has_churned and c.churned_on < o.as_of_date, false) as has_churned,
    case when c.churned_on < o.as_of_date then c.churned_on end as churned_on,
    case when c.churned_on < o.as_of_date then c.churn_reason end as churn_reason,
    case when c.churned_on < o.as_of_date then c.churn_type end as churn_type,
    {{ dbt.datediff('a.signup_date', 'coalesce(c.churned_on, o.as_of_date)', 'day') }}
        as tenure_days,
    o.as_of_date
from {{ ref('stg_crm__accounts') }} as a
cross join as_of as o
left join {{ ref('int_accounts_churn_derived') }} as c on a.account_id = c.account_id
