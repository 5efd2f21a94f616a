"""The as-of setting: ``run_once --as-of`` (= ``run.as_of_date``) runs a past night.
dbt, freshness, scoring, alerts and outputs all use that date, so usage delivered after
it changes nothing: the same night run on the full exports and on exports that end
the day before it publishes the same scores and alerts."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stdout
from datetime import date

import duckdb
import pytest
import yaml
from conftest import (
    TEST_CONFIG,
    generate_small,
    make_pipeline_dirs,
    point_pipeline_at,
    rewrite_usage_events,
)

from bench.canonical import differences, files_digest
from orchestration import run_once
from pipeline_config import dbt_vars, load_config

AS_OF = date(2026, 10, 15)
COMPARED = ("scores.csv", "alerts.csv", "winback.csv")


@pytest.fixture(scope="module")
def as_of_config(tmp_path_factory):
    """The session's settings without a freshness date: freshness follows the as-of."""
    settings = yaml.safe_load(TEST_CONFIG)
    del settings["ingest"]["reference_date"]
    path = tmp_path_factory.mktemp("as_of_config") / "pipeline.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.fixture(scope="module")
def nights(tmp_path_factory, as_of_config, defs):
    """The same past night run by ``run_once --as-of`` on the full exports and on the
    exports cut the day before it (each in its own warehouse)."""
    root = tmp_path_factory.mktemp("as_of")
    full, cut = make_pipeline_dirs(root / "full"), make_pipeline_dirs(root / "cut")
    generate_small(full)
    shutil.copytree(full.landing, cut.landing)
    # the exports as they stood the night before: no usage on or after the as-of date
    rewrite_usage_events(cut.landing, f"select * from {{events}} where occurred_at < '{AS_OF}'")
    home = root / "dagster_home"
    home.mkdir()
    codes, said = {}, {}
    for name, dirs in (("full", full), ("cut", cut)):
        printed = io.StringIO()
        with pytest.MonkeyPatch.context() as mp, redirect_stdout(printed):
            point_pipeline_at(mp, dirs, as_of_config)
            mp.setenv("DAGSTER_HOME", str(home))
            codes[name] = run_once.main(["--as-of", AS_OF.isoformat()])
        said[name] = printed.getvalue()
    return {"full": full, "cut": cut, "codes": codes, "said": said}


def test_a_past_night_runs_as_of_its_date(nights):
    assert nights["codes"] == {"full": 0, "cut": 0}, nights["said"]
    full = nights["full"]
    con = duckdb.connect(str(full.warehouse), read_only=True)
    scored = con.execute("select distinct as_of_date from ml.churn_scores").fetchall()
    newest_night = con.execute("select max(night) from alerts.alert_history").fetchone()[0]
    newest_event = con.execute("select max(occurred_at) from raw.usage_events").fetchone()[0]
    con.close()
    assert scored == [(AS_OF,)]
    assert newest_night == AS_OF
    assert newest_event.date() > AS_OF  # the later usage was loaded, and ignored
    assert (full.outputs / "runs" / AS_OF.isoformat() / "alerts.csv").exists()


def test_usage_after_the_as_of_date_changes_nothing_published(nights):
    full, cut = (
        {
            name: digest
            for name, digest in files_digest(
                nights[run].outputs / "latest", nights[run].root
            ).items()
            if name in COMPARED
        }
        for run in ("full", "cut")
    )
    assert sorted(full) == sorted(COMPARED)
    assert differences(full, cut) == []


def test_the_as_of_date_reaches_dbt_and_a_bad_one_is_refused(tmp_path, capsys):
    path = tmp_path / "pipeline.yaml"
    path.write_text("run:\n  as_of_date: 2026-10-15\n")  # YAML reads it as a date
    assert dbt_vars(load_config(path))["as_of_date"] == "2026-10-15"
    path.write_text("run:\n  as_of_date: yesterday\n")
    with pytest.raises(ValueError, match=r"run\.as_of_date: 'yesterday' is not a date"):
        load_config(path)
    with pytest.raises(SystemExit):
        run_once.main(["--as-of", "2026-13-01"])
    assert "2026-13-01" in capsys.readouterr().err
