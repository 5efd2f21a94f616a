"""A company that exports only accounts, subscriptions and usage events still gets
scores and alerts: every other source is optional."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from conftest import generate_small, make_pipeline_dirs, point_pipeline_at, run_nightly

from ingest import SOURCES


@pytest.fixture(scope="module")
def minimal_run(tmp_path_factory, test_config, defs):
    dirs = make_pipeline_dirs(tmp_path_factory.mktemp("minimal"))
    generate_small(dirs)
    for contract in SOURCES.values():
        if not contract.required_source:
            shutil.rmtree(dirs.landing / contract.folder)
    with pytest.MonkeyPatch.context() as mp:
        point_pipeline_at(mp, dirs, test_config)
        yield run_nightly(defs), dirs


def test_the_run_succeeds_with_the_optional_sources_empty(minimal_run):
    result, dirs = minimal_run
    assert result.success
    con = duckdb.connect(str(dirs.warehouse), read_only=True)
    optional = [c.name for c in SOURCES.values() if not c.required_source]
    counts = {
        name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in optional
    }
    scored = con.execute("select count(*) from ml.churn_scores").fetchone()[0]
    con.close()
    assert set(counts.values()) == {0}
    assert scored > 0


def test_alerts_are_published_without_the_optional_sources(minimal_run):
    _, dirs = minimal_run
    alerts = pd.read_csv(dirs.outputs / "latest" / "alerts.csv")
    assert len(alerts) > 0
