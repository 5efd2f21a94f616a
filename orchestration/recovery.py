"""Runs that a crash left 'started' are marked failed, naming the dead process.

A run killed with ``kill -9`` (or by the out-of-memory killer) cannot report its own
end, so Dagster keeps showing it as started, and nothing would ever say what happened
to it. Each run tags itself with its process (pid, start time, host) as it starts; the
next run to take the warehouse checks those processes and fails the dead ones, stops
what they left running, and frees any concurrency slots they held (should an operator
configure Dagster pools).
"""

from __future__ import annotations

import dagster as dg

from runtime.lock import LockHolder, current_holder, is_alive
from runtime.processes import kill_mentioning

PID_TAG, HOST_TAG, START_TAG = "churn/pid", "churn/host", "churn/process_start"
UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]


def process_tags() -> dict[str, str]:
    """Tags naming this process, for runs started by ``run_once`` (set at creation)."""
    me = current_holder("")
    return {PID_TAG: str(me.pid), HOST_TAG: me.host, START_TAG: me.process_start}


def _fail(instance: dg.DagsterInstance, run: dg.DagsterRun, why: str) -> str:
    """Mark ``run`` failed, free its concurrency slots, and stop what it left running
    (Dagster's log capture: ``tail -F`` of the run's log files, re-parented to init)."""
    leftovers = kill_mentioning(run.run_id)
    message = f"run {run.run_id} was left 'started' by a dead process ({why}); marked failed" + (
        f"; stopped {len(leftovers)} process(es) it left running" if leftovers else ""
    )
    instance.report_run_failed(run, message=message)
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return message


def tag_with_process(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag run ``run_id`` (started by the UI or the schedule) with this process."""
    if instance.has_run(run_id):
        instance.add_run_tags(run_id, process_tags())


def fail_dead_runs(
    instance: dg.DagsterInstance, run_id: str, left_behind: LockHolder | None
) -> list[str]:
    """Fail every unfinished run but ``run_id`` whose process is gone. Returns one
    message per run failed or dead holder found."""
    messages = []
    if left_behind is not None:
        run = instance.get_run_by_id(left_behind.run_id)
        if run is not None and run.status in UNFINISHED:
            messages.append(
                _fail(instance, run, f"it died holding the warehouse: {left_behind.describe()}")
            )
        else:
            messages.append(
                f"the previous writer of the warehouse died without releasing it: "
                f"{left_behind.describe()}; its writes were rolled back by DuckDB"
            )
    for run in instance.get_runs(dg.RunsFilter(statuses=UNFINISHED)):
        tags = run.tags
        if run.run_id == run_id or PID_TAG not in tags:
            continue
        if not is_alive(int(tags[PID_TAG]), tags.get(START_TAG, ""), tags.get(HOST_TAG, "")):
            messages.append(
                _fail(instance, run, f"pid {tags[PID_TAG]} on {tags[HOST_TAG]} is gone")
            )
    return messages
