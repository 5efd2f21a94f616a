"""One night of the alert lifecycle: new -> open -> escalated -> resolved / dismissed /
expired, with feedback, cooldowns, the per-CSM budget and the control holdout.

The state is the alert history itself (``alerts.alert_history``: one row per alert per
night it was open, and the night it closed), so a night is a pure function of the
previous night's rows, tonight's candidates and the feedback received in between:
re-running a night gives the same rows and ids. An alert is one account's open case;
its types are the rules firing for it (one open alert per account, so never two open
alerts of the same account and type).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from alerts.settings import LEVEL
from alerts.severity import AUTOMATED, CSM

OPEN = ("new", "open", "escalated")
CLOSED = ("resolved", "dismissed", "expired")
HISTORY_COLUMNS = [
    "night", "alert_id", "account_id", "company_name", "csm_owner", "segment", "status",
    "severity", "opened_severity", "peak_severity", "types", "all_types", "primary_type",
    "is_multi_factor", "evidence", "reason", "touch", "playbook_key", "playbook", "arr",
    "days_to_renewal", "churn_probability", "revenue_at_risk", "opened_night", "last_fired_night",
    "clear_nights", "closed_night", "close_reason", "close_note", "is_holdout",
    "first_delivered_night", "is_delivered_tonight", "is_deferred_tonight", "deferred_nights",
    "is_over_budget", "sla_due_at", "engaged_at", "snoozed_until", "dismissal_reason",
]  # fmt: skip
CHANGE_COLUMNS = ["night", "alert_id", "account_id", "from_status", "to_status", "reason"]
DATE_COLUMNS = (
    "night",
    "opened_night",
    "last_fired_night",
    "closed_night",
    "first_delivered_night",
)
TIME_COLUMNS = ("sla_due_at", "engaged_at", "snoozed_until")


def _typed(history: pd.DataFrame) -> pd.DataFrame:
    """One dtype per column whether a row came from the warehouse or was made tonight."""
    for column in (*DATE_COLUMNS, *TIME_COLUMNS):
        history[column] = pd.to_datetime(history[column]).astype("datetime64[us]")
    return history


def alert_id_for(account_id: str, night: date) -> str:
    """Stable: the account and the night the alert opened (one alert per account a night)."""
    return f"AL-{account_id}-{pd.Timestamp(night):%Y%m%d}"


def in_holdout(account_id: str, share: float, salt: str) -> bool:
    """Deterministic control-group membership: a hash of the account id, so it is the same
    every night and in every replay, and changes only with the salt."""
    digest = hashlib.sha256(f"{salt}:{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


@dataclass
class NightResult:
    history: pd.DataFrame  # tonight's row of every alert open tonight or closed tonight
    changes: pd.DataFrame  # state changes that happened tonight
    feedback_applied: int = 0
    feedback_unmatched: list[str] = field(default_factory=list)


def cooled_types(previous: pd.DataFrame, night: date, cooldown_days: Mapping[str, int]) -> dict:
    """account -> the rule types it may not re-open tonight (closed recently)."""
    closed = previous[previous["status"].isin(CLOSED)]
    cooled: dict[str, set[str]] = {}
    for row in closed.itertuples(index=False):
        until = pd.Timestamp(row.closed_night) + timedelta(days=cooldown_days[row.close_reason])
        if pd.Timestamp(night) < until:
            cooled.setdefault(row.account_id, set()).update(row.all_types)
    return cooled


def _level(severity: str) -> int:
    return LEVEL[severity]


def _apply_feedback(alert: dict, feedback: pd.DataFrame, night: date, snooze_days: int) -> None:
    night = pd.Timestamp(night)
    for item in feedback.itertuples(index=False):
        if item.action == "engaged" and pd.isna(alert["engaged_at"]):
            alert["engaged_at"] = item.submitted_at
        elif item.action == "snoozed":
            alert["snoozed_until"] = pd.Timestamp(item.submitted_at).normalize() + timedelta(
                days=snooze_days
            )
        elif item.action == "dismissed":
            alert.update(status="dismissed", close_reason="dismissed", closed_night=night)
            alert["close_note"] = item.comment if isinstance(item.comment, str) else None
            alert["dismissal_reason"] = item.reason_code
            return


@dataclass
class FeedbackReceived:
    state: pd.DataFrame  # the previous rows with the feedback applied (status_before kept)
    applied: int
    unmatched: list[str]  # alert ids that are unknown, or no longer open


def receive_feedback(
    previous: pd.DataFrame, feedback: pd.DataFrame, night: date, snooze_days: int
) -> FeedbackReceived:
    """Apply the feedback received since the previous night to the alerts still open:
    engaged (kept open, no re-notification), snoozed (off the lists for a while) or
    dismissed (closed tonight, its types cool down)."""
    groups = dict(tuple(feedback.sort_values("submitted_at").groupby("alert_id")))
    records = previous.assign(status_before=previous["status"]).to_dict("records")
    applied = 0
    for alert in records:
        received = groups.pop(alert["alert_id"], None) if alert["status"] in OPEN else None
        if received is not None:
            applied += len(received)
            _apply_feedback(alert, received, night, snooze_days)
    state = pd.DataFrame(records, columns=[*previous.columns, "status_before"])
    return FeedbackReceived(state, applied, sorted(groups))


def _refresh_from_candidate(alert: dict, candidate: Mapping[str, Any]) -> None:
    for key in (
        "company_name", "csm_owner", "segment", "severity", "types", "primary_type",
        "is_multi_factor", "evidence", "reason", "touch", "playbook_key", "playbook", "arr",
        "days_to_renewal", "churn_probability", "revenue_at_risk",
    ):  # fmt: skip
        alert[key] = candidate[key]
    alert["all_types"] = sorted(set(alert["all_types"]) | set(candidate["types"]))


def advance_night(
    received: FeedbackReceived,
    candidates: pd.DataFrame,
    active_accounts: set[str],
    night: date,
    alerts_config: Mapping[str, Any],
) -> NightResult:
    """Tonight's rows and state changes, from the previous rows of every alert still open
    (feedback applied), tonight's candidates (cooled-down types already removed) and the
    accounts observed tonight (an open alert of an account no longer observed expires)."""
    lifecycle = alerts_config["lifecycle"]
    night = night_ts = pd.Timestamp(night)
    by_account = {row["account_id"]: row for row in candidates.to_dict("records")}
    changes: list[dict] = []
    tonight: list[dict] = []
    open_accounts: set[str] = set()

    state = received.state
    for alert in state[state["status_before"].isin(OPEN)].to_dict("records"):
        was = alert.pop("status_before")
        alert.update(night=night, is_delivered_tonight=False, is_deferred_tonight=False)
        alert["is_over_budget"] = False
        why = "feedback: dismissed" if alert["status"] == "dismissed" else ""
        if alert["status"] in OPEN:
            candidate = by_account.get(alert["account_id"])
            if alert["account_id"] not in active_accounts:
                alert.update(status="expired", close_reason="expired", closed_night=night)
                alert["close_note"] = "account no longer observed (left or not in a subscription)"
                why = alert["close_note"]
            elif candidate is not None:
                risen = _level(candidate["severity"]) > _level(alert["peak_severity"])
                _refresh_from_candidate(alert, candidate)
                if pd.notna(alert["first_delivered_night"]) and alert["touch"] != CSM:
                    # a CSM who received it keeps it (with the CSM's step), whatever
                    # tonight's severity or value would route to a sequence
                    playbook = alerts_config["playbooks"][alert["playbook_key"]]
                    alert.update(touch=CSM, playbook=playbook)
                alert.update(last_fired_night=night, clear_nights=0)
                if risen:
                    alert.update(status="escalated", peak_severity=candidate["severity"])
                    why = f"severity rose to {candidate['severity']}"
                else:
                    alert["status"] = "open"
            else:
                alert["clear_nights"] += 1
                alert["status"] = "open"
                if alert["clear_nights"] >= lifecycle["resolve_after_clear_nights"]:
                    alert.update(status="resolved", close_reason="resolved", closed_night=night)
                    why = f"conditions clear for {alert['clear_nights']} nights"
            if (
                alert["status"] in OPEN
                and (night_ts - pd.Timestamp(alert["opened_night"])).days
                >= lifecycle["expire_after_days"]
            ):
                alert.update(status="expired", close_reason="expired", closed_night=night)
                alert["close_note"] = f"open {lifecycle['expire_after_days']} days"
                why = alert["close_note"]
        if alert["status"] != was:
            changes.append(_change(alert, was, why or "still firing"))
        if alert["status"] in OPEN:
            open_accounts.add(alert["account_id"])
        tonight.append(alert)

    holdout = alerts_config["holdout"]
    for account_id, candidate in by_account.items():
        if account_id in open_accounts:
            continue
        alert = {
            **{key: None for key in HISTORY_COLUMNS},
            **{k: candidate[k] for k in candidate if k in HISTORY_COLUMNS},
            "night": night,
            "alert_id": alert_id_for(account_id, night),
            "status": "new",
            "opened_severity": candidate["severity"],
            "peak_severity": candidate["severity"],
            "all_types": list(candidate["types"]),
            "opened_night": night,
            "last_fired_night": night,
            "clear_nights": 0,
            "deferred_nights": 0,
            "is_delivered_tonight": False,
            "is_deferred_tonight": False,
            "is_over_budget": False,
            "is_holdout": in_holdout(account_id, holdout["share"], holdout["salt"]),
        }
        changes.append(_change(alert, None, "opened: " + ", ".join(candidate["types"])))
        tonight.append(alert)

    for alert in tonight:  # a holdout alert that reaches an exempt severity is contacted
        if alert["is_holdout"] and alert["severity"] in holdout["exempt_severities"]:
            alert["is_holdout"] = False
    history = _typed(pd.DataFrame(tonight, columns=HISTORY_COLUMNS))
    return NightResult(
        history=apply_budget(history, night, alerts_config),
        changes=pd.DataFrame(changes, columns=CHANGE_COLUMNS),
        feedback_applied=received.applied,
        feedback_unmatched=received.unmatched,
    )


def _change(alert: Mapping[str, Any], was: str | None, reason: str) -> dict:
    return {
        "night": alert["night"],
        "alert_id": alert["alert_id"],
        "account_id": alert["account_id"],
        "from_status": was,
        "to_status": alert["status"],
        "reason": reason,
    }


def in_automated_sequence(history: pd.DataFrame) -> pd.Series:
    """Alerts an automated sequence handles on their night: open, automated, never
    delivered to a CSM (a CSM who received one keeps it), not held out, not snoozed."""
    snoozed = pd.to_datetime(history["snoozed_until"]).gt(pd.to_datetime(history["night"]))
    return (
        history["status"].isin(OPEN)
        & history["touch"].eq(AUTOMATED)
        & history["first_delivered_night"].isna()
        & ~history["is_holdout"].astype(bool)
        & ~snoozed.fillna(False)
    )


def apply_budget(
    history: pd.DataFrame, night: date, alerts_config: Mapping[str, Any]
) -> pd.DataFrame:
    """Deliver each CSM's undelivered alerts up to the budget: those deferred the most
    nights first (none waits behind newer ones for ever), then by severity weight x
    revenue at risk; the rest are deferred (still open, counted). Critical alerts are
    delivered over the budget when ``critical_over_budget`` is ``deliver``. Automated
    alerts (tech touch, low severity) go to a sequence, not a CSM: no budget, no delivery.
    """
    budget = alerts_config["budget"]
    if history.empty:
        return history
    frame = history.copy()
    night_ts = pd.Timestamp(night)
    snoozed = pd.to_datetime(frame["snoozed_until"]).gt(night_ts).fillna(False)
    needs_delivery = (
        frame["status"].isin(OPEN)
        & frame["severity"].isin(budget["deliver_severities"])
        & frame["touch"].eq(CSM)
        & ~frame["is_holdout"].astype(bool)
        & ~snoozed
        & (frame["first_delivered_night"].isna() | frame["status"].eq("escalated"))
    )
    weight = frame["severity"].map(budget["severity_weight"]).astype(float)
    frame["_score"] = weight * frame["revenue_at_risk"].astype(float).fillna(0.0)
    frame["_waited"] = frame["deferred_nights"].fillna(0).astype(int)
    frame["_critical"] = frame["severity"].eq("critical") & (
        budget["critical_over_budget"] == "deliver"
    )
    deliver = pd.Series(False, index=frame.index)
    over = pd.Series(False, index=frame.index)
    pending = frame[needs_delivery].sort_values(
        ["_critical", "_waited", "_score"], ascending=[False, False, False]
    )
    for _, group in pending.groupby("csm_owner", sort=False):
        rank = np.arange(len(group))
        within = rank < budget["per_csm_per_day"]
        forced = group["_critical"].to_numpy() & ~within
        deliver[group.index[within | forced]] = True
        over[group.index[forced]] = True
    frame["is_delivered_tonight"] = deliver
    frame["is_over_budget"] = over
    frame["is_deferred_tonight"] = needs_delivery & ~deliver
    frame.loc[deliver & frame["first_delivered_night"].isna(), "first_delivered_night"] = night_ts
    frame["deferred_nights"] = frame["deferred_nights"].fillna(0).astype(int) + frame[
        "is_deferred_tonight"
    ].astype(int)
    sla = frame["severity"].map(alerts_config["sla_hours"]).astype(float)
    frame.loc[deliver, "sla_due_at"] = night_ts + pd.to_timedelta(sla[deliver], unit="h")
    return frame.drop(columns=["_score", "_waited", "_critical"])
