"""Fault matrix, processes: what production does to a run, done to ``run_once`` as a
separate process on a copy of the session's data, in one story on one warehouse:

1. the disk fills up during ingestion (RLIMIT_FSIZE): the run stops naming the file;
2. a run is killed (``kill -9``) during ingestion;
3. a run is killed during ``dbt build``: its dbt child dies with it;
4. a clean run then starts, marks the two dead runs failed naming them, and reaches
   exactly the content of the session's clean in-process run (canonical digest);
5. a second run started while it writes is refused after its wait with a message
   naming the run that holds the warehouse, and writes nothing.

Readers use the published copy, which is replaced under an open reader connection
without disturbing it (test_published_copy_survives_an_open_reader).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import TEST_CONFIG, PipelineDirs

from bench.canonical import differences, files_digest, run_digest, warehouse_digest
from bench.process_runs import RunProcess, Site, until
from runtime.lock import lock_path
from runtime.processes import all_pids, command_line, is_running
from runtime.published import publish_warehouse, published_path

DISK_LIMIT_BYTES = 4 * 1024 * 1024
STEP_START = r"{step} - STEP_START"


@dataclass
class Story:
    site: Site
    disk_full: RunProcess
    killed_in_ingest: RunProcess
    killed_in_dbt: RunProcess
    dbt_child: int
    dbt_child_outlived_parent: bool
    clean: RunProcess
    refused: RunProcess
    published_digest: dict[str, str]
    reference: dict[str, str]


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (DISK_LIMIT_BYTES, DISK_LIMIT_BYTES))


@pytest.fixture(scope="module")
def story(nightly_run, demo_dirs: PipelineDirs, tmp_path_factory) -> Story:
    assert nightly_run.success
    reference = run_digest(demo_dirs.warehouse, demo_dirs.outputs / "latest", demo_dirs.root)
    root = tmp_path_factory.mktemp("fault_runs")
    config = root / "pipeline.yaml"
    config.write_text(TEST_CONFIG)
    site = Site(root / "site", config).prepare(demo_dirs.landing)

    try:
        disk_full = site.start("disk_full", preexec=_limit_file_size)
        disk_full.wait()

        killed_in_ingest = site.start("killed_in_ingest")
        killed_in_ingest.wait_for_log(STEP_START.format(step="raw__usage_events"))
        killed_in_ingest.kill()

        killed_in_dbt = site.start("killed_in_dbt")
        dbt_child = killed_in_dbt.kill_during_dbt()
        try:
            until(lambda: not is_running(dbt_child), 20, "the orphaned dbt to die")
            outlived = False
        except AssertionError:
            outlived = True

        clean = site.start("clean")
        until(lambda: f'"pid": {clean.pid},' in lock_path(site.warehouse).read_text(), 120,
              "the clean run to hold the warehouse", alive=clean.process)  # fmt: skip
        impatient = root / "impatient.yaml"  # waits about a second for the warehouse
        impatient.write_text(TEST_CONFIG + "run:\n  lock_wait_minutes: 0.02\n")
        refused = site.start("refused", CHURN_CONFIG=str(impatient))
        refused.wait()
        assert clean.wait() == 0, clean.stdout() + clean.stderr()[-5000:]
    except BaseException:
        site.stop_all()
        raise
    published = run_digest(published_path(site.warehouse), site.outputs / "latest", site.root)
    return Story(site, disk_full, killed_in_ingest, killed_in_dbt, dbt_child, outlived, clean,
                 refused, published, reference)  # fmt: skip


def test_a_full_disk_stops_the_run_naming_the_file_being_loaded(story):
    run = story.disk_full
    assert run.process.returncode == 1
    out = run.stdout()
    assert "FAILED STEP raw__" in out
    assert "the disk is full" in out and str(story.site.landing) in out
    assert "published outputs" in out and "left as they were" in out


def test_a_killed_dbt_dies_with_its_run(story):
    assert story.killed_in_dbt.process.returncode == -9
    assert not story.dbt_child_outlived_parent, f"dbt pid {story.dbt_child} kept running"


def test_the_next_run_marks_the_dead_runs_failed_naming_them(story):
    instance = dg.DagsterInstance.from_config(str(story.site.home))
    try:
        for dead, following in ((story.killed_in_ingest, story.killed_in_dbt),
                                (story.killed_in_dbt, story.clean)):  # fmt: skip
            run = instance.get_run_by_id(dead.run_id())
            assert run.status == dg.DagsterRunStatus.FAILURE
            failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert f"pid {dead.pid}" in failure[-1].dagster_event.message
            # the run that came next says so in its own log
            assert f"run {dead.run_id()} was left 'started' by a dead process" in following.stderr()
            # nothing it started is left running (Dagster's log capture starts tails)
            assert [
                line for pid in all_pids() if dead.run_id() in (line := command_line(pid))
            ] == []
    finally:
        instance.dispose()


def test_after_disk_full_and_two_kills_the_run_reaches_the_clean_run_content(story):
    assert story.published_digest, "nothing published"
    assert differences(story.published_digest, story.reference) == []


def test_a_second_run_is_refused_naming_the_run_that_holds_the_warehouse(story):
    run = story.refused
    assert run.process.returncode == 1
    assert f"being written by run {story.clean.run_id()}" in run.stderr()
    assert "lock_wait_minutes" in run.stdout() and story.clean.run_id() in run.stdout()
    assert "STEP_START" not in run.stderr()  # it did nothing


def test_everything_a_run_writes_is_owner_only(story):
    written = [story.site.warehouse, published_path(story.site.warehouse),
               *story.site.outputs.rglob("*")]  # fmt: skip
    loose = [f"{p} {oct(p.stat().st_mode & 0o777)}" for p in written
             if not p.is_symlink() and p.stat().st_mode & 0o077]  # fmt: skip
    assert loose == []


def test_the_published_copy_survives_an_open_reader(tmp_path):
    """An analyst's connection to the published copy, held open in another process,
    neither blocks publishing nor is disturbed by it; the next connection sees the new
    data."""
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table t as select 1 as night")
    con.close()
    publish_warehouse(warehouse, {})
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print(c.execute('select max(night) from t').fetchone()[0], flush=True); "
         "sys.stdin.readline(); "
         "print(c.execute('select max(night) from t').fetchone()[0], flush=True)",
         str(published_path(warehouse))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert reader.stdout.readline().strip() == "1"
    con = duckdb.connect(str(warehouse))
    con.execute("insert into t values (2)")
    con.close()
    publish_warehouse(warehouse, {})  # while the reader holds the old copy open
    out, _ = reader.communicate("go\n", timeout=60)
    assert out.strip() == "1"  # its snapshot, undisturbed
    fresh = duckdb.connect(str(published_path(warehouse)), read_only=True)
    assert fresh.execute("select max(night) from t").fetchone()[0] == 2
    fresh.close()


def test_digests_see_a_changed_table_and_a_changed_file(tmp_path):
    """The canonical digest is not blind: one changed value or byte shows."""
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create table t as select 1 as a, 0.5 as b, now() as _loaded_at")
    con.close()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.csv").write_text("a\n1\n")
    before = {**warehouse_digest(warehouse, tmp_path), **files_digest(tmp_path / "out", tmp_path)}
    con = duckdb.connect(str(warehouse))
    con.execute("update t set _loaded_at = now() + interval 1 day")  # volatile: ignored
    con.close()
    assert {
        **warehouse_digest(warehouse, tmp_path),
        **files_digest(tmp_path / "out", tmp_path),
    } == before
    con = duckdb.connect(str(warehouse))
    con.execute("update t set b = 0.25")
    con.close()
    (tmp_path / "out" / "a.csv").write_text("a\n2\n")
    after = {**warehouse_digest(warehouse, tmp_path), **files_digest(tmp_path / "out", tmp_path)}
    assert len(differences(before, after)) == 2
    shutil.rmtree(tmp_path / "out")


PARENT = (
    "import subprocess, sys; child = subprocess.Popen(sys.argv[1:]); "
    "print(child.pid, flush=True); child.wait()"
)


def _outlives_its_parent(command: list[str], env: dict[str, str], grace: float) -> bool:
    """Start ``command`` from a parent process, ``kill -9`` the parent: does the child
    still run ``grace`` seconds later? (A surviving child is then killed.)"""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, *command], env=env,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    child = int(parent.stdout.readline())
    until(lambda: "sleep" in command_line(child), 30, "the child to be running sleep")
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    try:
        until(lambda: not is_running(child), grace, "the child to die")
    except AssertionError:
        os.kill(child, signal.SIGKILL)
        return True
    return False


def test_the_dbt_launcher_dies_with_the_run_that_started_it():
    """churn-dbt, told to run ``sleep`` instead of dbt (it writes nothing, so no broken
    pipe can end it), dies when its parent is killed; ``sleep`` started directly, as
    dagster-dbt would start dbt without the launcher, outlives its parent."""
    sleep = shutil.which("sleep")
    launcher = str(Path(sys.executable).with_name("churn-dbt"))
    env = {**os.environ, "CHURN_DBT_TARGET": sleep}
    assert not _outlives_its_parent([launcher, "120"], env, grace=10)
    assert _outlives_its_parent([sleep, "120"], dict(os.environ), grace=2)
