"""Observation dates a fixed number of days before each account's renewal
(``model.observation_dates: before_renewal``): the session's warehouse rebuilt on a copy
with that setting, read as the model reads it, and trained on."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from test_customer_features import SHORT_TEST, dbt_build, warehouse_copy

from ml.features import label_exclusions, labelled_rows, read_snapshots
from ml.train import train_churn_model
from pipeline_config import load_config

DAYS_BEFORE = 30
CONFIG_TEXT = f"model:\n  observation_dates: before_renewal\n  days_before_renewal: {DAYS_BEFORE}\n"
# what the model reads (as alerts.replay builds it): snapshots, event features, attributes
SELECTION = "+fct_account_snapshots +fct_account_event_features +int_account_attributes_listed"


@pytest.fixture(scope="module")
def renewal_observed(nightly_run, demo_dirs, tmp_path_factory):
    warehouse = warehouse_copy(demo_dirs, tmp_path_factory, "before_renewal")
    code, output, _ = dbt_build(warehouse, SELECTION, CONFIG_TEXT)
    assert code == 0, output[-3000:]
    config = load_config(warehouse.parent / "pipeline.yaml")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        snapshots = read_snapshots(con)
        every_row = con.execute(
            "select account_id, observation_date, days_to_renewal, tenure_days, contract_term, "
            "is_model_observation, is_model_row, is_scoring_row "
            "from marts.fct_account_snapshots"
        ).df()
        excluded = label_exclusions(con, config)
    return snapshots, every_row, excluded, config


TERM_DAYS = {"monthly": 30, "annual": 365}  # accounts.contract_terms, as dbt counts them


def window_start(rows: pd.DataFrame) -> pd.Series:
    """Days ahead of the renewal each row's week starts: days_before_renewal, or a week
    short of the whole term when that is shorter (monthly terms: 23)."""
    return rows["contract_term"].map(TERM_DAYS).sub(7).clip(upper=DAYS_BEFORE)


def test_each_account_is_observed_on_the_monday_a_set_time_before_each_renewal(
    renewal_observed,
):
    _, rows, _, _ = renewal_observed
    in_window = (rows["days_to_renewal"] - window_start(rows)).between(0, 6)
    monday = pd.to_datetime(rows["observation_date"]).dt.weekday.eq(0)
    observed = rows["is_model_observation"]
    assert observed.sum() > 100
    assert observed.eq(monday & in_window & ~rows["is_scoring_row"]).all()
    assert set(rows.loc[observed, "contract_term"]) == set(TERM_DAYS)


def test_each_renewal_once_on_the_accounts_renewal_calendar(renewal_observed):
    """The renewal each observation looks at: one observation per renewal, and an
    account's observed renewals whole contract terms apart (one term, or more where the
    account was out of a subscription in between: no rows, nothing to observe)."""
    _, rows, _, _ = renewal_observed
    observed = rows[rows["is_model_observation"]].copy()
    observed["renewal"] = pd.to_datetime(observed["observation_date"]) + pd.to_timedelta(
        observed["days_to_renewal"], unit="D"
    )
    assert not observed.duplicated(["account_id", "renewal"]).any()
    one_term = observed.groupby("account_id")["contract_term"].transform("nunique").eq(1)
    observed = observed[one_term].sort_values("renewal")
    gaps = observed.groupby("account_id")["renewal"].diff().dt.days
    term = observed["contract_term"].map(TERM_DAYS)[gaps.notna()]
    gaps = gaps.dropna()
    assert gaps.eq(term).sum() > 50
    assert gaps.mod(term).eq(0).all(), gaps.value_counts()


def test_the_model_trains_on_the_renewal_observations_and_scores_every_account(
    renewal_observed,
):
    snapshots, rows, excluded, config = renewal_observed
    labelled = labelled_rows(snapshots)
    assert (labelled["days_to_renewal"] - window_start(labelled)).between(0, 6).all()
    assert (labelled["tenure_days"] >= config["model"]["min_tenure_days"]).all()
    model = train_churn_model(snapshots, SHORT_TEST, config["health"]["bands"], excluded)
    assert model.rows == len(labelled)
    scoring = snapshots[snapshots["is_scoring_row"]]
    assert len(scoring) == rows["is_scoring_row"].sum()
    assert model.pipeline.predict_proba(scoring[model.features]).shape == (len(scoring), 2)
    # the card's exclusions count the renewal observations only: every churned row
    # trained on is one of them
    assert excluded["churned_rows_trained_on"] == int(labelled["churned_within_horizon"].sum())
    young = rows[
        rows["is_model_observation"] & (rows["tenure_days"] < config["model"]["min_tenure_days"])
    ]
    assert excluded["min_tenure_days"]["churned_rows_removed"] <= len(young)
