"""What to generate: size, time span, seed, chunking and output formats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd


@dataclass(frozen=True)
class SimulationSpec:
    """A run of the simulator. The same spec always writes the same files (byte for byte
    for CSV/JSONL; the same rows for Parquet)."""

    accounts: int = 2000
    months: int = 18
    as_of: date = date(2026, 10, 31)
    seed: int = 42
    users_per_seat: float = 1.0  # users per paid seat (scales event volume)
    activity: float = 1.0  # scales how often users are active (scales event volume)
    chunk_accounts: int = 2500  # accounts per event chunk: bounds memory, not output
    prehistory_months: int = 24  # customers may have signed up this long before the export window
    # The traps, switchable for counterfactuals: with one off, the same company is
    # generated with the same events on every other user-day (docs: bench/README.md).
    vacations: bool = True  # users' two-week vacations
    holidays: bool = True  # public holidays and the company's breaks

    @property
    def history_start(self) -> date:
        """First day covered by the exports (usage events, CRM snapshots)."""
        start = pd.Timestamp(self.as_of) - pd.DateOffset(months=self.months) + timedelta(days=1)
        return start.date()

    @property
    def earliest_signup(self) -> date:
        return (
            pd.Timestamp(self.history_start) - pd.DateOffset(months=self.prehistory_months)
        ).date()

    def month_starts(self) -> list[date]:
        """First day of every calendar month the exports cover (the first may be partial)."""
        first = pd.Timestamp(self.history_start).replace(day=1)
        return [d.date() for d in pd.date_range(first, self.as_of, freq="MS")]


def spec_from_config(simulator: dict, **overrides) -> SimulationSpec:
    """The spec ``pipeline_config`` ``simulator:`` describes; a null as_of means yesterday
    (UTC), so the demo behaves like last night's exports."""
    as_of = simulator.get("as_of")
    values = {
        "accounts": simulator["accounts"],
        "months": simulator["months"],
        "seed": simulator["seed"],
        "as_of": date.fromisoformat(str(as_of))
        if as_of
        else datetime.now(UTC).date() - timedelta(days=1),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return SimulationSpec(**values)
