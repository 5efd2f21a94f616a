"""Judge replayed alerts against the simulator's ground truth (and against baselines).

Definitions (bench/README.md, "Alerts against the ground truth"):
- an alert is an episode: the engine's alert from the night it opened to the night it
  closed; a baseline's episode is a run of consecutive nights its condition held;
- it is right when the account's subscription ends (truth ``churn_date``, which runs
  past the as-of date) within ``horizon`` days after it opened;
- a churner is alerted ``lead`` days ahead when an episode was open on some night in
  [cancel request - horizon, cancel request - lead];
- alerts per CSM per day count, for every CSM and night, the alerts that reached the
  CSM's list that night (before the budget: every new or escalated alert that could be
  delivered; after: those delivered);
- a false alert is caused by a trap when the same company generated without the trap
  (the counterfactual run: identical but for the trap days) raises none of the alert's
  opening types for the account within ``match_nights`` of its opening night.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import numpy as np
import pandas as pd

CSM = "csm"  # alerts.severity.CSM: an alert for a person, not an automated sequence


def read_truth(truth_dir) -> pd.DataFrame:
    truth = pd.read_csv(
        truth_dir / "accounts_truth.csv",
        parse_dates=["churn_date", "cancel_requested_at", "reactivated_on"],
    )
    truth["churn_date"] = truth["churn_date"].dt.normalize()
    truth["cancel_requested_at"] = truth["cancel_requested_at"].dt.normalize()
    return truth.set_index("account_id")


def engine_episodes(history: pd.DataFrame, last_night) -> pd.DataFrame:
    """One row per engine alert: account, owner, opened / last open night, peak severity,
    the types it opened with, whether it was ever for a CSM (``touch`` csm on some night;
    else automated), ever delivered, or held out."""
    history = history.sort_values("night")
    opened = history[history["status"].eq("new")].set_index("alert_id")
    grouped = history.groupby("alert_id")
    closed = grouped["closed_night"].max()
    frame = pd.DataFrame(
        {
            "account_id": opened["account_id"],
            "csm_owner": opened["csm_owner"],
            "opened_night": pd.to_datetime(opened["opened_night"]),
            "last_night": pd.to_datetime(closed.reindex(opened.index)).fillna(
                pd.Timestamp(last_night)
            ),
            "opening_types": opened["types"].map(list),
            "peak_severity": grouped["peak_severity"].last().reindex(opened.index),
            "arr": opened["arr"],
            "touch": history.assign(_csm=history["touch"].eq(CSM))
            .groupby("alert_id")["_csm"]
            .any()
            .reindex(opened.index)
            .map({True: CSM, False: "automated"}),
            "delivered": grouped["is_delivered_tonight"].any().reindex(opened.index),
            "holdout": grouped["is_holdout"].last().reindex(opened.index),
        }
    )
    return frame.reset_index()


def condition_episodes(frame: pd.DataFrame, condition: pd.Series) -> pd.DataFrame:
    """Runs of consecutive nights on which ``condition`` held, per account (a baseline's
    alerts: it fires when the condition starts and stays until it stops)."""
    rows = frame.assign(holds=condition.to_numpy()).sort_values(["account_id", "night"])
    rows = rows[rows["holds"]]
    night = pd.to_datetime(rows["night"])
    new_run = night.diff().dt.days.ne(1) | rows["account_id"].ne(rows["account_id"].shift())
    rows = rows.assign(run=new_run.cumsum(), night=night)
    grouped = rows.groupby("run")
    return pd.DataFrame(
        {
            "account_id": grouped["account_id"].first(),
            "csm_owner": grouped["csm_owner"].first(),
            "opened_night": grouped["night"].min(),
            "last_night": grouped["night"].max(),
            "arr": grouped["arr"].first(),
        }
    ).reset_index(drop=True)


def is_right(episodes: pd.DataFrame, truth: pd.DataFrame, horizon: int) -> pd.Series:
    churn = episodes["account_id"].map(truth["churn_date"])
    opened = episodes["opened_night"]
    return (churn > opened) & (churn <= opened + timedelta(days=horizon))


def already_cancelling(episodes: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """The cancellation had been requested before the alert opened (right, but late)."""
    requested = episodes["account_id"].map(truth["cancel_requested_at"])
    churn = episodes["account_id"].map(truth["churn_date"])
    return (requested < episodes["opened_night"]) & (churn >= episodes["opened_night"])


def precision(episodes: pd.DataFrame, truth: pd.DataFrame, horizon: int) -> dict:
    right = is_right(episodes, truth, horizon)
    late = already_cancelling(episodes, truth) & right
    return {
        "alerts": len(episodes),
        "right": int(right.sum()),
        "precision": round(float(right.mean()), 3) if len(episodes) else None,
        "right_but_already_cancelling": int(late.sum()),
        "arr": round(float(episodes["arr"].sum())),
    }


def lead_window_churners(truth: pd.DataFrame, first, last, lead: int) -> pd.DataFrame:
    """The churners whose cancel request leaves room for a ``lead``-day warning inside
    the replayed nights [first, last]."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    warn_by = truth["cancel_requested_at"] - timedelta(days=lead)
    return truth[warn_by.notna() & (warn_by >= first) & (warn_by <= last)]


def recall_with_lead(
    episodes: pd.DataFrame, truth: pd.DataFrame, first, last, lead: int, horizon: int,
    voluntary_only: bool = False,
) -> dict:  # fmt: skip
    """Of the lead-window churners, the share alerted at least ``lead`` days ahead."""
    churners = lead_window_churners(truth, first, last, lead)
    if voluntary_only:
        churners = churners[churners["churn_type"].eq("voluntary")]
    by_account = episodes.groupby("account_id")
    alerted = 0
    for account_id, row in churners.iterrows():
        if account_id not in by_account.groups:
            continue
        own = by_account.get_group(account_id)
        window_start = row["cancel_requested_at"] - timedelta(days=horizon)
        window_end = row["cancel_requested_at"] - timedelta(days=lead)
        if ((own["opened_night"] <= window_end) & (own["last_night"] >= window_start)).any():
            alerted += 1
    return {
        "churners": len(churners),
        "alerted_ahead": alerted,
        "recall": round(alerted / len(churners), 3) if len(churners) else None,
    }


def decay_ceiling(truth: pd.DataFrame, first, last, lead: int) -> dict:
    """Of the churners a lead-day warning is judged on, those whose usage had started to
    fade (the simulator's decay) at least ``lead`` days before the cancel request: an
    upper bound for usage rules, which could at best see the decay the day it starts.
    Involuntary churn, hidden shocks and decay starting later are invisible that early."""
    churners = lead_window_churners(truth, first, last, lead)
    decay_start = churners["churn_date"] - pd.to_timedelta(churners["decay_days"], unit="D")
    visible = churners["usage_decays_before_churn"].astype(bool) & (
        decay_start <= churners["cancel_requested_at"] - timedelta(days=lead)
    )
    return {
        "churners": len(churners),
        "decay_visible_ahead": int(visible.sum()),
        "share": round(float(visible.mean()), 3) if len(churners) else None,
    }


def per_csm_per_day(counts: pd.DataFrame, nights: Iterable, owners: Iterable[str]) -> dict:
    """Median and max over every CSM and night (zeros included) of ``counts`` (columns
    night, csm_owner, n)."""
    grid = pd.MultiIndex.from_product(
        [sorted(pd.to_datetime(list(nights))), sorted(set(owners))], names=["night", "csm_owner"]
    )
    counts = counts.assign(night=pd.to_datetime(counts["night"]))
    series = counts.groupby(["night", "csm_owner"])["n"].sum().reindex(grid, fill_value=0)
    return {"median": float(np.median(series)), "max": int(series.max())}


def engine_load(history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alerts per CSM per night, before the budget (new or escalated, for a CSM, not in
    the control group) and after (delivered)."""
    reachable = (
        history["status"].isin(["new", "escalated"])
        & history["touch"].eq(CSM)
        & ~history["is_holdout"].astype(bool)
    )
    before = history[reachable].groupby(["night", "csm_owner"]).size().rename("n").reset_index()
    after = (
        history[history["is_delivered_tonight"].astype(bool)]
        .groupby(["night", "csm_owner"])
        .size()
        .rename("n")
        .reset_index()
    )
    return before, after


def new_episode_load(episodes: pd.DataFrame) -> pd.DataFrame:
    return (
        episodes.rename(columns={"opened_night": "night"})
        .groupby(["night", "csm_owner"])
        .size()
        .rename("n")
        .reset_index()
    )


def caused_by_trap(
    false_alerts: pd.DataFrame, counterfactual_hits: pd.DataFrame, match_nights: int
) -> pd.Series:
    """For the engine: a false alert none of whose opening types fires (eligible) for the
    account in the counterfactual run within ``match_nights`` of its opening night."""
    hits = counterfactual_hits[counterfactual_hits["is_eligible"].astype(bool)]
    hits = hits.assign(night=pd.to_datetime(hits["night"]))
    by_key = {key: group["night"] for key, group in hits.groupby(["account_id", "rule"])}
    caused = []
    for alert in false_alerts.itertuples(index=False):
        low = alert.opened_night - timedelta(days=match_nights)
        high = alert.opened_night + timedelta(days=match_nights)
        still = any(
            ((nights := by_key.get((alert.account_id, rule))) is not None)
            and nights.between(low, high).any()
            for rule in alert.opening_types
        )
        caused.append(not still)
    return pd.Series(caused, index=false_alerts.index, dtype=bool)


def episode_caused_by_trap(
    false_episodes: pd.DataFrame, counterfactual: pd.DataFrame, match_nights: int
) -> pd.Series:
    """For a baseline: no counterfactual episode of the account overlaps the opening
    night +- ``match_nights``."""
    by_account = dict(tuple(counterfactual.groupby("account_id")))
    caused = []
    for episode in false_episodes.itertuples(index=False):
        other = by_account.get(episode.account_id)
        low = episode.opened_night - timedelta(days=match_nights)
        high = episode.opened_night + timedelta(days=match_nights)
        overlaps = (
            other is not None
            and ((other["opened_night"] <= high) & (other["last_night"] >= low)).any()
        )
        caused.append(not overlaps)
    return pd.Series(caused, index=false_episodes.index, dtype=bool)
