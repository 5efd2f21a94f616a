-- Point-in-time guard: no snapshot may use usage from its observation day or later.
select
    account_id,
    observation_date,
    last_activity_date
from {{ ref('fct_account_snapshots') }}
where last_activity_date >= observation_date
