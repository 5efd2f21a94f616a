"""Severity from the pattern AND the account (DOMAIN.md §5), and each account's alert
candidate for a night: its firing rules, evidence, reason and playbook step.

The pattern sets the start: the highest severity among the account's firing rules. Then
  + ``factor_adjustment`` for the number of independent risk factors confirming each
    other (distinct families of rules at ``confirming_min_severity`` or above, the
    model counting as one once the churn probability reaches ``model_confirms_at``):
    one metric dipping is noise, several together are signal (DOMAIN.md §7);
  + 1 for a high-value account, - 1 for a small one (``alerts.account_value``: fixed ARR
    thresholds or percentiles of the book), + the segment's adjustment;
  - 1 when only usage-type rules fire and a support ticket is open (the customer is
    already talking to us; the usage still feeds the health score).
Critical needs at least ``critical_min_factors`` factors: one pattern never pages anyone
the same day, however large the account.

Who acts follows from the severity and the account's value: a CSM for the severities the
budget delivers, on accounts worth a person's time; an automated sequence (the playbook's
automated step) for low alerts and for accounts where a contact does not pay back
(``alerts.account_value``). An account whose ARR is unknown is neither small nor large
and keeps its CSM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from alerts.account_value import ValueThresholds
from alerts.rules import RULES
from alerts.settings import LEVEL, SEVERITIES

MODEL_FAMILY = "model"
CSM, AUTOMATED = "csm", "automated"  # who acts on an alert (its ``touch``)
CANDIDATE_COLUMNS = [
    "account_id", "night", "company_name", "csm_owner", "segment", "plan", "contract_term",
    "arr", "days_to_renewal", "churn_probability", "revenue_at_risk", "types", "families",
    "primary_type", "factors", "is_multi_factor", "severity", "evidence", "reason", "touch",
    "playbook_key", "playbook",
]  # fmt: skip


def rule_evidence(
    signals: pd.DataFrame, hits: pd.DataFrame, rules_config: Mapping, metrics: Mapping
) -> pd.DataFrame:
    """``hits`` of one night with the value, threshold, reference and sentence of each
    rule (``signals``: that night's rows, one per account)."""
    by_account = signals.set_index("account_id")
    parts = []
    for name, rule_hits in hits.groupby("rule", sort=False):
        rows = by_account.reindex(rule_hits["account_id"].to_numpy()).reset_index()
        evidence = RULES[name].evidence(rows, rules_config[name], metrics)
        parts.append(
            rule_hits.reset_index(drop=True).assign(
                value=evidence.value.to_numpy(),
                threshold=evidence.threshold.to_numpy(),
                reference=evidence.reference.to_numpy(),
                evidence=evidence.text.to_numpy(),
            )
        )
    if not parts:
        return hits.assign(value=[], threshold=[], reference=[], evidence=[])
    return pd.concat(parts, ignore_index=True)


def build_candidates(
    signals: pd.DataFrame,
    evidence: pd.DataFrame,
    alerts: Mapping[str, Any],
    value: ValueThresholds,
) -> pd.DataFrame:
    """One candidate per account with at least one eligible rule on the night
    (``signals``: the night's rows, one per account; ``value``: the night's thresholds)."""
    eligible = evidence[evidence["is_eligible"].astype(bool)]
    if eligible.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    rules_config = alerts["rules"]
    config = alerts["severity"]
    order = {name: i for i, name in enumerate(rules_config)}
    rule_level = {name: LEVEL[rule["severity"]] for name, rule in rules_config.items()}
    ranked = eligible.assign(
        _level=eligible["rule"].map(rule_level), _order=eligible["rule"].map(order)
    ).sort_values(["account_id", "_level", "_order"], ascending=[True, False, True])
    confirming = ranked[
        ranked["family"].isin(config["confirming_families"])
        & (ranked["_level"] >= LEVEL[config["confirming_min_severity"]])
    ]
    grouped = ranked.groupby("account_id", sort=True)
    frame = pd.DataFrame(
        {
            "types": grouped["rule"].agg(list),
            "families": grouped["family"].agg(lambda f: sorted(set(f))),
            "evidence": grouped["evidence"].agg("; ".join),
            "base_level": grouped["_level"].max(),
        }
    )
    account = signals.set_index("account_id").reindex(frame.index)
    probability = account["churn_probability"].astype("float64")
    families = confirming.groupby("account_id")["family"].agg(set).reindex(frame.index)
    families = families.map(lambda f: f if isinstance(f, set) else set())
    model_confirms = probability.ge(config["model_confirms_at"]).to_numpy()
    frame["factors"] = [
        len(f | {MODEL_FAMILY}) if confirmed else len(f)
        for f, confirmed in zip(families, model_confirms, strict=True)
    ]
    known_arr = account["arr"].astype("float64")
    adjustment = {int(k): int(v) for k, v in config["factor_adjustment"].items()}
    most = max(adjustment)
    level = (
        frame["base_level"]
        + frame["factors"].clip(lower=min(adjustment), upper=most).map(adjustment)
        + known_arr.ge(value.high_value_arr).astype(int)
        - known_arr.lt(value.low_value_arr).astype(int)
        + account["segment"].map(config.get("segment_adjustment") or {}).fillna(0).astype(int)
    )
    only_demotable = frame["families"].map(lambda f: set(f) <= set(config["open_ticket_demotes"]))
    level -= (only_demotable & account["open_tickets"].fillna(0).gt(0)).astype(int)
    level = level.clip(0, LEVEL["critical"])
    level = level.where(
        level.lt(LEVEL["critical"]) | frame["factors"].ge(config["critical_min_factors"]),
        LEVEL["high"],
    )
    multi = frame["factors"] >= 2
    primary = frame["types"].str[0]
    severity = level.map(dict(enumerate(SEVERITIES)))
    touch = _touch(severity, known_arr, value.automated_line(probability), alerts)
    playbook_key = primary.map(lambda t: rules_config[t]["playbook"])
    frame = frame.assign(
        night=account["night"],
        company_name=account["company_name"],
        csm_owner=account["csm_owner"],
        segment=account["segment"],
        plan=account["plan"],
        contract_term=account["contract_term"],
        arr=known_arr,
        days_to_renewal=account["days_to_renewal"],
        churn_probability=probability,
        revenue_at_risk=(probability * known_arr.fillna(0.0)).round(2),
        primary_type=primary,
        is_multi_factor=multi,
        severity=severity,
        reason=frame["types"].map(_reason),
        touch=touch,
        playbook_key=playbook_key,
        playbook=[
            (alerts["playbooks"] if who == CSM else alerts["touch"]["automated_playbooks"])[key]
            for who, key in zip(touch, playbook_key, strict=True)
        ],
    )
    return frame.reset_index()[CANDIDATE_COLUMNS]


def _touch(
    severity: pd.Series, arr: pd.Series, automated_line: pd.Series, alerts: Mapping[str, Any]
) -> pd.Series:
    """csm for the delivered severities on accounts worth a contact (ARR unknown: worth
    it), else automated."""
    for_a_person = severity.isin(alerts["budget"]["deliver_severities"]) & ~arr.lt(automated_line)
    return for_a_person.map({True: CSM, False: AUTOMATED})


REASON_PHRASES = 3  # a reason a CSM reads in one glance; the evidence lists every rule


def _reason(types: list[str]) -> str:
    """The plain-language reason: the primary pattern, then the next ones."""
    phrases = [RULES[t].summary for t in types]
    reason = phrases[0][0].upper() + phrases[0][1:]
    others = phrases[1:REASON_PHRASES]
    if others:
        reason += "; also " + ", ".join(others)
    if len(phrases) > REASON_PHRASES:
        reason += f" (+{len(phrases) - REASON_PHRASES} more signals)"
    return reason + "."
