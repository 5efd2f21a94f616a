"""Load the documented defaults and merge a user's overrides over them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")
CONFIG_ENV_VAR = "CHURN_CONFIG"


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            merged[key] = _deep_merge(base[key], value)
        else:
            merged[key] = value
    return merged


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Return the defaults merged with the user's file (``path`` or ``$CHURN_CONFIG``).

    Unknown top-level keys are rejected: a typo in a threshold's section name would
    otherwise silently leave the default in force.
    """
    config = yaml.safe_load(DEFAULTS_PATH.read_text())
    user_path = path or os.environ.get(CONFIG_ENV_VAR)
    if not user_path:
        _validate(config)
        return config
    overrides = yaml.safe_load(Path(user_path).read_text()) or {}
    unknown = sorted(set(overrides) - set(config))
    if unknown:
        raise ValueError(
            f"{user_path}: unknown configuration section(s) {unknown}; "
            f"known sections are {sorted(config)}"
        )
    merged = _deep_merge(config, overrides)
    _validate(merged)
    return merged


def _validate(config: Mapping[str, Any]) -> None:
    as_of = config["run"].get("as_of_date")
    if as_of is not None:
        parse_as_of(as_of)
    validate_accounts_config(config["accounts"])
    terms = contract_term_names(config)
    renewal_terms = config["alerts"]["rules"]["renewal_risk"].get("contract_terms") or []
    unknown = sorted(set(renewal_terms) - set(terms))
    if unknown:
        raise ValueError(
            f"alerts.rules.renewal_risk.contract_terms: {unknown} not among "
            f"accounts.contract_terms {terms}"
        )
    validate_winback_config(config["winback"])
    validate_event_features_config(config["event_features"])
    validate_observation_dates(config["model"])


OBSERVATION_DATES = ("monthly", "weekly", "before_renewal")
RENEWAL_WEEK_DAYS = 7  # before_renewal observes on Mondays: the window is a week wide


def validate_observation_dates(model: Mapping[str, Any]) -> None:
    """The model's observation dates: dbt compares the setting with fixed names, so a
    typo would silently train on month starts; with ``before_renewal`` a horizon that
    ends before the renewal would label every account safe."""
    cadence, days = model["observation_dates"], model["days_before_renewal"]
    if cadence not in OBSERVATION_DATES:
        raise ValueError(
            f"model.observation_dates: {cadence!r} is not one of {list(OBSERVATION_DATES)}"
        )
    if not _whole(days):
        raise ValueError(f"model.days_before_renewal: {days!r} is not a whole number of days")
    if cadence == "before_renewal" and model["horizon_days"] < days + RENEWAL_WEEK_DAYS:
        raise ValueError(
            f"model.horizon_days ({model['horizon_days']}) ends before the renewal the "
            f"before_renewal observations look at: with model.days_before_renewal {days} it "
            f"must be at least {days + RENEWAL_WEEK_DAYS}"
        )


def parse_as_of(value: Any) -> date:
    """``run.as_of_date`` (or ``--as-of``) as a date; a clear error when it is not one."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"run.as_of_date: {value!r} is not a date (YYYY-MM-DD)") from None


def with_as_of(config: Mapping[str, Any], as_of: Any) -> dict[str, Any]:
    """``config`` with the run's as-of date set (``run_once --as-of``, the UI's resource)."""
    day = parse_as_of(as_of).isoformat()
    return {**config, "run": {**config["run"], "as_of_date": day}}


def contract_term_names(config: Mapping[str, Any]) -> list[str]:
    return [term["name"] for term in config["accounts"]["contract_terms"]]


def accepted_account_values(config: Mapping[str, Any]) -> dict[str, list[str]]:
    """The suites' parameters for the CRM vocabulary (the dbt tests read the same var)."""
    return {
        "segments": list(config["accounts"]["segments"]),
        "contract_terms": contract_term_names(config),
    }


def validate_accounts_config(accounts: Mapping[str, Any]) -> None:
    """Raise ValueError naming every problem in the ``accounts`` vocabulary. The suites
    and dbt tests accept exactly these values, and dbt turns each term into a CASE: an
    empty list or a term without a length would pass every row or break the SQL."""
    problems: list[str] = []
    segments = accounts.get("segments")
    if not (
        isinstance(segments, list)
        and segments
        and all(isinstance(s, str) and s.strip() for s in segments)
    ):
        problems.append(f"accounts.segments: {segments!r} is not a non-empty list of names")
    elif len(set(segments)) < len(segments):
        problems.append(f"accounts.segments: {segments!r} names a segment twice")
    terms = accounts.get("contract_terms")
    if not (isinstance(terms, list) and terms):
        problems.append(f"accounts.contract_terms: {terms!r} is not a non-empty list")
        terms = []
    names: list[str] = []
    for i, term in enumerate(terms):
        if not isinstance(term, Mapping) or set(term) != {"name", "months"}:
            problems.append(f"accounts.contract_terms[{i}]: needs exactly name and months")
            continue
        if not (isinstance(term["name"], str) and term["name"].strip()):
            problems.append(f"accounts.contract_terms[{i}].name: {term['name']!r} is not a name")
        if not _whole(term["months"], 1):
            problems.append(
                f"accounts.contract_terms[{i}].months: {term['months']!r} is not a whole number >= 1"
            )
        names.append(term["name"])
    if len(set(names)) < len(names):
        problems.append(f"accounts.contract_terms: {names!r} names a term twice")
    problems += _attribute_problems(accounts.get("attributes", []))
    if problems:
        raise ValueError("invalid accounts configuration:\n  " + "\n  ".join(problems))


OTHER_EVENTS = "other"  # the event group of rare names (int_event_groups_mapped)


def validate_event_features_config(features: Mapping[str, Any]) -> None:
    """Raise ValueError naming every problem in ``event_features``: dbt turns each group
    into an IN list (an empty one is broken SQL), and a name in two groups would count
    its events twice."""
    problems: list[str] = []
    if not _whole(features.get("max_groups"), 1):
        problems.append(f"event_features.max_groups: {features.get('max_groups')!r} is not >= 1")
    share = features.get("min_share")
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        problems.append(f"event_features.min_share: {share!r} is not a share in [0, 1)")
    groups = features.get("groups")
    if not isinstance(groups, list):
        problems.append(f"event_features.groups: {groups!r} is not a list")
        groups = []
    seen: dict[str, str] = {}
    for i, group in enumerate(groups):
        where = f"event_features.groups[{i}]"
        if not isinstance(group, Mapping) or set(group) != {"name", "events"}:
            problems.append(f"{where}: needs exactly name and events")
            continue
        if not (isinstance(group["name"], str) and group["name"].strip()):
            problems.append(f"{where}.name: {group['name']!r} is not a name")
        elif group["name"].strip().lower() == OTHER_EVENTS:
            problems.append(
                f"{where}.name: {OTHER_EVENTS!r} is where rare names and the groups beyond "
                "max_groups are counted; name the group something else"
            )
        events = group["events"]
        if not (isinstance(events, list) and events and all(isinstance(e, str) for e in events)):
            problems.append(f"{where}.events: {events!r} is not a non-empty list of event names")
            continue
        for event in events:
            if event in seen:
                problems.append(f"{where}.events: {event!r} is already in group {seen[event]!r}")
            seen[event] = str(group["name"])
    if problems:
        raise ValueError("invalid event_features configuration:\n  " + "\n  ".join(problems))


ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
ATTRIBUTE_TYPES = ("categorical", "numeric")


def _attribute_problems(attributes: Any) -> list[str]:
    """Problems in ``accounts.attributes``: each a CRM column (lower-case SQL name, from
    the contract or an extra column of the export) with its type."""
    if not isinstance(attributes, list):
        return [f"accounts.attributes: {attributes!r} is not a list"]
    problems, names = [], []
    for i, attribute in enumerate(attributes):
        where = f"accounts.attributes[{i}]"
        if not isinstance(attribute, Mapping) or set(attribute) != {"name", "type"}:
            problems.append(f"{where}: needs exactly name and type")
            continue
        name = attribute["name"]
        if not (isinstance(name, str) and ATTRIBUTE_NAME.match(name)):
            problems.append(f"{where}.name: {name!r} is not a lower-case column name")
        if attribute["type"] not in ATTRIBUTE_TYPES:
            problems.append(f"{where}.type: {attribute['type']!r} is not one of {ATTRIBUTE_TYPES}")
        names.append(name)
    if len(set(map(str, names))) < len(names):
        problems.append(f"accounts.attributes: {names!r} names an attribute twice")
    return problems


WINBACK_KEYS = {
    "touch_days", "touch_window_days", "inactive_days", "returned_within_days",
    "poor_investment", "value_tiers", "offers", "product_updates",
}  # fmt: skip
OFFER_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def _whole(value: Any, minimum: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def validate_winback_config(winback: Mapping[str, Any]) -> None:
    """Raise ValueError naming every problem in the ``winback`` section. dbt reads it
    as --vars: a typo would otherwise silently keep a default, or render SQL that
    schedules touches on the wrong nights."""
    problems: list[str] = []
    unknown = sorted(set(winback) - WINBACK_KEYS)
    if unknown:
        problems.append(f"winback: unknown key(s) {unknown}; known: {sorted(WINBACK_KEYS)}")
    missing = sorted(WINBACK_KEYS - set(winback))
    if missing:
        problems.append(f"winback: missing key(s) {missing}")
        raise ValueError("invalid winback configuration:\n  " + "\n  ".join(problems))
    touch_days = winback["touch_days"]
    schedules_ok = (
        isinstance(touch_days, list)
        and touch_days
        and all(_whole(d, 1) for d in touch_days)
        and all(a < b for a, b in pairwise(touch_days))
    )
    if not schedules_ok:
        problems.append(f"winback.touch_days: {touch_days!r} is not increasing whole days >= 1")
    inactive = winback["inactive_days"]
    if not _whole(inactive, 1):
        problems.append(f"winback.inactive_days: {inactive!r} is not a whole number >= 1")
    window = winback["touch_window_days"]
    if not _whole(window, 1):
        problems.append(f"winback.touch_window_days: {window!r} is not a whole number >= 1")
    elif schedules_ok and _whole(inactive, 1):
        # an inactive account's touches: on inactive_days, then the touch days above it
        inactive_days = [inactive] + [d for d in touch_days if d > inactive]
        gaps = [b - a for s in (touch_days, inactive_days) for a, b in pairwise(s)]
        if gaps and window > min(gaps):
            problems.append(
                f"winback.touch_window_days ({window}) exceeds the smallest gap between two "
                f"touch days ({min(gaps)}; inactive accounts: {inactive_days}): two touches "
                "would be due at once"
            )
    if not _whole(winback["returned_within_days"], 0):
        problems.append("winback.returned_within_days: not a whole number >= 0")
    rules = winback["poor_investment"] if isinstance(winback["poor_investment"], Mapping) else {}
    for key in ("min_tenure_days", "min_billed_periods"):
        if not _whole(rules.get(key), 0):
            problems.append(f"winback.poor_investment.{key}: not a whole number >= 0")
    tiers = winback["value_tiers"] if isinstance(winback["value_tiers"], Mapping) else {}
    for high_key, medium_key in (("high", "medium"), ("high_mrr", "medium_mrr")):
        high, medium = tiers.get(high_key), tiers.get(medium_key)
        numbers = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in (high, medium)
        )
        if not (numbers and high > medium >= 0):
            problems.append(
                f"winback.value_tiers: need {high_key} > {medium_key} >= 0, got {dict(tiers)}"
            )
    offers = winback["offers"] if isinstance(winback["offers"], Mapping) else {}
    for needed in ("default", "inactive"):
        if needed not in offers:
            problems.append(f"winback.offers: no '{needed}' offer")
    waiting = set()
    for reason, offer in offers.items():
        if not isinstance(offer, Mapping):
            problems.append(f"winback.offers.{reason}: needs offer_key and text")
            continue
        if not OFFER_KEY.match(str(reason)):
            problems.append(f"winback.offers: reason {reason!r} is not lower_snake_case")
        if not OFFER_KEY.match(str(offer.get("offer_key", ""))):
            problems.append(f"winback.offers.{reason}.offer_key: missing or not lower_snake_case")
        if not str(offer.get("text") or "").strip():
            problems.append(f"winback.offers.{reason}.text: missing or empty")
        wait = offer.get("wait_for_product_update", False)
        if not isinstance(wait, bool):
            problems.append(f"winback.offers.{reason}.wait_for_product_update: not true/false")
        elif wait:
            waiting.add(reason)
        unknown_offer = sorted(set(offer) - {"offer_key", "text", "wait_for_product_update"})
        if unknown_offer:
            problems.append(f"winback.offers.{reason}: unknown key(s) {unknown_offer}")
    updates = winback["product_updates"]
    if not isinstance(updates, list):
        problems.append("winback.product_updates: not a list")
        updates = []
    for i, update in enumerate(updates):
        where = f"winback.product_updates[{i}]"
        if not isinstance(update, Mapping) or not str(update.get("name") or "").strip():
            problems.append(f"{where}: needs a name, shipped_on and reasons")
            continue
        try:
            date.fromisoformat(str(update.get("shipped_on")))
        except ValueError:
            problems.append(f"{where}.shipped_on: {update.get('shipped_on')!r} is not YYYY-MM-DD")
        reasons = update.get("reasons")
        if not isinstance(reasons, list) or not reasons:
            problems.append(f"{where}.reasons: a non-empty list of churn reasons")
        else:
            idle = sorted(set(reasons) - waiting)
            if idle:
                problems.append(
                    f"{where}.reasons: {idle} wait for no product update (reasons whose offer "
                    f"has wait_for_product_update: {sorted(waiting)})"
                )
    if problems:
        raise ValueError("invalid winback configuration:\n  " + "\n  ".join(problems))
