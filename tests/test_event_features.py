"""Features from the company's own event names (issue 17, item 1): the dbt mart against
the raw events, the configured grouping and the cap on columns, and the model keeping an
event that drives churn while dropping one that is noise, with reasons in the customer's
own words. Real dbt builds and real scikit-learn fits on the session's run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DBT_DIR

from ml.features import EVENT_MEASURES, LABEL, event_column, read_snapshots
from ml.score import score_accounts
from ml.train import train_churn_model
from pipeline_config import dbt_vars, load_config


@pytest.fixture(scope="module")
def config():
    return load_config()


def test_the_mart_counts_what_the_raw_events_say(warehouse):
    """Counts over 7 and 30 days and days since the last event, recomputed from the raw
    events for every account and event name on two dates, equal the mart's."""
    mart = warehouse.execute(
        """
        with dates as (
            select max(observation_date) as d from marts.fct_account_snapshots where is_scoring_row
            union all
            select max(observation_date) from marts.fct_account_snapshots where is_month_start
        )
        select account_id, observation_date, event_group, events_7d, events_30d,
               days_since_last_event
        from marts.fct_account_event_features
        where observation_date in (select d from dates)
          and event_group != 'other' and events_30d > 0
        """
    ).df()
    raw = warehouse.execute(
        """
        with dates as (
            select distinct observation_date from marts.fct_account_event_features
        )
        select e.account_id, d.observation_date, e.event_type as event_group,
               count(*) filter (where e.occurred_at >= d.observation_date - interval 7 day)
                   as events_7d,
               count(*) as events_30d
        from raw.usage_events as e
        inner join dates as d
            on e.occurred_at >= d.observation_date - interval 30 day
           and e.occurred_at < d.observation_date
        group by all
        """
    ).df()
    assert mart["observation_date"].nunique() == 2 and len(mart) > 100
    merged = mart.merge(raw, on=["account_id", "observation_date", "event_group"], how="left")
    assert (merged["events_7d_x"] == merged["events_7d_y"]).all()
    assert (merged["events_30d_x"] == merged["events_30d_y"]).all()
    active_7d = mart["events_7d"] > 0
    assert (mart.loc[active_7d, "days_since_last_event"] <= 7).all()
    assert (mart.loc[~active_7d, "days_since_last_event"] > 7).all()


def test_every_event_name_is_mapped_and_every_account_has_every_group(warehouse, config):
    names = warehouse.execute("select count(distinct event_type) from raw.usage_events").fetchone()
    mapped = warehouse.execute(
        "select count(*), count(distinct event_group) from intermediate.int_event_groups_mapped"
    ).fetchone()
    assert mapped[0] == names[0]
    assert mapped[1] <= config["event_features"]["max_groups"] + 1
    per_row = warehouse.execute(
        "select count(*) / count(distinct (account_id, observation_date)) "
        "from marts.fct_account_event_features"
    ).fetchone()[0]
    assert per_row == mapped[1]  # dense: no account-date misses a group


@pytest.fixture(scope="module")
def regrouped(nightly_run, demo_dirs, tmp_path_factory):
    """The vocabulary rebuilt on a copy of the warehouse with a configured group, a cap
    of three groups and a share floor that makes the rarer feature events 'other'."""
    root = tmp_path_factory.mktemp("regrouped")
    warehouse = root / "warehouse.duckdb"
    shutil.copy(demo_dirs.warehouse, warehouse)
    config_path = root / "pipeline.yaml"
    config_path.write_text(
        "event_features:\n  max_groups: 3\n  min_share: 0.05\n"
        "  groups: [{name: reporting, events: [reports_used, dashboards_used]}]\n"
    )
    command = [
        str(Path(sys.executable).with_name("dbt")), "build", "--select", "int_event_groups_mapped",
        "--vars", json.dumps(dbt_vars(load_config(config_path))), "--target-path", str(root / "t"),
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(warehouse)}
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from intermediate.int_event_groups_mapped").df()


def test_configured_groups_rare_names_and_the_cap(regrouped):
    group = regrouped.set_index("event_type")["event_group"]
    assert group["reports_used"] == group["dashboards_used"] == "reporting"
    share = regrouped["events"] / regrouped["events"].sum()
    rare = share < 0.05
    configured = regrouped["event_type"].isin(["reports_used", "dashboards_used"])
    assert rare.any()
    assert (regrouped.loc[rare & ~configured, "event_group"] == "other").all()
    assert set(regrouped["event_group"]) - {"other"} == {
        "session_started",
        "project_delivered",
        "reporting",
    }  # the three most frequent groups keep their own features


def _with_event_group(frame: pd.DataFrame, group: str, counts_7d: np.ndarray) -> pd.DataFrame:
    """``frame`` with one more event group whose five measures follow ``counts_7d``."""
    counts = counts_7d.astype("float64")
    values = {
        "events_7d": counts,
        "events_30d": counts * 4,
        "events_change_30v90": np.where(counts > 0, 1.0, np.nan),
        "events_per_active_user_30d": counts * 4 / frame["active_users_30d"].clip(lower=1),
        "days_since_last_event": np.where(counts > 0, 2.0, 121.0),
    }
    columns = pd.DataFrame(
        {event_column(group, m): values[m] for m in EVENT_MEASURES}, index=frame.index
    )
    return pd.concat([frame, columns], axis=1)


@pytest.fixture(scope="module")
def crafted_model(warehouse, config):
    """Trained on the session's snapshots plus two event groups: 'report_problem', sent
    mostly by accounts about to churn, and 'theme_changed', sent at random."""
    snapshots = read_snapshots(warehouse)
    rng = np.random.default_rng(5)
    churning = snapshots[LABEL].fillna(0).to_numpy() == 1
    crafted = _with_event_group(
        snapshots, "report_problem", rng.poisson(np.where(churning, 3, 0.2))
    )
    crafted = _with_event_group(crafted, "theme_changed", rng.poisson(1.0, len(crafted)))
    return crafted, train_churn_model(crafted, config["model"], config["health"]["bands"])


def test_an_event_that_drives_churn_is_kept_and_noise_is_dropped(crafted_model):
    _, model = crafted_model
    selection = model.event_selection
    assert selection["judged"]
    assert "report_problem" in selection["kept_groups"]
    assert "theme_changed" in selection["dropped_groups"]
    assert event_column("report_problem", "events_7d") in model.numeric
    assert not any(c.startswith("event__theme_changed__") for c in model.numeric)


def test_reasons_name_the_customers_own_event(crafted_model, config):
    crafted, model = crafted_model
    tonight = crafted[crafted["is_scoring_row"]].head(2).copy()
    tonight = _with_event_group(tonight, "report_problem", np.array([0, 6]))
    scores = score_accounts(model, tonight, config["risk_tiers"], config["metrics"], 3, "v")
    calm, complaining = scores.iloc[0], scores.iloc[1]
    assert complaining["churn_probability"] > calm["churn_probability"]
    assert any(f.startswith("event__report_problem__") for f in complaining["reason_features"])
    assert any("'report problem' events" in s for s in complaining["reasons"])


def test_a_model_from_an_earlier_vocabulary_still_scores(crafted_model, warehouse, config):
    """Tonight's vocabulary no longer has the crafted groups: they read as missing."""
    _, model = crafted_model
    tonight = read_snapshots(warehouse, scoring_only=True)
    scores = score_accounts(model, tonight, config["risk_tiers"], config["metrics"], 3, "v")
    assert len(scores) == len(tonight)
    assert np.isfinite(scores["churn_probability"]).all()


def test_a_broken_grouping_is_refused_when_the_config_loads(tmp_path):
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "event_features:\n  max_groups: 0\n  groups:\n"
        "    - {name: complaints, events: []}\n"
        "    - {name: reporting, events: [reports_used]}\n"
        "    - {name: exports, events: [reports_used]}\n"
    )
    with pytest.raises(ValueError) as refused:
        load_config(path)
    message = str(refused.value)
    assert "event_features.max_groups: 0" in message
    assert "groups[0].events: [] is not a non-empty list" in message
    assert "'reports_used' is already in group 'reporting'" in message
