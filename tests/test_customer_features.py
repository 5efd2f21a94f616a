"""Features from the company's own event names and CRM attributes (issue 17, item 1): the
dbt mart against the raw events, the configured grouping and the cap on columns,
attributes as of each date from extra columns of the accounts export, and the model
keeping an event or attribute that drives churn while dropping noise, with reasons in
the customer's own words. Real dbt builds and real scikit-learn fits on copies of the
session's warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import DBT_DIR

from ml.artifacts import load_model
from ml.features import EVENT_MEASURES, MISSING_CATEGORY, event_column, read_snapshots
from ml.score import score_accounts
from ml.selection import judged_rows, select_optional_features
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
        where observation_date in (select d from dates) and event_group != 'other'
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
    assert mart["observation_date"].nunique() == 2 and (mart["events_30d"] > 0).sum() > 100
    # every mart row, zeros included: an account-date the mart wrongly reads as quiet fails
    merged = mart.merge(raw, on=["account_id", "observation_date", "event_group"], how="left")
    merged[["events_7d_y", "events_30d_y"]] = merged[["events_7d_y", "events_30d_y"]].fillna(0)
    assert (merged["events_7d_x"] == merged["events_7d_y"]).all()
    assert (merged["events_30d_x"] == merged["events_30d_y"]).all()
    observed = mart[["account_id", "observation_date"]].drop_duplicates()
    raw = raw.merge(observed)  # accounts in a subscription on the date
    assert raw.merge(mart, how="left", indicator=True)["_merge"].eq("both").all()
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


def dbt_build(
    warehouse: Path, select: str, config_text: str, *options: str
) -> tuple[int, str, dict]:
    """``dbt build --select`` on ``warehouse`` with the vars of a config file holding
    ``config_text``: return code, output, and each node's result by name."""
    root = warehouse.parent
    config_path = root / "pipeline.yaml"
    config_path.write_text(config_text)
    command = [
        str(Path(sys.executable).with_name("dbt")), "build", "--select", select,
        "--vars", json.dumps(dbt_vars(load_config(config_path))), "--target-path", str(root / "t"), *options,
    ]  # fmt: skip
    env = {**os.environ, "CHURN_WAREHOUSE_PATH": str(warehouse)}
    done = subprocess.run(command, cwd=DBT_DIR, env=env, capture_output=True, text=True)
    results = json.loads((root / "t" / "run_results.json").read_text())["results"]
    return done.returncode, done.stdout, {r["unique_id"].split(".")[2]: r for r in results}


def warehouse_copy(demo_dirs, tmp_path_factory, name: str) -> Path:
    warehouse = tmp_path_factory.mktemp(name) / "warehouse.duckdb"
    shutil.copy(demo_dirs.warehouse, warehouse)
    return warehouse


@pytest.fixture(scope="module")
def regrouped(nightly_run, demo_dirs, tmp_path_factory):
    """The vocabulary rebuilt on a copy of the warehouse with two configured groups, a
    cap of three groups and a share floor that makes the rarer feature events 'other'."""
    warehouse = warehouse_copy(demo_dirs, tmp_path_factory, "regrouped")
    code, output, _ = dbt_build(
        warehouse,
        "int_event_groups_mapped",
        "event_features:\n  max_groups: 3\n  min_share: 0.05\n"
        "  groups: [{name: reporting, events: [reports_used, dashboards_used]},\n"
        "           {name: admin, events: [admin_console_used]}]\n",
    )
    assert code == 0, output[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from intermediate.int_event_groups_mapped").df()


def test_configured_groups_rare_names_and_the_cap(regrouped):
    group = regrouped.set_index("event_type")["event_group"]
    assert group["reports_used"] == group["dashboards_used"] == "reporting"
    share = regrouped["events"] / regrouped["events"].sum()
    rare = share < 0.05
    configured = regrouped["event_type"].isin(
        ["reports_used", "dashboards_used", "admin_console_used"]
    )
    assert rare.any()
    assert (regrouped.loc[rare & ~configured, "event_group"] == "other").all()
    # the configured groups first (admin is rare: configured, it keeps its features),
    # then the most frequent name fills the cap of three
    assert set(regrouped["event_group"]) - {"other"} == {"reporting", "admin", "session_started"}


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
    return pd.concat([frame.drop(columns=columns.columns, errors="ignore"), columns], axis=1)


# The session's history holds 14 churners before the default test window: too few to
# judge anything (model.feature_selection.min_churners). One test month and a 30-day
# embargo leave 33, as a short history would be set up (ml.history_fit).
SHORT_TEST = {**load_config()["model"], "test_months": 1, "embargo_days": 30}


def _deliver_events(warehouse: Path) -> None:
    """Two event names of the company's own, delivered as the loader stores events:
    'report_problem' every third day of the 90 before each cancellation (and on a few
    days of one account in ten that does not churn), 'theme_changed' every 9 days for
    every account, whatever happens to it."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            """
            create temp table crafted as
            with ends as (
                select distinct account_id, churned_on from marts.fct_account_snapshots
                where churned_on is not null
            ), calm as (
                select distinct account_id, max(observation_date) over () - 100 as day
                from marts.fct_account_snapshots
                where account_id not in (select account_id from ends) and hash(account_id) % 10 = 0
            ), bounds as (
                select min(occurred_at) as first, max(occurred_at) as last from raw.usage_events
            )
            select e.account_id, 'report_problem' as event_type,
                   e.churned_on - cast(g.d as integer) + interval 10 hour as occurred_at
            from ends as e, range(1, 91, 3) as g(d)
            union all
            select c.account_id, 'report_problem', c.day + cast(g.d as integer) + interval 10 hour
            from calm as c, range(0, 25, 8) as g(d)
            union all
            select a.account_id, 'theme_changed', b.first + to_days(cast(g.d as integer))
            from (select distinct account_id from raw.usage_events) as a, bounds as b,
                 range(0, 600, 9) as g(d)
            where b.first + to_days(cast(g.d as integer)) < b.last
            """
        )
        con.execute(
            """
            insert into raw.usage_events by name
            select 'crafted-' || row_number() over () as event_id, account_id, event_type,
                   occurred_at, 'crafted.parquet' as _source_file,
                   row_number() over () as _source_row, now() as _loaded_at
            from crafted
            where occurred_at < (select max(occurred_at) from raw.usage_events)
            """
        )


@pytest.fixture(scope="module")
def customised(nightly_run, demo_dirs, tmp_path_factory):
    """A copy of the session's warehouse with the crafted events and CRM columns
    delivered (``_deliver_events``, ``_deliver_attributes``) and the event and attribute
    models rebuilt with the attributes declared: raw -> dbt -> snapshot rows."""
    warehouse = warehouse_copy(demo_dirs, tmp_path_factory, "customised")
    _deliver_events(warehouse)
    changed = _deliver_attributes(warehouse)
    code, output, _ = dbt_build(
        warehouse,
        "int_account_event_type_days_aggregated+ int_account_attributes_listed+",
        ATTRIBUTES,
        "--full-refresh",
    )
    assert code == 0, output[-3000:]
    return {"warehouse": warehouse, **changed}


def _trained_without(customised: dict, prefixes: tuple[str, ...], config: dict):
    """A model trained on the customised copy's snapshots without the columns starting
    with ``prefixes``: the crafted events and the channel attribute each find the
    churners on their own, so together each would look redundant to the selection."""
    with duckdb.connect(str(customised["warehouse"]), read_only=True) as con:
        snapshots = read_snapshots(con)
    snapshots = snapshots.drop(columns=[c for c in snapshots.columns if c.startswith(prefixes)])
    return snapshots, train_churn_model(snapshots, SHORT_TEST, config["health"]["bands"])


@pytest.fixture(scope="module")
def crafted_model(customised, config):
    return _trained_without(customised, ("attribute__",), config)


@pytest.fixture(scope="module")
def attribute_model(customised, config):
    crafted = ("event__report_problem__", "event__theme_changed__")
    return _trained_without(customised, crafted, config)


def test_too_few_churners_to_judge_use_none_of_them(nightly_run, demo_dirs):
    """The session's nightly model: 14 churners to train on, so the event groups are
    not judged and not used (the fixed features alone)."""
    _, card = load_model(demo_dirs.outputs / "models")
    assert card["feature_selection"]["judged"] is False
    assert "session_started" in card["feature_selection"]["dropped_groups"]
    assert not any(c.startswith("event__") for c in card["features"]["numeric"])


def test_the_selection_judges_a_bounded_hash_drawn_set_of_whole_accounts():
    """model.feature_selection.max_rows bounds the step's cost: about that many rows,
    every row of each account drawn, the same draw on every run."""
    rows = pd.DataFrame(
        {"account_id": [f"acct-{i}" for i in range(2000) for _ in range(10)], "x": 1.0}
    )
    judged = judged_rows(rows, 5000)
    assert 4000 < len(judged) < 6000
    assert judged.groupby("account_id").size().eq(10).all()
    assert judged.index.equals(judged_rows(rows, 5000).index)
    assert judged_rows(rows, 20_000) is rows


def _restating_events(copies: int, strength: float) -> tuple[pd.DataFrame, list[str]]:
    """1,500 accounts x 4 dates whose churn follows a hidden dissatisfaction, counted by
    ``copies`` event names that each see it through their own noise (several names for
    one experience), beside a name that is pure noise."""
    rng = np.random.default_rng(0)
    rows = 1500 * 4
    frame = pd.DataFrame(
        {
            "account_id": np.repeat([f"acct-{i}" for i in range(1500)], 4),
            "tenure_days": rng.integers(30, 900, rows).astype(float),
            "logins_30d": rng.poisson(20, rows).astype(float),
        }
    )
    hidden = rng.normal(size=rows)
    frame["churned_within_horizon"] = (
        rng.random(rows) < 1 / (1 + np.exp(3.2 - 1.6 * hidden))
    ).astype(int)
    counts = {f"complaint_{k}": rng.poisson(np.exp(strength * hidden + 0.5)) for k in range(copies)}
    counts["theme_changed"] = rng.poisson(3, rows)
    for group, values in counts.items():
        for measure in EVENT_MEASURES:
            frame[event_column(group, measure)] = values.astype(float)
    return frame, ["tenure_days", "logins_30d", *(c for c in frame if c.startswith("event__"))]


def test_event_names_that_restate_each_other_are_kept_together():
    """Shuffled one at a time, names that restate each other hide each other: some fall
    below the floor alone. Shuffled together they are worth keeping, and the noise
    name is still dropped."""
    frame, numeric = _restating_events(copies=16, strength=0.18)
    settings = load_config()["model"]
    _, _, selection = select_optional_features(frame, numeric, [], settings)
    floor = settings["feature_selection"]["min_auc_drop"]
    rescued = selection["kept_together_groups"]
    assert len(rescued) >= 3
    assert all(selection["auc_drop_by_group"][g] <= floor for g in rescued)
    assert set(selection["kept_groups"]) == {f"complaint_{k}" for k in range(16)} - set(
        selection["dropped_groups"]
    )
    assert "theme_changed" in selection["dropped_groups"]
    assert selection["dropped_together_auc_drop"] <= floor


def test_an_event_that_drives_churn_is_kept_and_noise_is_dropped(crafted_model):
    _, model = crafted_model
    selection = model.feature_selection
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


@pytest.mark.parametrize("trained", ["crafted_model", "attribute_model"])
def test_a_model_from_an_earlier_vocabulary_still_scores(trained, request, warehouse, config):
    """Tonight's rows have neither the crafted event groups nor the attributes (the
    session's warehouse): they read as missing, numbers and categories alike."""
    _, model = request.getfixturevalue(trained)
    assert any(c.startswith(("event__report_problem", "attribute__")) for c in model.features)
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
        "    - {name: Other, events: [api_used]}\n"
    )
    with pytest.raises(ValueError) as refused:
        load_config(path)
    message = str(refused.value)
    assert "event_features.max_groups: 0" in message
    assert "groups[0].events: [] is not a non-empty list" in message
    assert "'reports_used' is already in group 'reporting'" in message
    assert "groups[3].name: 'other' is where rare names" in message


ATTRIBUTES = """
accounts:
  attributes:
    - {name: channel, type: categorical}
    - {name: favourite_colour, type: categorical}
    - {name: employees, type: numeric}
    - {name: country, type: categorical}
"""
EARLY_CHANNEL = "partner"


def _deliver_attributes(warehouse: Path) -> dict:
    """Extra columns as the loader keeps them: 'channel' is 'reseller' for most accounts
    that ever churn and 'direct' for most others; 'favourite_colour' and 'employees' are
    random. One account was a 'partner' account in its CRM exports before a cutoff."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            """
            update raw.accounts as r set _extra_columns = json_object(
                'channel', case when (hash(r.account_id) % 10 < 8) = c.churned
                                then 'reseller' else 'direct' end,
                'favourite_colour', ['blue', 'green', 'red'][cast(1 + hash(r.account_id || 'c') % 3 as bigint)],
                'employees', cast(10 + hash(r.account_id || 'e') % 500 as varchar))
            from (select account_id, bool_or(churned_on is not null) as churned
                  from marts.fct_account_snapshots group by account_id) as c
            where c.account_id = r.account_id
            """
        )
        account, cutoff = con.execute(
            "select account_id, max(snapshot_date) - interval 60 day from raw.accounts "
            "group by account_id having count(distinct snapshot_date) >= 6 order by account_id"
        ).fetchone()
        con.execute(
            "update raw.accounts set _extra_columns = json_merge_patch(_extra_columns, "
            "json_object('channel', ?)) where account_id = ? and snapshot_date <= ?",
            [EARLY_CHANNEL, account, cutoff],
        )
    return {"account": account, "cutoff": cutoff.date()}


def test_attributes_are_read_as_they_were_on_each_date(customised):
    with duckdb.connect(str(customised["warehouse"]), read_only=True) as con:
        rows = con.execute(
            "select observation_date, value_text from intermediate.int_account_attributes_listed "
            "where account_id = ? and attribute_name = 'channel' order by observation_date",
            [customised["account"]],
        ).df()
        employees = con.execute(
            "select count(*), count(value_number) from intermediate.int_account_attributes_listed "
            "where attribute_name = 'employees'"
        ).fetchone()
        country = con.execute(
            "select count(distinct value_text) from intermediate.int_account_attributes_listed "
            "where attribute_name = 'country'"
        ).fetchone()[0]
    early = pd.to_datetime(rows["observation_date"]).dt.date <= customised["cutoff"]
    assert early.any() and (~early).any()
    assert (rows.loc[early, "value_text"] == EARLY_CHANNEL).all()
    assert (rows.loc[~early, "value_text"] != EARLY_CHANNEL).all()
    assert employees[0] == employees[1] > 0  # numbers read as numbers
    assert country > 1  # a contract column is an attribute too


def test_an_attribute_is_a_cohort_dimension_for_analysts(customised):
    """marts.fct_churn_by_attribute: churn per value of each categorical attribute, on the
    model's own labels; 'channel' was crafted so that resellers churn."""
    with duckdb.connect(str(customised["warehouse"]), read_only=True) as con:
        rows = con.execute("select * from marts.fct_churn_by_attribute").df()
        labelled = con.execute(
            "select count(*) from marts.fct_account_snapshots "
            "where is_model_observation and churned_within_horizon is not null"
        ).fetchone()[0]
    assert set(rows["attribute_name"]) == {"channel", "favourite_colour", "country"}
    per_attribute = rows.groupby("attribute_name")["labelled_observations"].sum()
    assert (per_attribute == labelled).all()  # every labelled observation, once per attribute
    rate = rows[rows["attribute_name"].eq("channel")].set_index("attribute_value")[
        "churn_rate_within_horizon"
    ]
    assert rate["reseller"] > 3 * rate["direct"]
    colours = rows[rows["attribute_name"].eq("favourite_colour")]["churn_rate_within_horizon"]
    assert colours.max() < 2 * colours.min()  # noise: no value stands out


def test_an_attribute_that_drives_churn_is_used_and_noise_is_dropped(attribute_model):
    snapshots, model = attribute_model
    assert snapshots["attribute__employees"].dtype == "float64"
    assert set(snapshots["attribute__favourite_colour"]) <= {
        "blue",
        "green",
        "red",
        MISSING_CATEGORY,
    }
    selection = model.feature_selection
    assert "attribute__channel" in selection["kept_groups"]
    assert "attribute__favourite_colour" in selection["dropped_groups"]
    assert "attribute__channel" in model.categorical
    assert "attribute__favourite_colour" not in model.categorical


def test_reasons_name_the_attribute_in_the_crms_words(attribute_model, config):
    snapshots, model = attribute_model
    tonight = snapshots[snapshots["is_scoring_row"]].head(1)
    pair = pd.concat([tonight, tonight], ignore_index=True)
    pair["attribute__channel"] = ["direct", "reseller"]
    scores = score_accounts(model, pair, config["risk_tiers"], config["metrics"], 3, "v")
    direct, reseller = scores.iloc[0], scores.iloc[1]
    assert reseller["churn_probability"] > direct["churn_probability"]
    assert "channel: reseller" in reseller["reasons"]


def test_an_unreadable_or_missing_attribute_stops_the_build(customised, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(customised["warehouse"], warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update raw.accounts set _extra_columns = json_merge_patch(_extra_columns, "
            "json_object('employees', 'a dozen')) where account_id = ?",
            [customised["account"]],
        )
    broken = ATTRIBUTES + "    - {name: region, type: categorical}\n"
    code, _, results = dbt_build(warehouse, "int_account_attributes_listed+", broken)
    test = results["assert_account_attributes_are_readable"]
    assert code != 0 and test["status"] == "fail"
    assert test["failures"] == 2  # employees not numbers, region carried by no export
