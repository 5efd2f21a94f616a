"""Which rule conditions hold on which nights, for how long, and which were silenced.

The grace period (DOMAIN.md §7) is a streak: a rule alerts once its condition has held
on ``grace_days`` consecutive nights (every rule needs at least the night itself). A
rule reading a source that is stale on a night is silenced there: its condition counts
as not holding (so a streak restarts once the data is back) and the silence is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from alerts.rules import NEEDS_OTHER_RULES, RULES, renewal_due
from alerts.settings import LEVEL

HIT_COLUMNS = [
    "night", "account_id", "rule", "family", "streak_nights", "grace_days", "is_eligible",
    "silenced_by",
]  # fmt: skip


def _streaks(frame: pd.DataFrame, holds: pd.Series) -> pd.Series:
    """Consecutive nights up to each row on which ``holds`` was true for the account
    (rows sorted by account and night; a missing night breaks a streak)."""
    account = frame["account_id"]
    night = pd.to_datetime(frame["night"])
    gap = night.diff().dt.days.ne(1) | account.ne(account.shift())
    run = (gap | ~holds).cumsum()
    streak = holds.astype(int).groupby(run).cumsum()
    return streak.where(holds, 0)


def evaluate_conditions(
    signals: pd.DataFrame,
    rules_config: Mapping[str, Mapping[str, Any]],
    metrics: Mapping[str, Any],
    stale_sources: Mapping[Any, Iterable[str]] | None = None,
) -> pd.DataFrame:
    """One row per account, night and rule whose condition held (``is_eligible`` once
    the grace period is met) or was silenced by a stale source (``silenced_by``).

    ``signals``: fct_account_alert_signals rows (plus churn_probability) for consecutive
    nights; ``stale_sources``: night -> the sources stale on it.
    """
    frame = signals.sort_values(["account_id", "night"]).reset_index(drop=True)
    nights = pd.to_datetime(frame["night"])
    stale_by_night = {pd.Timestamp(k): set(v) for k, v in (stale_sources or {}).items()}
    parts = []
    # the highest severity among the rules eligible on each row (-1: none)
    eligible_level = pd.Series(-1, index=frame.index)
    ordered = [n for n in rules_config if n not in NEEDS_OTHER_RULES] + [
        n for n in rules_config if n in NEEDS_OTHER_RULES
    ]
    for name in ordered:
        params = rules_config[name]
        rule = RULES[name]
        if name in NEEDS_OTHER_RULES:
            holds = renewal_due(frame, params) & (
                eligible_level >= LEVEL[params["min_other_severity"]]
            )
        else:
            holds = rule.condition(frame, params, metrics).fillna(False).astype(bool)
        silenced = pd.Series(None, index=frame.index, dtype="object")
        for night, sources in stale_by_night.items():
            hit = sorted(set(rule.sources) & sources)
            if hit:
                on_night = nights.eq(night)
                silenced[on_night & holds] = ", ".join(hit)
                holds = holds & ~on_night
        streak = _streaks(frame, holds)
        grace = int(params["grace_days"])
        eligible = streak >= max(grace, 1)
        if name not in NEEDS_OTHER_RULES:
            eligible_level = eligible_level.where(
                ~eligible, eligible_level.clip(lower=LEVEL[params["severity"]])
            )
        keep = holds | silenced.notna()
        if keep.any():
            parts.append(
                pd.DataFrame(
                    {
                        "night": frame.loc[keep, "night"].to_numpy(),
                        "account_id": frame.loc[keep, "account_id"].to_numpy(),
                        "rule": name,
                        "family": params["family"],
                        "streak_nights": streak[keep].to_numpy(),
                        "grace_days": grace,
                        "is_eligible": eligible[keep].to_numpy(),
                        "silenced_by": silenced[keep].to_numpy(),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=HIT_COLUMNS)
    hits = pd.concat(parts, ignore_index=True)
    hits["streak_nights"] = hits["streak_nights"].astype(np.int64)
    return hits[HIT_COLUMNS]
