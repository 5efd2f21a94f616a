"""Write a simulated company's exports into a landing zone, plus the ground truth.

Files, as a company's exports would arrive (one file per source per delivery):
  accounts/accounts_<YYYY-MM-DD>.csv              CRM snapshot at each month end
  users/users_<as_of>.csv                          user directory
  subscriptions/subscriptions_<as_of>.csv          subscription periods (plan changes = new period)
  cancellations/cancellations_<as_of>.csv          cancellation requests with a reason
  payments/payments_<YYYY-MM>.csv                  payment attempts (failed ones included)
  usage_events/usage_events_<YYYY-MM>.parquet      product events, one delivery per month
  support_tickets/support_tickets_<YYYY-MM>.jsonl  tickets opened or changed that month
  nps_responses/nps_responses_<YYYY-MM>.csv        quarterly survey answers (local-time offsets)
  outreach_outcomes/, alert_feedback/              header-only files: the format CS ops fill
The ground truth (latent risk, true churn dates including after the as-of date, reasons,
win-backs, the monthly latent hazard in full and its revealed part without the hidden
shock) goes to ``truth_dir``, which no pipeline asset reads; ``simulator.oracle`` turns
it into the best possible churn ranking (the ceiling for any model on this data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from simulator import billing, catalog, crm, events, support
from simulator.lifecycle import monthly_hazard, simulate_lifecycle
from simulator.population import draw_accounts, draw_users
from simulator.spec import SimulationSpec

OUTREACH_COLUMNS = [
    "outreach_id", "account_id", "alert_id", "channel", "sent_at",
    "opened_at", "clicked_at", "replied_at", "outcome",
]  # fmt: skip
FEEDBACK_COLUMNS = [
    "feedback_id", "alert_id", "account_id", "alert_type", "csm_owner",
    "action", "reason_code", "comment", "submitted_at",
]  # fmt: skip


@dataclass
class GenerationResult:
    rows: dict[str, int] = field(default_factory=dict)  # rows written per source
    files: dict[str, int] = field(default_factory=dict)  # files written per source

    @property
    def events(self) -> int:
        return self.rows.get("usage_events", 0)

    def add(self, source: str, rows: int) -> None:
        self.rows[source] = self.rows.get(source, 0) + rows
        self.files[source] = self.files.get(source, 0) + 1


def _write_csv(frame: pd.DataFrame, path: Path, result: GenerationResult, source: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    result.add(source, len(frame))


def _iso_utc(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_local(values: pd.Series, offset_hours: np.ndarray) -> pd.Series:
    """Local wall-clock time with its UTC offset, as survey tools export it."""
    local = values + pd.to_timedelta(offset_hours, unit="h")
    sign = np.where(offset_hours < 0, "-", "+")
    hours = np.char.zfill(np.abs(offset_hours).astype(int).astype(str), 2)
    return (
        local.dt.strftime("%Y-%m-%dT%H:%M:%S") + pd.Series(sign, index=values.index) + hours + ":00"
    )


def _truth(
    spec: SimulationSpec, accounts: pd.DataFrame, lifecycle: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    latent = accounts.filter(like="latent_").rename(columns=lambda c: c.removeprefix("latent_"))
    per_account = pd.concat(
        [
            accounts[["account_id", "segment", "contract_term", "signup_date"]],
            latent,
            lifecycle.drop(columns="account_id"),
        ],
        axis=1,
    )
    months = spec.month_starts()
    month_days = np.array(months, dtype="datetime64[D]")
    signup_days = accounts["signup_date"].to_numpy().astype("datetime64[D]")
    tenure = (month_days[None, :] - signup_days[:, None]).astype(int) // 30

    def monthly_probability(include_hidden: bool) -> np.ndarray:
        hazard = monthly_hazard(accounts, np.maximum(tenure, 0), include_hidden)
        return np.round(1 - np.exp(-30 * hazard.ravel()), 5)

    risk = pd.DataFrame(
        {
            "account_id": np.repeat(accounts["account_id"].to_numpy(), len(months)),
            "month": np.tile(np.array(months, dtype="datetime64[D]"), len(accounts)),
            "monthly_churn_hazard": monthly_probability(include_hidden=True),
            "revealed_churn_hazard": monthly_probability(include_hidden=False),
        }
    )
    signed = risk["month"].to_numpy() >= np.repeat(
        accounts["signup_date"].to_numpy(), len(months)
    ).astype("datetime64[D]") - np.timedelta64(31, "D")
    return per_account, risk[signed].reset_index(drop=True)


def generate(
    spec: SimulationSpec, landing_dir: Path, truth_dir: Path, progress: bool = False
) -> GenerationResult:
    """Write every export of ``spec`` into ``landing_dir`` and the truth into ``truth_dir``."""
    rng = np.random.default_rng(spec.seed)
    accounts = draw_accounts(spec, rng)
    life = simulate_lifecycle(spec, accounts, rng)
    users = draw_users(spec, accounts, life, rng)
    state = events.prepare_accounts(accounts, life, users, rng)
    result = GenerationResult()
    as_of = f"{spec.as_of:%Y-%m-%d}"

    for day in crm.snapshot_dates(spec):
        snapshot = crm.crm_snapshot(accounts, life, day)
        _write_csv(
            snapshot, landing_dir / "accounts" / f"accounts_{day:%Y-%m-%d}.csv", result, "accounts"
        )
    user_export = users[
        ["user_id", "account_id", "full_name", "email", "role", "created_at", "deactivated_at"]
    ]
    # users of an account that left (and was not won back) are deactivated when it leaves
    left_on = users["account_index"].map(
        life["churn_date"].where(life["churned_by_as_of"] & life["reactivated_on"].isna())
    )
    user_export = user_export.assign(
        deactivated_at=user_export["deactivated_at"]
        .where(user_export["deactivated_at"] <= left_on, left_on)
        .fillna(user_export["deactivated_at"])
    )
    never_joined = user_export["created_at"] >= left_on  # would have joined after it left
    user_export = user_export[
        ~never_joined & (user_export["created_at"] <= pd.Timestamp(spec.as_of))
    ]
    user_export = user_export.assign(
        created_at=lambda f: f["created_at"].dt.date,
        deactivated_at=lambda f: f["deactivated_at"].dt.date,
    )
    _write_csv(user_export, landing_dir / "users" / f"users_{as_of}.csv", result, "users")
    periods = billing.subscription_periods(spec, accounts, life)
    _write_csv(
        periods,
        landing_dir / "subscriptions" / f"subscriptions_{as_of}.csv",
        result,
        "subscriptions",
    )
    cancels = billing.cancellations(spec, life, periods, rng)
    _write_csv(
        cancels,
        landing_dir / "cancellations" / f"cancellations_{as_of}.csv",
        result,
        "cancellations",
    )
    pays = billing.payments(spec, periods, life, rng)
    for month, part in pays.groupby(pays["attempted_at"].dt.strftime("%Y-%m"), sort=True):
        part = part.assign(attempted_at=_iso_utc(part["attempted_at"]))
        _write_csv(part, landing_dir / "payments" / f"payments_{month}.csv", result, "payments")

    tickets = support.tickets(spec, accounts, life, users, state.user_start, rng)
    versions = support.ticket_versions(spec, tickets)
    folder = landing_dir / "support_tickets"
    folder.mkdir(parents=True, exist_ok=True)
    for month, part in versions.groupby("export_month", sort=True):
        path = folder / f"support_tickets_{month}.jsonl"
        part.drop(columns="export_month").to_json(
            path, orient="records", lines=True, date_format="iso"
        )
        result.add("support_tickets", len(part))
    nps = support.nps_responses(spec, accounts, life, users, state.user_start, rng)
    offsets = nps["account_id"].map(accounts.set_index("account_id")["utc_offset_hours"]).to_numpy()
    nps = nps.assign(responded_at=_iso_local(nps["responded_at"], offsets))
    for month, part in nps.groupby("survey_month", sort=True):
        path = landing_dir / "nps_responses" / f"nps_responses_{month}.csv"
        _write_csv(part.drop(columns="survey_month"), path, result, "nps_responses")
    for source, columns in (
        ("outreach_outcomes", OUTREACH_COLUMNS),
        ("alert_feedback", FEEDBACK_COLUMNS),
    ):
        _write_csv(
            pd.DataFrame(columns=columns),
            landing_dir / source / f"{source}_{as_of}.csv",
            result,
            source,
        )

    _write_events(spec, state, users, landing_dir / "usage_events", result, progress)

    truth_dir.mkdir(parents=True, exist_ok=True)
    per_account, risk = _truth(spec, accounts, life)
    per_account.to_csv(truth_dir / "accounts_truth.csv", index=False)
    risk.to_parquet(truth_dir / "risk_monthly.parquet", index=False)
    _write_traps(spec, users, truth_dir)
    return result


def _write_traps(spec: SimulationSpec, users: pd.DataFrame, truth_dir: Path) -> None:
    """The traps for alert rules, as they were generated: every user's vacation windows
    inside the export period and the holiday calendar (empty when switched off). The
    third trap, stable low-usage accounts, is ``stable_low_usage`` in accounts_truth."""
    first = (pd.Timestamp(spec.history_start) - pd.Timestamp("1970-01-01")).days
    last = (pd.Timestamp(spec.as_of) - pd.Timestamp("1970-01-01")).days
    windows = []
    if spec.vacations:
        for column in ("vacation_offset_1", "vacation_offset_2"):
            offset = users[column].to_numpy()
            # window starts are offset + 365k days after 1970-01-01
            k = np.floor((first - catalog.VACATION_DAYS - offset) / 365).astype(int)
            while True:
                start = offset + 365 * k
                inside = start <= last
                if not inside.any():
                    break
                windows.append(
                    pd.DataFrame(
                        {
                            "user_id": users["user_id"].to_numpy()[inside],
                            "account_id": users["account_id"].to_numpy()[inside],
                            "start": start[inside],
                        }
                    )
                )
                k = k + 1
    vacations = (
        pd.concat(windows, ignore_index=True)
        if windows
        else pd.DataFrame(columns=["user_id", "account_id", "start"])
    )
    vacations = vacations[vacations["start"] + catalog.VACATION_DAYS > first]
    epoch = pd.Timestamp("1970-01-01")
    vacations = vacations.assign(
        start=epoch + pd.to_timedelta(vacations["start"], unit="D"),
        end=epoch + pd.to_timedelta(vacations["start"] + catalog.VACATION_DAYS - 1, unit="D"),
    ).sort_values(["account_id", "user_id", "start"])
    vacations.to_csv(truth_dir / "vacations.csv", index=False, date_format="%Y-%m-%d")
    calendar = (
        events.holiday_calendar(spec)
        if spec.holidays
        else pd.DataFrame(columns=["country", "holiday_date", "holiday_name", "expected_activity"])
    )
    calendar.to_csv(truth_dir / "holiday_calendar.csv", index=False)


def _write_events(
    spec: SimulationSpec,
    state: events.AccountState,
    users: pd.DataFrame,
    folder: Path,
    result: GenerationResult,
    progress: bool,
) -> None:
    """Stream events month by month, chunk by chunk, into one Parquet file per month."""
    folder.mkdir(parents=True, exist_ok=True)
    months = spec.month_starts()
    calendar = events.holiday_calendar(spec)
    chunks = -(-spec.accounts // spec.chunk_accounts)
    next_id = 1
    with tqdm(
        total=len(months) * chunks, unit="chunk", desc="usage events", disable=not progress
    ) as bar:
        for month in months:
            path = folder / f"usage_events_{month:%Y-%m}.parquet"
            rows = 0
            with pq.ParquetWriter(path, events.SCHEMA) as writer:
                for table in events.month_chunks(spec, state, users, month, calendar):
                    ids = pa.array(np.arange(next_id, next_id + table.num_rows, dtype=np.int64))
                    writer.write_table(table.add_column(0, "event_id", ids).cast(events.SCHEMA))
                    next_id += table.num_rows
                    rows += table.num_rows
                    bar.update(1)
                    bar.set_postfix(events=f"{next_id - 1:,}")
            result.add("usage_events", rows)
