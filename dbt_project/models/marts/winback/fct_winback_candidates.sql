-- Grain: one row per account that, as of the as-of date, is a win-back candidate
-- (DOMAIN.md §9): its newest subscription spell has ended (candidate_kind 'churned'), or
-- it pays in a running spell but has not logged in for var('winback').inactive_days
-- ('inactive'), or it churned within var('winback').returned_within_days and has come
-- back (listed as 'churned', excluded as 'already_back'). Each row carries the segment
-- (recency, lifetime value, engagement before the churn), the offer for its churn
-- reason, a priority and rank, the touch cadence, and why it is excluded, if it is.
--
-- Touches follow var('winback').touch_days after the churn (an inactive account: on
-- inactive_days and the touch days above it, counted from its last login). A touch is
-- due tonight from its day for touch_window_days nights, so a missed run does not lose
-- it, unless an outreach to the account (stg_cs__outreach_outcomes) was sent on or
-- after that day. After the last touch the cadence stops ('past_last_touch').
{%- set wb = var('winback') %}
{%- set touch_days = wb['touch_days'] %}
{%- set window = wb['touch_window_days'] %}
{%- set inactive_days = wb['inactive_days'] %}
{%- set inactive_touch_days = [inactive_days] + (touch_days | select('gt', inactive_days) | list) %}
{%- set schedules = {'churned': touch_days, 'inactive': inactive_touch_days} %}
{%- set rules = wb['poor_investment'] %}
{%- set bands = var('health')['bands'] %}
{%- set updates = [] %}
{%- for update in wb['product_updates'] %}
    {%- for reason in update['reasons'] %}
        {%- do updates.append({
            'name': update['name'] | replace("'", "''"),
            'shipped_on': update['shipped_on'],
            'reason': reason,
        }) %}
    {%- endfor %}
{%- endfor %}
with as_of as (
    select {{ as_of_date() }} as as_of_date
),

newest_spell as (
    select
        s.account_id,
        s.spell_number,
        s.spell_start,
        s.last_mrr,
        s.spell_end is null or s.spell_end >= o.as_of_date as is_running
    from {{ ref('int_subscription_spells_grouped') }} as s
    cross join as_of as o
    where s.spell_start < o.as_of_date
    qualify row_number() over (partition by s.account_id order by s.spell_number desc) = 1
),

churns as (
    select * from {{ ref('int_winback_churns_listed') }}
),

last_login as (
    select
        u.account_id,
        max(u.activity_date) as last_login_on
    from {{ ref('fct_account_daily_usage') }} as u
    cross join as_of as o
    where u.logins > 0 and u.activity_date < o.as_of_date
    group by u.account_id
),

running as (
    -- paying accounts in a running spell and the days since their last login (since the
    -- spell started when they never logged in)
    select
        n.account_id,
        n.spell_number,
        l.last_login_on,
        coalesce(l.last_login_on, n.spell_start) as quiet_since,
        n.last_mrr > 0
        and {{ dbt.datediff('coalesce(l.last_login_on, n.spell_start)', 'o.as_of_date', 'day') }}
        >= {{ inactive_days }} as is_inactive
    from newest_spell as n
    cross join as_of as o
    left join last_login as l on n.account_id = l.account_id
    where n.is_running
),

listed as (
    select
        n.account_id,
        'churned' as candidate_kind,
        c.spell_number as churned_spell_number,
        c.churned_on,
        cast(null as date) as returned_on,
        l.last_login_on,
        c.churned_on as counted_from,
        c.churned_on as health_until
    from newest_spell as n
    inner join churns as c on n.account_id = c.account_id and n.spell_number = c.spell_number
    left join last_login as l on n.account_id = l.account_id
    where not n.is_running
    union all
    select
        r.account_id,
        'inactive' as candidate_kind,
        cast(null as bigint) as churned_spell_number,
        cast(null as date) as churned_on,
        cast(null as date) as returned_on,
        r.last_login_on,
        r.quiet_since as counted_from,
        cast({{ dbt.dateadd('day', -1, 'o.as_of_date') }} as date) as health_until
    from running as r
    cross join as_of as o
    where r.is_inactive
    union all
    -- came back after a recent churn (and not inactive now): shown, excluded
    select
        r.account_id,
        'churned' as candidate_kind,
        c.spell_number as churned_spell_number,
        c.churned_on,
        c.returned_on,
        r.last_login_on,
        c.churned_on as counted_from,
        c.churned_on as health_until
    from running as r
    cross join as_of as o
    inner join churns as c
        on r.account_id = c.account_id and c.spell_number = r.spell_number - 1
    where
        not r.is_inactive
        and c.churned_on >= {{ dbt.dateadd('day', -wb['returned_within_days'], 'o.as_of_date') }}
),

health as (
    -- the newest health score observed on or before the churn (inactive: before the as-of
    -- date); each date's score is computed from the days before it
    select
        l.account_id,
        h.observation_date,
        h.health_score
    from listed as l
    inner join {{ ref('fct_account_health') }} as h
        on l.account_id = h.account_id and l.health_until >= h.observation_date
    where h.health_score is not null
    qualify row_number() over (partition by l.account_id order by h.observation_date desc) = 1
),

lifetime as (
    select *
    from {{ ref('int_account_lifetime_value_summed') }}
    qualify row_number() over (partition by account_id order by spell_number desc) = 1
),

product_updates as (
    {%- for u in updates %}
        select
            '{{ u.name }}' as update_name,
            cast('{{ u.shipped_on }}' as date) as shipped_on,
            '{{ u.reason }}' as churn_reason
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- else %}
        select
            cast(null as varchar) as update_name,
            cast(null as date) as shipped_on,
            cast(null as varchar) as churn_reason
        where false
    {%- endfor %}
),

shipped as (
    -- the newest update for the churn's reason shipped after the churn, by the as-of date
    select
        l.account_id,
        u.update_name,
        u.shipped_on
    from listed as l
    cross join as_of as o
    inner join churns as c
        on l.account_id = c.account_id and l.churned_spell_number = c.spell_number
    inner join product_updates as u
        on
            c.churn_reason = u.churn_reason
            and l.churned_on < u.shipped_on
            and o.as_of_date >= u.shipped_on
    qualify
        row_number() over (partition by l.account_id order by u.shipped_on desc, u.update_name asc) = 1
),

outreach as (
    select
        r.account_id,
        max(cast(r.sent_at as date)) as last_outreach_on
    from {{ ref('stg_cs__outreach_outcomes') }} as r
    cross join as_of as o
    where r.sent_at < o.as_of_date
    group by r.account_id
),

segmented as (
    select
        l.account_id,
        a.company_name,
        a.csm_owner,
        a.segment,
        a.plan,
        a.contact_name,
        a.do_not_contact,
        l.candidate_kind,
        coalesce(c.is_provisional, false) as is_provisional,
        l.churned_on,
        l.returned_on,
        l.last_login_on,
        l.counted_from,
        {{ dbt.datediff('l.counted_from', 'o.as_of_date', 'day') }} as days_since_churn,
        c.churn_reason,
        c.churn_type,
        n.last_mrr,
        coalesce(v.lifetime_value, 0) as lifetime_value,
        coalesce(v.tenure_days, 0) as tenure_days,
        coalesce(v.billed_months, 0) as billed_months,
        coalesce(v.billed_periods, 0) as billed_periods,
        h.health_score as health_before_churn,
        h.observation_date as health_observed_on,
        coalesce(c.offer_key, i.offer_key) as offer_key,
        coalesce(c.offer_text, i.offer_text) as offer_text,
        coalesce(c.waits_for_product_update, false) as waits_for_product_update,
        s.update_name as product_update,
        s.shipped_on as product_update_shipped_on,
        w.last_outreach_on,
        o.as_of_date
    from listed as l
    cross join as_of as o
    inner join {{ ref('dim_accounts') }} as a on l.account_id = a.account_id
    inner join newest_spell as n on l.account_id = n.account_id
    inner join {{ ref('int_winback_offers_listed') }} as i on i.churn_reason = 'inactive'
    left join churns as c
        on l.account_id = c.account_id and l.churned_spell_number = c.spell_number
    left join lifetime as v on l.account_id = v.account_id
    left join health as h on l.account_id = h.account_id
    left join shipped as s on l.account_id = s.account_id
    left join outreach as w on l.account_id = w.account_id
),

touches as (
    select
        *,
        -- the touch whose window holds tonight (windows never overlap: config validation)
        case
            {%- for kind, days in schedules.items() %}
                {%- for day in days %}
                    when
                        candidate_kind = '{{ kind }}'
                        and days_since_churn between {{ day }} and {{ day + window - 1 }}
                        then {{ day }}
                {%- endfor %}
            {%- endfor %}
        end as touch_in_window,
        case
            {%- for kind, days in schedules.items() %}
                {%- for day in days %}
                    when candidate_kind = '{{ kind }}' and days_since_churn < {{ day }} then {{ day }}
                {%- endfor %}
            {%- endfor %}
        end as upcoming_touch_day,
        case
            {%- for kind, days in schedules.items() %}
                when candidate_kind = '{{ kind }}' then {{ days[-1] }}
            {%- endfor %}
        end as last_touch_day
    from segmented
),

touch_due as (
    select
        *,
        -- due unless an outreach was sent on or after the touch day
        case
            when
                touch_in_window is not null
                and (
                    last_outreach_on is null
                    or last_outreach_on
                    < {{ dbt.dateadd('day', 'touch_in_window', 'counted_from') }}
                )
                then touch_in_window
        end as touch_reached
    from touches
),

excluded as (
    select
        *,
        case
            when returned_on is not null then 'already_back'
            when do_not_contact then 'do_not_contact'
            when days_since_churn > last_touch_day and touch_reached is null then 'past_last_touch'
            when candidate_kind = 'churned' and tenure_days < {{ rules['min_tenure_days'] }}
                then 'poor_investment_tenure'
            when candidate_kind = 'churned' and billed_periods < {{ rules['min_billed_periods'] }}
                then 'no_continuing_relationship'
            when waits_for_product_update and product_update is null
                then 'waiting_for_product_update'
        end as exclusion_code,
        case
            when health_before_churn >= {{ bands['green'] }} then 'high'
            when health_before_churn >= {{ bands['yellow'] }} then 'medium'
            when health_before_churn is not null then 'low'
            else 'unknown'
        end as engagement_tier,
        {{ winback_value_tier('lifetime_value', 'last_mrr') }} as value_tier
    from touch_due
),

scored as (
    -- value first, then past engagement; involuntary churners come back more loyal
    -- (DOMAIN.md §9). 0-7: high value and high engagement score 6 or 7
    select
        *,
        case value_tier when 'high' then 4 when 'medium' then 2 else 0 end
        + case engagement_tier when 'high' then 2 when 'medium' then 1 else 0 end
        + case when churn_type = 'involuntary' then 1 else 0 end as priority_score
    from excluded
)

select
    account_id,
    company_name,
    csm_owner,
    segment,
    plan,
    contact_name,
    candidate_kind,
    is_provisional,
    churned_on,
    returned_on,
    last_login_on,
    days_since_churn,
    case
        when days_since_churn <= 30 then '0-30'
        when days_since_churn <= 90 then '31-90'
        when days_since_churn <= 180 then '91-180'
        else '180+'
    end as recency_bucket,
    churn_reason,
    churn_type,
    last_mrr,
    round(lifetime_value, 2) as lifetime_value,
    tenure_days,
    billed_months,
    billed_periods,
    value_tier,
    round(health_before_churn, 1) as health_before_churn,
    health_observed_on,
    engagement_tier,
    offer_key,
    case
        when product_update is not null
            then
                offer_text || ' (' || product_update || ', shipped '
                || cast(product_update_shipped_on as {{ dbt.type_string() }}) || ')'
        else offer_text
    end as offer,
    product_update,
    priority_score,
    case when priority_score >= 5 then 'high' when priority_score >= 3 then 'medium' else 'low' end
        as priority,
    row_number() over (
        order by
            case when exclusion_code is null then 0 else 1 end asc,
            priority_score desc,
            -- the value shown, rounded: a float sum's noise must not reorder equal values
            round(lifetime_value, 2) desc,
            account_id asc
    ) as priority_rank,
    exclusion_code is null as is_eligible,
    exclusion_code,
    case exclusion_code
        when 'poor_investment_tenure'
            then 'poor_investment: tenure under {{ rules["min_tenure_days"] }} days'
        when 'no_continuing_relationship'
            then
                'poor_investment: no continuing relationship (fewer than '
                || '{{ rules["min_billed_periods"] }} billed periods)'
        else exclusion_code
    end as excluded_reason,
    do_not_contact,
    case when exclusion_code is null then touch_reached end as touch_due_tonight,
    case
        when exclusion_code is null and touch_reached is not null
            then cast({{ dbt.dateadd('day', 'touch_reached', 'counted_from') }} as date)
    end as touch_due_on,
    case when exclusion_code is null then upcoming_touch_day end as next_touch_day,
    case
        when exclusion_code is null and upcoming_touch_day is not null
            then cast({{ dbt.dateadd('day', 'upcoming_touch_day', 'counted_from') }} as date)
    end as next_touch_on,
    as_of_date
from scored
