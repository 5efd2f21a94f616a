"""`make run`: materialise the whole graph once and say where the outputs are.

    python -m orchestration.run_once [--as-of YYYY-MM-DD]

``--as-of`` runs the night of that date (data dated before it; freshness judged
against it) instead of ``run.as_of_date`` from the config.
"""

from __future__ import annotations

import argparse
import os
import sys

import dagster as dg

from orchestration.definitions import defs
from orchestration.recovery import process_tags
from pipeline_config import resolve_paths
from pipeline_config.loader import parse_as_of
from runtime.published import published_path


def _forecast_line(result: dg.ExecuteInProcessResult) -> str:
    """Tonight's aggregate forecast, from the churn_forecast materialisation."""
    meta = {
        k: v.value
        for k, v in result.asset_materializations_for_node("churn_forecast")[0].metadata.items()
    }
    return (
        f"{meta['expected_logos']:.0f} logos ({meta['logos_low']}-{meta['logos_high']}) and "
        f"MRR {meta['expected_mrr_lost']:,.0f} ({meta['mrr_lost_low']:,.0f}-"
        f"{meta['mrr_lost_high']:,.0f}) expected lost in {meta['window']} "
        "(table ml.churn_forecasts)"
    )


def _alerts_line(result: dg.ExecuteInProcessResult) -> str:
    """Tonight's alerts, from the alert_state materialisation."""
    event = next(
        e for e in result.asset_materializations_for_node("alert_state")
        if e.asset_key.path[-1] == "alert_history"
    )  # fmt: skip
    meta = {k: v.value for k, v in event.metadata.items()}
    by_severity = ", ".join(
        f"{meta[f'open_{s}']} {s}" for s in ("critical", "high", "medium", "low")
    )
    stale = meta["stale_sources"]
    return (
        f"{meta['open_alerts']} open ({by_severity}); {meta['delivered']} delivered to CSMs "
        f"tonight, {meta['deferred']} deferred by the budget, {meta['held_out']} held out, "
        f"{meta['automated']} in automated sequences"
        + (f"; stale sources (their rules silent): {', '.join(stale)}" if stale else "")
    )


CHECK_DETAILS = ("table", "column", "rule", "threshold", "failing_count", "files", "sample")


def _error_text(error: object) -> str:
    """A step's error with the errors that caused it, user-facing message first."""
    messages = []
    while error is not None:
        messages.append(error.message.strip())
        error = error.cause
    return "\n      caused by: ".join(messages)


def failure_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """What stopped the run, for the terminal: each failed step with its error, each
    failed check with its table, column, rule, count and sample."""
    lines = []
    for check in result.get_asset_check_evaluations():
        if check.passed:
            continue
        label = "WARNING" if check.severity == dg.AssetCheckSeverity.WARN else "FAILED CHECK"
        lines.append(
            f"{label} {check.asset_key.to_user_string()}:{check.check_name}: {check.description}"
        )
        for key in CHECK_DETAILS:
            if key in check.metadata:
                lines.append(f"    {key}: {check.metadata[key].value}")
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            lines.append(f"FAILED STEP {event.step_key}: {_error_text(error)}")
        elif event.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE:
            lines.append(f"COULD NOT START: {_error_text(error)}")
    return lines


DISK_FULL_SIGNS = ("disk i/o error", "database or disk is full", "no space left", "too large")


def _execute(as_of: str | None) -> dg.ExecuteInProcessResult | None:
    """The nightly job, recorded in $DAGSTER_HOME (the run shows up in the UI). When
    Dagster itself cannot write there (a full disk), say so plainly instead of a trace."""
    try:
        instance = dg.DagsterInstance.get()
        run_config = (
            {"resources": {"pipeline": {"config": {"as_of_date": as_of}}}} if as_of else None
        )
        return defs.resolve_job_def("nightly_refresh").execute_in_process(
            instance=instance, raise_on_error=False, tags=process_tags(), run_config=run_config
        )
    except Exception as exc:
        text = str(exc).lower()
        home = os.environ.get("DAGSTER_HOME", "$DAGSTER_HOME")
        cause = (
            f"the disk is full (or a file-size limit was hit): Dagster could not write its "
            f"run history in {home}"
            if any(sign in text for sign in DISK_FULL_SIGNS)
            else f"Dagster could not run or record the job ({home})"
        )
        print(f"RUN FAILED: {cause}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Materialise the nightly graph once.")
    parser.add_argument(
        "--as-of", type=parse_as_of, help="the night to run as of (default: run.as_of_date)"
    )
    args = parser.parse_args(argv)
    result = _execute(args.as_of.isoformat() if args.as_of else None)
    paths = resolve_paths()
    if result is None:
        print(f"Published outputs in {paths.latest} were left as they were.")
        return 1
    for line in failure_lines(result):
        print(line)
    if not result.success:
        print(
            f"Run {result.run_id} failed (reasons above); published outputs in {paths.latest} "
            "were left as they were."
        )
        return 1
    print(f"Run {result.run_id} succeeded.")
    print(f"  warehouse      {paths.warehouse}")
    print(f"  for readers    {published_path(paths.warehouse)} (read-only copy; query this one)")
    print(f"  alerts         {_alerts_line(result)} (tables alerts.*)")
    print(
        f"  alert list     {paths.latest / 'alerts.csv'} (per CSM: {paths.latest / 'alerts_by_csm'})"
    )
    print(f"  win-back list  {paths.latest / 'winback.csv'}")
    print(f"  scores         {paths.latest / 'scores.csv'}")
    print(f"  drafts         {paths.latest / 'drafts'} (for review; nothing is sent)")
    print(f"  site           {paths.latest / 'index.html'} (or: make serve)")
    print(f"  models         {paths.models}")
    print(f"  forecast       {_forecast_line(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
