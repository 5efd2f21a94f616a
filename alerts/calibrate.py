"""Calibration dry run (DOMAIN.md §7): how each rule would have done under nearby
thresholds, and what a proposed config would change, over replayed nights. Nothing is
sent and the live alert tables are not touched.

    python -m alerts.calibrate --first 2026-08-01 --last 2026-10-31 [--proposed my.yaml] [--out DIR]

The nights must hold daily signals (``python -m alerts.replay`` builds them; its model's
scores are used when present, else the live score history). Outcomes come from the
warehouse's own churn events: an episode (a run of nights a rule held, after its grace
period) is right when the account's subscription ended within alerts.horizon_days of
the episode's first night; episodes whose horizon (plus the re-sign gap) has not passed
by the as-of date are pending and left out of the precision: calibrate on nights at
least that old.

1. For every rule and every numeric setting of it (and its grace period), the settings
   x0.8, x0.9, x1, x1.1, x1.2: episodes, episodes per night, precision, median lead time.
2. With ``--proposed``: both configs replayed into scratch schemas, and every account
   that would gain, lose or change the severity of its alerts.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from alerts.conditions import evaluate_conditions
from alerts.engine import first_signal_night, read_signals, replay
from alerts.replay import REPLAY_SCORES
from alerts.settings import LEVEL

FACTORS = (0.8, 0.9, 1.0, 1.1, 1.2)
NOT_THRESHOLDS = {"family", "severity", "playbook"}
CURRENT_SCHEMA, PROPOSED_SCHEMA = "alerts_calibration_current", "alerts_calibration_proposed"


def churn_outcomes(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, date]:
    churns = con.execute(
        "select account_id, churned_on from intermediate.int_churn_events_classified "
        "where not is_provisional"
    ).df()
    churns["churned_on"] = pd.to_datetime(churns["churned_on"])
    as_of = con.execute(
        "select max(observation_date) from intermediate.int_observation_dates_listed"
    ).fetchone()[0]
    return churns, as_of


def episodes_of(hits: pd.DataFrame, rule: str, first: date, last: date) -> pd.DataFrame:
    """First nights of each run of eligible nights of ``rule`` inside [first, last]."""
    own = hits[hits["rule"].eq(rule) & hits["is_eligible"]].copy()
    own["night"] = pd.to_datetime(own["night"])
    own = own[own["night"].between(pd.Timestamp(first), pd.Timestamp(last))]
    own = own.sort_values(["account_id", "night"])
    starts = own["night"].diff().dt.days.ne(1) | own["account_id"].ne(own["account_id"].shift())
    return own.loc[starts, ["account_id", "night"]]


def judge_episodes(
    episodes: pd.DataFrame, churns: pd.DataFrame, as_of: date, horizon: int, gap: int, nights: int
) -> dict[str, Any]:
    joined = episodes.merge(churns, on="account_id", how="left")
    within = (joined["churned_on"] > joined["night"]) & (
        joined["churned_on"] <= joined["night"] + timedelta(days=horizon)
    )
    joined["right"] = within
    right = joined.groupby(["account_id", "night"])["right"].any()
    lead = (joined.loc[within, "churned_on"] - joined.loc[within, "night"]).dt.days
    # judged only once the horizon (and the re-sign gap) has passed: counting the early
    # churns while the others are still open would flatter the precision
    known_by = pd.Timestamp(as_of) - timedelta(days=horizon + gap)
    known = np.asarray(right.index.get_level_values("night") <= known_by)
    return {
        "episodes": len(right),
        "per_night": round(len(right) / max(nights, 1), 2),
        "known": int(known.sum()),
        "precision": round(float(right.to_numpy()[known].mean()), 3) if known.any() else None,
        "median_lead_days": float(np.median(lead)) if len(lead) else None,
    }


def _variants(params: Mapping[str, Any]) -> list[tuple[str, Any]]:
    out = []
    for key, value in params.items():
        if key in NOT_THRESHOLDS or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        for factor in FACTORS:
            moved = value * factor
            out.append((key, round(moved) if isinstance(value, int) else round(moved, 4)))
    return out


def rule_sensitivity(
    signals: pd.DataFrame,
    config: Mapping[str, Any],
    churns: pd.DataFrame,
    as_of: date,
    first: date,
    last: date,
) -> pd.DataFrame:
    """One row per rule, setting and tried value."""
    alerts = config["alerts"]
    nights = (last - first).days + 1
    rows = []
    for rule, params in alerts["rules"].items():
        for key, value in _variants(params):
            trial = copy.deepcopy(dict(alerts["rules"]))
            trial[rule] = {**params, key: value}
            if rule != "renewal_risk":  # renewal needs the others beside it
                trial = {rule: trial[rule]}
            hits = evaluate_conditions(signals, trial, config["metrics"])
            result = judge_episodes(
                episodes_of(hits, rule, first, last), churns, as_of,
                alerts["horizon_days"], config["churn"]["resign_gap_days"], nights,
            )  # fmt: skip
            rows.append(
                {
                    "rule": rule,
                    "setting": key,
                    "value": value,
                    "is_current": value == params[key],
                    **result,
                }
            )
    return pd.DataFrame(rows).drop_duplicates(["rule", "setting", "value"])


def compare_configs(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    current: Mapping[str, Any],
    proposed: Mapping[str, Any],
    scores_table: str,
) -> pd.DataFrame:
    """Accounts whose alerts over [first, last] differ between the two configs."""
    peaks = {}
    for schema, config in ((CURRENT_SCHEMA, current), (PROPOSED_SCHEMA, proposed)):
        replay(con, first, last, config, scores_table, schema=schema)
        peaks[schema] = (
            con.execute(
                f"""select account_id, any_value(csm_owner) as csm_owner,
                       max(case severity when 'low' then 0 when 'medium' then 1
                                when 'high' then 2 else 3 end) as level,
                       count(distinct alert_id) as alerts
                from {schema}.alert_history group by account_id"""
            )
            .df()
            .set_index("account_id")
        )
        con.execute(f"drop schema {schema} cascade")
    before, after = peaks[CURRENT_SCHEMA], peaks[PROPOSED_SCHEMA]
    both = before.add_suffix("_current").join(after.add_suffix("_proposed"), how="outer")
    names = {level: name for name, level in LEVEL.items()}
    change = np.select(
        [
            both["level_current"].isna(),
            both["level_proposed"].isna(),
            both["level_proposed"] > both["level_current"],
            both["level_proposed"] < both["level_current"],
        ],
        ["gains alerts", "loses its alerts", "severity up", "severity down"],
        "",
    )
    out = pd.DataFrame(
        {
            "csm_owner": both["csm_owner_current"].fillna(both["csm_owner_proposed"]),
            "change": change,
            "peak_severity_current": both["level_current"].map(names),
            "peak_severity_proposed": both["level_proposed"].map(names),
            "alerts_current": both["alerts_current"].fillna(0).astype(int),
            "alerts_proposed": both["alerts_proposed"].fillna(0).astype(int),
        },
        index=both.index,
    )
    return out[out["change"].ne("")].sort_values(["change", "csm_owner"]).reset_index()


def _scores_table(con: duckdb.DuckDBPyConnection) -> str:
    schema, table = REPLAY_SCORES.split(".")
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    return REPLAY_SCORES if found else "ml.churn_scores"


def main(argv: list[str] | None = None) -> None:
    from pipeline_config import load_config, resolve_paths, warehouse_settings
    from runtime.holding import holding_warehouse

    parser = argparse.ArgumentParser(description="Alert calibration dry run.")
    parser.add_argument("--first", type=date.fromisoformat, required=True)
    parser.add_argument("--last", type=date.fromisoformat, required=True)
    parser.add_argument("--config", help="the config in force (default: $CHURN_CONFIG or defaults)")
    parser.add_argument("--proposed", help="a config file to compare with the one in force")
    parser.add_argument("--out", type=Path, help="also write the tables as CSV files here")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    with holding_warehouse("alerts.calibrate", config["run"]):
        con = duckdb.connect(str(resolve_paths().warehouse), config=warehouse_settings())
        try:
            scores = _scores_table(con)
            signals = read_signals(
                con, first_signal_night(args.first, config["alerts"]), args.last, scores
            )
            churns, as_of = churn_outcomes(con)
            table = rule_sensitivity(signals, config, churns, as_of, args.first, args.last)
            changes = (
                compare_configs(
                    con, args.first, args.last, config, load_config(args.proposed), scores
                )
                if args.proposed
                else None
            )
        finally:
            con.close()
    pd.set_option("display.width", 200)
    print(f"Rules under nearby thresholds, {args.first} .. {args.last} (scores: {scores}):\n")
    print(table.to_string(index=False))
    if changes is not None:
        print(f"\n{args.proposed} vs the config in force: {len(changes)} accounts change")
        print(changes.groupby("change").size().to_string())
        print(changes.to_string(index=False))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "rule_sensitivity.csv", index=False)
        if changes is not None:
            changes.to_csv(args.out / "config_changes.csv", index=False)


if __name__ == "__main__":
    main()
