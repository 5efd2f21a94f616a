"""Replay the alerts engine over consecutive nights of the demo company and judge it
against the simulator's ground truth, beside two baselines.

    python -m bench.alerts_replay [--nights 90] [--last 2026-11-29] [--workdir DIR]

1. Generates the demo company (config ``simulator``: 2,000 accounts, 18 months) and the
   same company twice more with one trap switched off (no vacations; no holiday dips):
   identical exports but for the trap days (simulator.events.month_chunks).
2. For each: ingest, the holiday calendar, and dbt with daily alert nights over the
   replay (and its lookback).
3. One churn model trained as of the first replayed night (labels known then:
   alerts.replay.known_labels) scores every night of all three companies.
4. The engine replays the nights (alerts.replay / alerts.engine.replay: grace periods,
   lifecycle, budget, holdout), and bench.alert_evaluation judges the alerts, the naive
   baseline (no login for 10 days) and model risk alone (the model_risk rule's
   threshold) against the truth: precision, recall with lead time, alerts per CSM per
   day, and the false alerts the traps caused.
Prints a markdown table and writes ``results.json`` in the work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from alerts.engine import first_signal_night, replay
from alerts.replay import build_alert_nights, point_in_time_model, score_nights, write_replay_scores
from alerts.seasonality import write_holiday_calendar
from bench import alert_evaluation as ev
from ingest import SOURCES, IngestRules, load_new_files
from pipeline_config import load_config, warehouse_settings
from simulator import SimulationSpec, generate, spec_from_config

VARIANTS = {"real": {}, "no_vacations": {"vacations": False}, "no_holidays": {"holidays": False}}
NAIVE_DAYS = 10  # DOMAIN.md §4's absolute example: no login for 10 days
MATCH_NIGHTS = 7


def build_company(workdir: Path, spec: SimulationSpec, config: dict, nights_from: date) -> Path:
    """Exports -> raw -> calendar -> dbt (with the replay's nights), in ``workdir``."""
    landing, truth = workdir / "landing", workdir / "truth"
    warehouse = workdir / "warehouse.duckdb"
    generate(spec, landing, truth)
    os.environ.update(
        CHURN_WAREHOUSE_PATH=str(warehouse),
        CHURN_LANDING_DIR=str(landing),
        CHURN_OUTPUTS_DIR=str(workdir / "outputs"),
    )
    con = duckdb.connect(str(warehouse), config=warehouse_settings())
    try:
        rules = IngestRules.from_config(config["ingest"])
        for contract in SOURCES.values():
            load_new_files(con, contract, str(landing), rules)
        write_holiday_calendar(con, config["alerts"]["seasonality"])
    finally:
        con.close()
    build_alert_nights(nights_from, config, target_path=workdir / "dbt_target")
    return warehouse


def baseline_frame(con: duckdb.DuckDBPyConnection, first: date, last: date) -> pd.DataFrame:
    return con.execute(
        """select s.account_id, s.night, s.csm_owner, s.arr, s.days_since_last_login,
                  sc.churn_probability
           from marts.fct_account_alert_signals as s
           left join alerts_replay_model.scores as sc
             on sc.account_id = s.account_id and sc.as_of_date = s.night
           where s.night between ? and ?""",
        [first, last],
    ).df()


def evaluate_company(
    con: duckdb.DuckDBPyConnection, config: dict, first: date, last: date
) -> dict[str, Any]:
    """Everything the judgement needs from one replayed company."""
    history = con.execute("select * from alerts_replay.alert_history").df()
    hits = con.execute(
        "select account_id, night, rule, is_eligible from alerts_replay.rule_hits"
    ).df()
    frame = baseline_frame(con, first, last)
    model_threshold = config["alerts"]["rules"]["model_risk"]["min_probability"]
    return {
        "history": history,
        "hits": hits,
        "episodes": ev.engine_episodes(history, last),
        "naive": ev.condition_episodes(frame, frame["days_since_last_login"] >= NAIVE_DAYS),
        "model": ev.condition_episodes(
            frame, frame["churn_probability"].fillna(0) >= model_threshold
        ),
        "owners": set(frame["csm_owner"].dropna()),
    }


def by_touch(episodes: pd.DataFrame) -> dict[str, int]:
    """How many of ``episodes`` were for a CSM, how many for automated sequences."""
    csm = int(episodes["touch"].eq(ev.CSM).sum())
    return {"csm": csm, "automated": len(episodes) - csm}


def judge(
    real: dict, counterfactuals: dict[str, dict], truth: pd.DataFrame, config: dict,
    first: date, last: date,
) -> dict[str, Any]:  # fmt: skip
    horizon = config["alerts"]["horizon_days"]
    lead = 30
    nights = pd.date_range(first, last, freq="D")
    stable_low = set(truth.index[truth["stable_low_usage"].astype(bool)])
    results: dict[str, Any] = {"horizon_days": horizon, "lead_days": lead}

    episodes = real["episodes"]
    deliverable = episodes[episodes["touch"].eq(ev.CSM)]
    top = episodes[episodes["peak_severity"].isin(["critical", "high"])]
    before, after = ev.engine_load(real["history"])
    engine = {
        "by_severity": {
            severity: ev.precision(episodes[episodes["peak_severity"].eq(severity)], truth, horizon)
            for severity in ("critical", "high", "medium", "low")
        },
        "critical_high": ev.precision(top, truth, horizon),
        "automated": ev.precision(episodes[episodes["touch"].ne(ev.CSM)], truth, horizon),
        "automated_above_low": ev.precision(
            episodes[episodes["touch"].ne(ev.CSM) & episodes["peak_severity"].ne("low")],
            truth,
            horizon,
        ),
        "delivered_severities": ev.precision(deliverable, truth, horizon),
        "recall_all_churners": ev.recall_with_lead(deliverable, truth, first, last, lead, horizon),
        "recall_any_alert_incl_low": ev.recall_with_lead(
            episodes, truth, first, last, lead, horizon
        ),
        "usage_decay_ceiling": ev.decay_ceiling(truth, first, last, lead),
        "recall_voluntary": ev.recall_with_lead(
            deliverable, truth, first, last, lead, horizon, voluntary_only=True
        ),
        "per_csm_per_day_before_budget": ev.per_csm_per_day(before, nights, real["owners"]),
        "per_csm_per_day_after_budget": ev.per_csm_per_day(after, nights, real["owners"]),
        "stable_low_alerts": by_touch(episodes[episodes["account_id"].isin(stable_low)]),
    }
    false = episodes[~ev.is_right(episodes, truth, horizon)]
    for name, other in counterfactuals.items():
        caused = false[ev.caused_by_trap(false, other["hits"], MATCH_NIGHTS)]
        engine[f"caused_by_{name.removeprefix('no_')}"] = by_touch(caused)
    results["engine"] = engine
    for baseline in ("naive", "model"):
        own = real[baseline]
        before = ev.new_episode_load(own)
        summary = {
            "all": ev.precision(own, truth, horizon),
            "recall_all_churners": ev.recall_with_lead(own, truth, first, last, lead, horizon),
            "recall_voluntary": ev.recall_with_lead(
                own, truth, first, last, lead, horizon, voluntary_only=True
            ),
            "per_csm_per_day": ev.per_csm_per_day(before, nights, real["owners"]),
            "stable_low_alerts": int(own["account_id"].isin(stable_low).sum()),
        }
        false = own[~ev.is_right(own, truth, horizon)]
        for name, other in counterfactuals.items():
            caused = ev.episode_caused_by_trap(false, other[baseline], MATCH_NIGHTS)
            summary[f"caused_by_{name.removeprefix('no_')}"] = int(caused.sum())
        results[baseline] = summary
    return results


def markdown(results: dict[str, Any]) -> str:
    e, n, m = results["engine"], results["naive"], results["model"]

    def split(d: dict) -> str:
        return f"{d.get('csm', 0)} ({d.get('automated', 0)} automated)"

    rows = [
        ("alerts raised: for CSMs (+ automated sequences)", f"{e['delivered_severities']['alerts']} (+{e['automated']['alerts']})", n["all"]["alerts"], m["all"]["alerts"]),
        ("precision, critical + high", f"{e['critical_high']['precision']} ({e['critical_high']['alerts']} alerts)", n["all"]["precision"], m["all"]["precision"]),
        ("precision, every CSM alert", e["delivered_severities"]["precision"], "", ""),
        ("precision, automated alerts above low (small accounts)", f"{e['automated_above_low']['precision']} ({e['automated_above_low']['alerts']} alerts)", "", ""),
        ("churners alerted >= 30 days ahead", f"{e['recall_all_churners']['recall']} of {e['recall_all_churners']['churners']}", n["recall_all_churners"]["recall"], m["recall_all_churners"]["recall"]),
        ("... voluntary churners", e["recall_voluntary"]["recall"], n["recall_voluntary"]["recall"], m["recall_voluntary"]["recall"]),
        ("... counting automated sequences too", e["recall_any_alert_incl_low"]["recall"], "", ""),
        ("ceiling: churners whose usage faded >= 30 days before the request", e["usage_decay_ceiling"]["share"], "", ""),
        ("alerts per CSM per day, before budget (median / max)", f"{e['per_csm_per_day_before_budget']['median']:.0f} / {e['per_csm_per_day_before_budget']['max']}", f"{n['per_csm_per_day']['median']:.0f} / {n['per_csm_per_day']['max']}", f"{m['per_csm_per_day']['median']:.0f} / {m['per_csm_per_day']['max']}"),
        ("... after budget (median / max)", f"{e['per_csm_per_day_after_budget']['median']:.0f} / {e['per_csm_per_day_after_budget']['max']}", "", ""),
        ("false alerts caused by vacations", split(e.get("caused_by_vacations", {})), n.get("caused_by_vacations", ""), m.get("caused_by_vacations", "")),
        ("false alerts caused by holidays", split(e.get("caused_by_holidays", {})), n.get("caused_by_holidays", ""), m.get("caused_by_holidays", "")),
        ("alerts on stable low-usage accounts", split(e["stable_low_alerts"]), n["stable_low_alerts"], m["stable_low_alerts"]),
    ]  # fmt: skip
    lines = [
        "| measure | alerts engine | naive: no login 10 days | model risk alone |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    severity = " · ".join(
        f"{k} {v['alerts']} (ARR {v['arr']:,}, precision {v['precision']})"
        for k, v in e["by_severity"].items()
    )
    return "\n".join(lines) + f"\n\nBy peak severity: {severity}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--last", type=date.fromisoformat, help="default: the day before the as-of")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="default: the config's (yesterday)"
    )
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    config = load_config()
    spec = spec_from_config(config["simulator"], as_of=args.as_of)
    last = args.last or spec.as_of
    first = last - timedelta(days=args.nights - 1)
    nights_from = first_signal_night(first, config["alerts"])
    root = args.workdir or Path(tempfile.mkdtemp(prefix="alerts_replay_"))
    started = time.perf_counter()
    companies: dict[str, dict] = {}
    pipeline = None
    truth = None
    for name in args.variants.split(","):
        workdir = root / name
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"[alerts_replay] {name}: build", flush=True)
        warehouse = build_company(workdir, replace(spec, **VARIANTS[name]), config, nights_from)
        con = duckdb.connect(str(warehouse), config=warehouse_settings())
        try:
            if pipeline is None:  # one model, trained on the real company as of the first night
                pipeline = point_in_time_model(con, first, config)
                truth = ev.read_truth(workdir / "truth")
            scores = write_replay_scores(con, score_nights(con, pipeline, nights_from, last))
            print(f"[alerts_replay] {name}: replay {first} .. {last}", flush=True)
            replay(con, first, last, config, scores)
            companies[name] = evaluate_company(con, config, first, last)
        finally:
            con.close()
    real = companies.pop("real")
    results = judge(real, companies, truth, config, first, last)
    results.update(
        first_night=str(first), last_night=str(last), as_of=str(spec.as_of),
        accounts=spec.accounts, months=spec.months,
        seconds=round(time.perf_counter() - started, 1),
    )  # fmt: skip
    (root / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(markdown(results))
    print(f"\n{args.nights} nights {first} .. {last}; work folder {root}")
    if not args.keep and not args.workdir:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
