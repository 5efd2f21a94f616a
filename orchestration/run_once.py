"""`make run`: materialise the whole graph once and say where the outputs are."""

from __future__ import annotations

import sys

import dagster as dg

from orchestration.definitions import defs
from pipeline_config import resolve_paths


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
        f"tonight, {meta['deferred']} deferred by the budget, {meta['held_out']} held out"
        + (f"; stale sources (their rules silent): {', '.join(stale)}" if stale else "")
    )


def main() -> int:
    instance = dg.DagsterInstance.get()  # $DAGSTER_HOME: the run shows up in the UI
    result = defs.resolve_job_def("nightly_refresh").execute_in_process(
        instance=instance, raise_on_error=False
    )
    paths = resolve_paths()
    failed_checks = [c for c in result.get_asset_check_evaluations() if not c.passed]
    for check in failed_checks:
        label = "WARNING" if check.severity == dg.AssetCheckSeverity.WARN else "FAILED CHECK"
        print(f"{label} {check.asset_key.to_user_string()}:{check.check_name}: {check.description}")
    if not result.success:
        print(
            f"Run {result.run_id} failed; published outputs in {paths.latest} were left as they were."
        )
        return 1
    print(f"Run {result.run_id} succeeded.")
    print(f"  warehouse      {paths.warehouse}")
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
