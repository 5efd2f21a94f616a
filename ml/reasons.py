"""Per-account reasons derived from the model itself, in plain language.

For each scored account and each feature, the reason finder asks the fitted model how
the account's probability changes if that one feature took a typical value (the
training median, or the most common category) instead of its own. The features whose
own values raise the probability most are the account's reasons. They therefore
differ from account to account and always point at what moved *this* score, never at
a fixed list. Each is then phrased with the account's own numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml.features import ATTRIBUTE_PREFIX, MISSING_CATEGORY, event_column, split_event_column


def typical_values(training: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict:
    """The comparison point for every feature: median for numbers, mode for categories.
    An event column empty on most rows (the change of an event most accounts never
    send) is typically missing: the median of its few values would be an unusual state."""
    typical: dict[str, Any] = {
        c: float(training[c].median())
        if split_event_column(c) is None or training[c].notna().mean() >= 0.5
        else np.nan
        for c in numeric
    }
    typical.update({c: training[c].mode().iloc[0] for c in categorical})
    return typical


def reason_units(features: list[str]) -> dict[str, list[str]]:
    """What one reason is about: a feature, or an event group's five columns together,
    named by its 30-day count. The five move together: one of them set to its typical
    value while the others still carry the signal would hide the event from the reasons."""
    units: dict[str, list[str]] = {}
    for feature in features:
        event = split_event_column(feature)
        units.setdefault(event_column(event[0], "events_30d") if event else feature, []).append(
            feature
        )
    return units


def contributions(pipeline: Pipeline, rows: pd.DataFrame, typical: dict[str, Any]) -> pd.DataFrame:
    """Probability minus the probability with one feature (or an event group's columns,
    ``reason_units``) set to its typical value (positive: the account's own value raises
    its risk).

    Only rows whose value differs from the typical one are re-predicted: the others
    contribute exactly 0, and so do missing values, which are never a reason (see
    ``top_reasons``). One unit at a time keeps memory at one copy of those rows.
    """
    base = pipeline.predict_proba(rows)[:, 1]
    result = {}
    for unit, columns in reason_units(list(typical)).items():
        values = {c: typical[c] for c in columns}
        if pd.isna(typical[unit]):  # no typical value to compare with: never a reason
            continue
        effect = np.zeros(len(rows))
        differs = np.zeros(len(rows), dtype=bool)
        for column, value in values.items():  # a typically missing column: any value differs
            differs |= (
                rows[column].notna() & (pd.isna(value) or rows[column].ne(value))
            ).to_numpy()
        if differs.any():
            changed = rows[differs].copy()
            for column, value in values.items():
                changed[column] = value
            effect[differs] = base[differs] - pipeline.predict_proba(changed)[:, 1]
        result[unit] = effect
    return pd.DataFrame(result, index=rows.index)


def _pct(value: float) -> str:
    return f"{abs(value):.0%}"


def _change(metric: str) -> Callable[[float, float], str]:
    return lambda v, t: f"{metric} {'down' if v < 0 else 'up'} {_pct(v)} vs prior 90 days"


def _count(template: str) -> Callable[[float, float], str]:
    return lambda v, t: template.format(v=v, t=t)


def phrases(metrics: dict[str, Any]) -> dict[str, Callable[[Any, Any], str]]:
    """How each feature reads in a sentence, given the account's value and the typical one."""
    support = metrics["support"]
    return {
        "logins_change_30v90": _change("logins"),
        "core_actions_change_30v90": _change("core actions"),
        "session_minutes_change_30v90": _change("session time"),
        "logins_7d": _count("{v:.0f} logins in the last 7 days (typical: {t:.0f})"),
        "logins_30d": _count("{v:.0f} logins in the last 30 days (typical: {t:.0f})"),
        "logins_prior_90d_monthly": _count(
            "{v:.0f} logins a month before the last 30 days (typical: {t:.0f})"
        ),
        "logins_vs_cohort": lambda v, t: f"logins at {v:.0%} of similar accounts' median",
        "core_actions_30d": _count("{v:.0f} core actions in the last 30 days (typical: {t:.0f})"),
        "core_actions_vs_cohort": lambda v, t: (
            f"core actions at {v:.0%} of similar accounts' median"
        ),
        "session_minutes_30d": _count(
            "{v:.0f} session minutes in the last 30 days (typical: {t:.0f})"
        ),
        "active_days_7d": _count("active on {v:.0f} of the last 7 days"),
        "active_days_30d": _count("active on {v:.0f} of the last 30 days (typical: {t:.0f})"),
        "days_since_last_login": _count("no login for {v:.0f} days"),
        "days_since_last_core_action": _count("no core action for {v:.0f} days"),
        "days_since_last_activity": _count("no activity for {v:.0f} days"),
        "features_used_30d": _count("{v:.0f} features used in the last 30 days (typical: {t:.0f})"),
        "core_features_regular_30d": _count(
            "{v:.0f} core features used regularly (typical: {t:.0f})"
        ),
        "active_users_30d": _count("{v:.0f} active users in the last 30 days (typical: {t:.0f})"),
        "active_user_share_30d": lambda v, t: f"{v:.0%} of seats active in the last 30 days",
        "milestones_missed": _count("{v:.0f} onboarding milestones missed"),
        "open_tickets": _count("{v:.0f} open support tickets"),
        "stale_open_tickets": _count(
            "{v:.0f} tickets open longer than " + str(support["stale_ticket_days"]) + " days"
        ),
        "tickets_recent": _count(
            "{v:.0f} tickets in the last " + str(support["burst_window_days"]) + " days"
        ),
        "tickets_30d": _count("{v:.0f} tickets in the last 30 days (typical: {t:.0f})"),
        "ticket_trend": lambda v, t: (
            f"tickets {'up' if v > 0 else 'down'} {abs(v):.1f}/month vs the prior 90 days"
        ),
        "csat_90d": _count("support satisfaction {v:.1f} in the last 90 days (typical: {t:.1f})"),
        "nps_latest_score": lambda v, t: (
            f"latest NPS answer {v:.0f}" + (" (detractor)" if v <= 6 else "")
        ),
        "nps_trend": lambda v, t: f"NPS {'down' if v < 0 else 'up'} {abs(v):.0f} points",
        "failed_payments": _count(
            "{v:.0f} failed payments in the last " + str(metrics["payment_lookback_days"]) + " days"
        ),
        "days_to_renewal": _count("renewal in {v:.0f} days"),
        "health_score": _count("health score {v:.0f} (typical: {t:.0f})"),
        "tenure_days": _count("customer for {v:.0f} days"),
        "seats": _count("{v:.0f} seats (typical: {t:.0f})"),
        "mrr": _count("MRR {v:,.0f} (typical: {t:,.0f})"),
        "contract_term": lambda v, t: f"{v} contract",
        "plan": lambda v, t: f"{v} plan",
        "segment": lambda v, t: f"{v} segment",
    }


def describe_event(group: str, measure: str, value: float, typical: float) -> str:
    """An event feature in the customer's own words: "'unfriend' events up 3.0x in 30 days"."""
    # the company's own name, read as words ("report_problem" -> 'report problem')
    name = "other events" if group == "other" else f"'{group.replace('_', ' ')}' events"
    if measure == "events_change_30v90":
        if value >= 1:
            return f"{name} up {value + 1:.1f}x in the last 30 days vs prior 90 days"
        return f"{name} {'down' if value < 0 else 'up'} {_pct(value)} vs prior 90 days"
    if measure == "days_since_last_event":
        return f"no {name.removesuffix('s')} for {value:.0f} days"
    if measure == "events_per_active_user_30d":
        return f"{value:.1f} {name} per active user in 30 days (typical: {typical:.1f})"
    days = measure.removeprefix("events_").removesuffix("d")
    return f"{value:.0f} {name} in the last {days} days (typical: {typical:.0f})"


def describe(feature: str, value: Any, typical: Any, sayings: dict[str, Callable]) -> str:
    event = split_event_column(feature)
    if event is not None:
        return describe_event(*event, value, typical)
    if feature.startswith(ATTRIBUTE_PREFIX):  # a CRM attribute, in the CRM's words
        name = feature.removeprefix(ATTRIBUTE_PREFIX).replace("_", " ")
        if isinstance(value, str):
            return f"{name}: {value}"
        return f"{name} {value:g} (typical: {typical:g})"
    saying = sayings.get(feature)
    if saying is None:  # a feature added later without a phrase still gets its numbers
        return f"{feature.replace('_', ' ')} {value} (typical: {typical})"
    return saying(value, typical)


def top_reasons(
    pipeline: Pipeline,
    rows: pd.DataFrame,
    typical: dict[str, Any],
    metrics: dict[str, Any],
    count: int,
) -> pd.DataFrame:
    """Per row of ``rows``: ``reasons`` (up to ``count`` sentences, strongest first),
    ``reason_features`` (the features behind them) and ``top_contribution``.

    Only features that raise the account's probability count, and not missing ones (a
    source the account has no data in is not a reason). An account that looks typical
    everywhere gets fewer reasons, or none.
    """
    effect = contributions(pipeline, rows, typical)
    features = list(effect.columns)
    strength = effect.to_numpy(copy=True)
    unknown = rows[features].isna() | rows[features].eq(MISSING_CATEGORY)
    strength[(strength <= 0) | unknown.to_numpy()] = -np.inf
    strongest = np.argsort(-strength, axis=1, kind="stable")[:, :count]
    raises = np.take_along_axis(strength, strongest, axis=1) > -np.inf
    values = rows[features].to_numpy(dtype=object)
    sayings = phrases(metrics)
    sentences, names = [], []
    for i, (picks, keep) in enumerate(zip(strongest, raises, strict=True)):
        names.append([features[j] for j in picks[keep]])
        sentences.append(
            [
                describe(features[j], values[i, j], typical[features[j]], sayings)
                for j in picks[keep]
            ]
        )
    return pd.DataFrame(
        {
            "reasons": sentences,
            "reason_features": names,
            "top_contribution": np.round(effect.clip(lower=0).max(axis=1).to_numpy(), 4),
        },
        index=rows.index,
    )
