"""What the site's pages read from the warehouse: account-level marts, the alert state and
the model's tables. Day- and event-grain work stays in dbt (the weekly usage and recent
features marts); these queries only select, filter to the pages' accounts and join.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import pandas as pd

from alerts.lifecycle import OPEN
from alerts.store import LIVE_SCHEMA
from ml.score import SCORES_TABLE

HEALTH_TREND_DAYS = 28  # the health arrow compares with the score four weeks earlier


def tonight(con: duckdb.DuckDBPyConnection) -> date:
    """The newest processed alert night: the data's as-of date on every page."""
    return con.execute(f"select max(night) from {LIVE_SCHEMA}.night_runs").fetchone()[0]


def account_overview(con: duckdb.DuckDBPyConnection, night: date) -> pd.DataFrame:
    """Every account: CRM attributes, churn status, tonight's score, health now and four
    weeks earlier, and its open alert (if any). One row per account."""
    return con.execute(
        f"""
        with health as (
            select account_id, observation_date, health_score, health_band
            from marts.fct_account_health where observation_date <= ?
        ),
        health_now as (
            select * from health
            qualify row_number() over (partition by account_id order by observation_date desc) = 1
        ),
        health_before as (
            select * from health where observation_date <= ? - {HEALTH_TREND_DAYS}
            qualify row_number() over (partition by account_id order by observation_date desc) = 1
        ),
        open_alert as (
            select account_id, alert_id, severity, primary_type, types, reason, playbook,
                   touch, strftime(sla_due_at, '%Y-%m-%d %H:%M UTC') as due_by, first_delivered_night
            from {LIVE_SCHEMA}.alert_history
            where night = ? and status in (select unnest(?::varchar[]))
        ),
        scores as (
            select account_id, churn_probability, risk_tier, reasons
            from {SCORES_TABLE} where as_of_date = (select max(as_of_date) from {SCORES_TABLE})
        )
        select
            a.account_id, a.company_name, a.segment, a.plan, a.contract_term, a.seats, a.mrr,
            a.arr, a.signup_date, a.renewal_date,
            date_diff('day', ?::date, a.renewal_date) as days_to_renewal,
            a.csm_owner, a.country, a.has_churned, a.churned_on, a.churn_reason,
            a.tenure_days,
            h.health_score, h.health_band, h.observation_date as health_date,
            h.health_score - b.health_score as health_change,
            s.churn_probability, s.risk_tier, s.reasons as score_reasons,
            o.alert_id, o.severity, o.primary_type, o.types, o.reason as alert_reason,
            o.playbook, o.touch, o.due_by, o.first_delivered_night
        from marts.dim_accounts as a
        left join health_now as h using (account_id)
        left join health_before as b using (account_id)
        left join scores as s using (account_id)
        left join open_alert as o using (account_id)
        """,
        [night, night, night, list(OPEN), night],
    ).df()


def _for_accounts(
    con: duckdb.DuckDBPyConnection, sql: str, accounts: Sequence[str], *params: object
) -> pd.DataFrame:
    """Run ``sql`` (which filters on ``account_id in (select unnest(?))``) for a set."""
    return con.execute(sql, [list(accounts), *params]).df()


def weekly_usage(con: duckdb.DuckDBPyConnection, accounts: Sequence[str]) -> pd.DataFrame:
    """The last 26 whole weeks of each account (logins vs own baseline and cohort)."""
    return _for_accounts(
        con,
        """select * from marts.fct_account_usage_weekly
           where account_id in (select unnest(?))
           qualify row_number() over (partition by account_id order by week_start desc) <= 26
           order by account_id, week_start""",
        accounts,
    )


def health_history(con: duckdb.DuckDBPyConnection, accounts: Sequence[str]) -> pd.DataFrame:
    """Each account's health score on every observation date of the last year."""
    return _for_accounts(
        con,
        """select account_id, observation_date, health_score, health_band
           from marts.fct_account_health
           where account_id in (select unnest(?))
             and observation_date > (select max(observation_date) from marts.fct_account_health)
                 - interval 365 day
           order by account_id, observation_date""",
        accounts,
    )


def alert_history(con: duckdb.DuckDBPyConnection, accounts: Sequence[str]) -> pd.DataFrame:
    """Every status change of the accounts' alerts, with the alert's types and severity."""
    return _for_accounts(
        con,
        f"""select c.account_id, c.night, c.alert_id, c.from_status, c.to_status, c.reason,
                   h.severity, h.primary_type
            from {LIVE_SCHEMA}.state_changes as c
            left join {LIVE_SCHEMA}.alert_history as h
              on h.alert_id = c.alert_id and h.night = c.night
            where c.account_id in (select unnest(?))
            order by c.account_id, c.night desc, c.alert_id""",
        accounts,
    )


def milestones(con: duckdb.DuckDBPyConnection, accounts: Sequence[str]) -> pd.DataFrame:
    return _for_accounts(
        con,
        """select * from marts.fct_account_onboarding_milestones
           where account_id in (select unnest(?))""",
        accounts,
    )


def recent_tickets(
    con: duckdb.DuckDBPyConnection, accounts: Sequence[str], night: date
) -> pd.DataFrame:
    """The ten newest support tickets of each account opened before the as-of night."""
    return _for_accounts(
        con,
        """select account_id, ticket_id, opened_at, closed_at, status, priority, category,
                  subject, csat
           from staging.stg_support__tickets
           where account_id in (select unnest(?)) and opened_at < ?
           qualify row_number() over (partition by account_id order by opened_at desc) <= 10
           order by account_id, opened_at desc""",
        accounts,
        night,
    )


def recent_nps(
    con: duckdb.DuckDBPyConnection, accounts: Sequence[str], night: date
) -> pd.DataFrame:
    """The five newest NPS answers of each account before the as-of night, with the comment."""
    return _for_accounts(
        con,
        """select account_id, responded_at, score, nps_category, comment
           from staging.stg_surveys__nps_responses
           where account_id in (select unnest(?)) and responded_at < ?
           qualify row_number() over (partition by account_id order by responded_at desc) <= 5
           order by account_id, responded_at desc""",
        accounts,
        night,
    )


def top_features(
    con: duckdb.DuckDBPyConnection, accounts: Sequence[str], top: int = 5
) -> pd.DataFrame:
    """Each account's most used features in the 30 days before the as-of date."""
    return _for_accounts(
        con,
        """select account_id, feature, days_used, feature_events, usage_rank
           from marts.fct_account_features_recent
           where account_id in (select unnest(?)) and usage_rank <= ?
           order by account_id, usage_rank""",
        accounts,
        top,
    )


def alert_volume(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Alerts opened per night, by severity and primary type (the team page)."""
    return con.execute(
        f"""select night, severity, primary_type, count(*) as alerts_opened
            from {LIVE_SCHEMA}.alert_history where opened_night = night
            group by all order by night"""
    ).df()


def alert_responses(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each delivered alert once, at its newest night: when it was delivered, whether
    and when the CSM engaged or dismissed it, and who owns it."""
    return con.execute(
        f"""select alert_id, account_id, csm_owner, severity, primary_type, status,
                   first_delivered_night, engaged_at, dismissal_reason, close_reason,
                   is_holdout
            from {LIVE_SCHEMA}.alert_history
            where first_delivered_night is not null
            qualify row_number() over (partition by alert_id order by night desc) = 1"""
    ).df()


def alert_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "select * from marts.fct_alert_outcomes order by alert_type, severity, touch"
    ).df()


def health_bands_monthly(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Share of observed accounts per health band on each month start (the distribution
    over time on the team page)."""
    return con.execute(
        """select observation_date, health_band, count(*) as accounts
           from marts.fct_account_health
           where observation_date = date_trunc('month', observation_date)
           group by all order by observation_date, health_band"""
    ).df()


def revenue_retention(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Company-wide monthly GRR and NRR: fct_churn_monthly's segment rows summed, with the
    mart's own definitions (MRR movements over the month's starting MRR)."""
    return con.execute(
        """select month_start,
                  (sum(mrr_start) - sum(contraction_mrr) - sum(churned_mrr))
                      / nullif(sum(mrr_start), 0) as gross_revenue_retention,
                  (sum(mrr_start) + sum(expansion_mrr) - sum(contraction_mrr)
                      - sum(churned_mrr)) / nullif(sum(mrr_start), 0) as net_revenue_retention,
                  sum(churned_customers) / nullif(sum(customers_start), 0) as logo_churn_rate,
                  bool_or(is_provisional) as is_provisional
           from marts.fct_churn_monthly
           group by month_start having sum(mrr_start) > 0 order by month_start"""
    ).df()


def cohort_retention(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """select cohort_month, months_since_signup, cohort_accounts, logo_retention
           from marts.fct_cohort_retention order by cohort_month, months_since_signup"""
    ).df()


def survival_curves(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """select dimension_value as segment, tenure_month, survival_probability, at_risk
           from marts.fct_survival_curves where dimension in ('segment', 'all')
           order by segment, tenure_month"""
    ).df()


def churn_forecast(con: duckdb.DuckDBPyConnection) -> dict | None:
    frame = con.execute("select * from ml.churn_forecasts order by as_of_date desc limit 1").df()
    return None if frame.empty else frame.iloc[0].to_dict()


def source_status(con: duckdb.DuckDBPyConnection, night: date) -> pd.DataFrame:
    return con.execute(
        f"""select source_name, newest_record_date, days_since_newest_record, is_stale, reason
            from {LIVE_SCHEMA}.source_status where night = ? order by source_name""",
        [night],
    ).df()


def model_version(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        f"select any_value(model_version) from {SCORES_TABLE} "
        f"where as_of_date = (select max(as_of_date) from {SCORES_TABLE})"
    ).fetchone()
    return str(row[0]) if row and row[0] else "none"
