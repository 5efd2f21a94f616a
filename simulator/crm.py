"""CRM exports: a full snapshot of the account list at the end of every month.

Snapshots carry the plan, seats and MRR in force on the snapshot date, so the pipeline
can look up an account's attributes as they were at any past observation date. About 3%
of accounts carry the CRM's do-not-contact flag (an opt-out the win-back list honours).
"""

from __future__ import annotations

import zlib
from datetime import date

import numpy as np
import pandas as pd

from simulator.population import monthly_price
from simulator.spec import SimulationSpec

OPT_OUT_SHARE = 0.03  # accounts with the CRM's do-not-contact flag


def do_not_contact(accounts: pd.DataFrame) -> np.ndarray:
    """The opt-out flag of every account in ``accounts`` (the whole population), the same
    in every snapshot. Drawn from a generator of its own, seeded from the seeded draw of
    accounts (ids and company names), so the simulation's main random stream and every
    other export stay exactly as they were."""
    names = "|".join(
        accounts["account_id"].astype(str) + ":" + accounts["company_name"].astype(str)
    )
    rng = np.random.default_rng(zlib.crc32(names.encode()))
    return rng.random(len(accounts)) < OPT_OUT_SHARE


def snapshot_dates(spec: SimulationSpec) -> list[date]:
    ends = [(pd.Timestamp(m) + pd.offsets.MonthEnd(0)).date() for m in spec.month_starts()]
    return [d for d in ends if d < spec.as_of] + [spec.as_of]


def crm_snapshot(accounts: pd.DataFrame, lifecycle: pd.DataFrame, on: date) -> pd.DataFrame:
    """Every account signed up by ``on``, with the attributes in force that day."""
    day = pd.Timestamp(on)
    known = accounts["signup_date"] <= day
    opted_out = do_not_contact(accounts)[known.to_numpy()]
    acc, life = accounts[known], lifecycle[known]
    changed = (life["plan_change_date"] <= day).to_numpy()
    seats = np.where(changed, life["seats_after"], acc["seats"]).astype(int)
    annual = acc["contract_term"].eq("annual").to_numpy()
    term_days = np.where(annual, 365, 30)
    elapsed = (day - acc["signup_date"]).dt.days.to_numpy()
    renewal = acc["signup_date"] + pd.to_timedelta((elapsed // term_days + 1) * term_days, unit="D")
    # a churned account has no next renewal (until it is won back)
    gone = (life["churn_date"] <= day) & ~(life["reactivated_on"] <= day)
    renewal = renewal.where(~gone.to_numpy())
    first = acc["contact_first_name"]
    last = acc["contact_last_name"]
    domain = acc["company_name"].str.split(" ").str[0].str.lower()
    return pd.DataFrame(
        {
            "account_id": acc["account_id"],
            "company_name": acc["company_name"],
            "segment": acc["segment"],
            "plan": acc["plan"],
            "contract_term": acc["contract_term"],
            "seats": seats,
            "mrr": monthly_price(acc["plan"].to_numpy(), seats, annual),
            "signup_date": acc["signup_date"].dt.date,
            "renewal_date": renewal.dt.date,
            "csm_owner": acc["csm_owner"],
            "contact_name": first + " " + last,
            "contact_email": (
                first.str.lower()
                + "."
                + last.str.lower().str.replace("'", "")
                + "@"
                + domain
                + ".example"
            ),
            "country": acc["country"],
            "timezone": acc["timezone"],
            "snapshot_date": on,
            "do_not_contact": opted_out,
        }
    )
