"""The alerts section of the config, checked before a night is evaluated: a typo in a
rule's name, a playbook without text or an unknown severity would otherwise silently
turn a rule off or publish an alert without its step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.rules import RULES

SEVERITIES = ("low", "medium", "high", "critical")
LEVEL = {name: level for level, name in enumerate(SEVERITIES)}
CLOSE_REASONS = ("resolved", "dismissed", "expired")


def validate_alert_config(alerts: Mapping[str, Any]) -> None:
    """Raise ValueError naming every problem found in ``alerts``."""
    problems: list[str] = []
    rules = alerts["rules"]
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        problems.append(f"alerts.rules: unknown rule(s) {unknown}; known: {sorted(RULES)}")
    grace = max(int(r.get("grace_days", 0)) for r in rules.values())
    if alerts["lookback_nights"] <= grace:
        problems.append(
            f"alerts.lookback_nights ({alerts['lookback_nights']}) must exceed the longest "
            f"grace period ({grace} days): the grace period looks back over those nights"
        )
    families = set()
    for name, rule in rules.items():
        for key in ("family", "severity", "grace_days", "playbook"):
            if key not in rule:
                problems.append(f"alerts.rules.{name}: '{key}' is missing")
        if rule.get("severity") not in SEVERITIES[:3]:
            problems.append(
                f"alerts.rules.{name}.severity: {rule.get('severity')!r} is not one of "
                f"{list(SEVERITIES[:3])} (critical comes from the account and confirmation)"
            )
        if rule.get("playbook") not in alerts["playbooks"]:
            problems.append(
                f"alerts.rules.{name}.playbook: {rule.get('playbook')!r} has no text in alerts.playbooks"
            )
        families.add(rule.get("family"))
    for key in ("sla_hours", "budget.severity_weight"):
        section = alerts
        for part in key.split("."):
            section = section[part]
        missing = [s for s in SEVERITIES if s not in section]
        if missing:
            problems.append(f"alerts.{key}: no value for {missing}")
    for key in ("deliver_severities",):
        bad = [s for s in alerts["budget"][key] if s not in SEVERITIES]
        if bad:
            problems.append(f"alerts.budget.{key}: unknown severities {bad}")
    if alerts["budget"]["critical_over_budget"] not in ("deliver", "defer"):
        problems.append("alerts.budget.critical_over_budget: must be 'deliver' or 'defer'")
    severity = alerts["severity"]
    bad_families = [f for f in severity["confirming_families"] if f not in families]
    if bad_families:
        problems.append(
            f"alerts.severity.confirming_families: {bad_families} is no rule's family "
            f"(families: {sorted(families)})"
        )
    if severity.get("confirming_min_severity") not in SEVERITIES:
        problems.append("alerts.severity.confirming_min_severity: not a severity")
    if not severity.get("factor_adjustment"):
        problems.append("alerts.severity.factor_adjustment: empty")
    problems += _value_problems(alerts)
    missing_cooldown = [r for r in CLOSE_REASONS if r not in alerts["lifecycle"]["cooldown_days"]]
    if missing_cooldown:
        problems.append(f"alerts.lifecycle.cooldown_days: no value for {missing_cooldown}")
    if not 0 <= alerts["holdout"]["share"] < 1:
        problems.append("alerts.holdout.share: must be in [0, 1)")
    if not alerts["feedback"]["reason_codes"]:
        problems.append("alerts.feedback.reason_codes: the list is empty")
    if problems:
        raise ValueError("invalid alerts configuration:\n  " + "\n  ".join(problems))


def _is_amount(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _value_problems(alerts: Mapping[str, Any]) -> list[str]:
    """The account-value thresholds (alerts.account_value) and the automated steps."""
    problems = []
    severity, touch = alerts["severity"], alerts["touch"]
    for key, value in (
        ("severity.high_value_arr", severity["high_value_arr"]),
        ("severity.low_value_arr", severity["low_value_arr"]),
        ("touch.automated_below_arr", touch["automated_below_arr"]),
    ):
        if value != "auto" and not _is_amount(value):
            problems.append(f"alerts.{key}: {value!r} is neither 'auto' nor an amount >= 0")
    percentiles = severity["value_percentiles"]
    low, high = percentiles.get("low"), percentiles.get("high")
    if not (_is_amount(low) and _is_amount(high) and low < high <= 100):
        problems.append(
            f"alerts.severity.value_percentiles: {dict(percentiles)} needs 0 <= low < high <= 100"
        )
    missing = sorted(set(alerts["playbooks"]) - set(touch["automated_playbooks"]))
    if missing:
        problems.append(
            f"alerts.touch.automated_playbooks: no automated step for playbook(s) {missing}"
        )
    return problems
