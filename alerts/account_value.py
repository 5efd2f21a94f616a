"""What an account is worth to the team, in the book's own currency: the ARR thresholds
that move an alert's severity, and the ARR under which a person's time costs more than
the contact can save (those accounts get automated sequences: tech touch).

Fixed numbers suit one price list; a consumer app at 120 a year and an enterprise book at
50,000 need different ones. ``auto`` derives them: the value thresholds from percentiles
of the night's own book (high value is relative to the customers you have), the tech-touch
line from the contact economics already in ``model.profit``, which the profit table uses
too: a contact pays back when ``p x save_rate x months_retained / 12 x ARR >=
contact_cost``, with ``p`` the account's own churn probability but at least
``risk_tiers.high``: an alert a CSM would receive is itself evidence of that much risk,
whatever the model says (and some accounts have no score). So every account above the
line at that floor (2,000 ARR with the defaults) keeps its CSM, and a small account about
to leave can still be worth a call that a small steady one is not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

AUTO = "auto"


@dataclass(frozen=True)
class ValueThresholds:
    """The night's resolved thresholds (recorded in the night's summary)."""

    high_value_arr: float
    low_value_arr: float
    automated_below_arr: float | None  # None (auto): by each account's churn probability
    contact_cost_arr: float  # the ARR x probability one contact must save to pay back
    min_probability: float  # the churn probability an alert stands for at least

    def automated_line(self, probability: pd.Series) -> pd.Series:
        """Per account, the ARR under which its alert goes to an automated sequence."""
        if self.automated_below_arr is not None:
            return pd.Series(self.automated_below_arr, index=probability.index, dtype="float64")
        p = probability.astype("float64").fillna(0.0).clip(lower=self.min_probability)
        return self.contact_cost_arr / p

    def as_dict(self) -> dict[str, float | str | None]:
        """Rounded; a threshold no account can reach (an empty book) is None."""

        def rounded(value: float) -> float | None:
            return None if math.isnan(value) else round(value, 2)

        return {
            "high_value_arr": rounded(self.high_value_arr),
            "low_value_arr": rounded(self.low_value_arr),
            "automated_below_arr": AUTO
            if self.automated_below_arr is None
            else rounded(self.automated_below_arr),
            "contact_break_even_arr_at_high_risk": rounded(
                self.contact_cost_arr / self.min_probability
            ),
        }


def contact_cost_arr(config: Mapping[str, Any]) -> float:
    """``contact_cost / (save_rate x months_retained / 12)``: a contact pays back when the
    account's churn probability x ARR reaches this."""
    profit = config["model"]["profit"]
    saved_share = profit["save_rate"] * profit["months_retained"] / 12
    if not saved_share > 0 or not config["risk_tiers"]["high"] > 0:
        raise ValueError(
            "model.profit.save_rate and months_retained, and risk_tiers.high, must be above "
            f"0 (got {profit['save_rate']}, {profit['months_retained']}, "
            f"{config['risk_tiers']['high']}): a contact that can save nothing has no "
            "break-even, and every alert's touch depends on it"
        )
    return profit["contact_cost"] / saved_share


def _book_percentile(arr: pd.Series, percentile: float) -> float:
    """A percentile of the known, positive ARRs (no book: no account is above or below)."""
    known = arr.astype("float64")
    known = known[known.gt(0)]
    return float(known.quantile(percentile / 100)) if len(known) else float("nan")


def value_thresholds(arr: pd.Series, config: Mapping[str, Any]) -> ValueThresholds:
    """Resolve the configured thresholds against ``arr`` (one value per account observed
    on the night)."""
    alerts = config["alerts"]
    severity = alerts["severity"]
    percentiles = severity["value_percentiles"]

    def resolve(value: Any, percentile: float) -> float:
        return _book_percentile(arr, percentile) if value == AUTO else float(value)

    automated = alerts["touch"]["automated_below_arr"]
    return ValueThresholds(
        high_value_arr=resolve(severity["high_value_arr"], percentiles["high"]),
        low_value_arr=resolve(severity["low_value_arr"], percentiles["low"]),
        automated_below_arr=None if automated == AUTO else float(automated),
        contact_cost_arr=contact_cost_arr(config),
        min_probability=config["risk_tiers"]["high"],
    )
