-- One row per NPS answer (optional source: empty when not exported), with its
-- standard category: promoters 9-10, passives 7-8, detractors 0-6.
select
    response_id,
    account_id,
    user_id,
    responded_at,
    score,
    case
        when score >= 9 then 'promoter'
        when score >= 7 then 'passive'
        else 'detractor'
    end as nps_category,
    comment
from {{ source('raw', 'nps_responses') }}
