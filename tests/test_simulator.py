"""The simulator: deterministic for a seed, and its ground truth agrees with its exports."""

from __future__ import annotations

import filecmp

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulator import SimulationSpec, generate

SPEC = SimulationSpec(accounts=150, months=8, seed=5, chunk_accounts=60)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    roots = [tmp_path_factory.mktemp(f"sim{i}") for i in range(2)]
    for root in roots:
        generate(SPEC, root / "landing", root / "truth")
    return roots


def _files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_the_same_seed_writes_the_same_exports_and_truth(two_runs):
    first, second = two_runs
    assert _files(first) == _files(second)
    for relative in _files(first):
        a, b = first / relative, second / relative
        if a.suffix == ".parquet":
            assert pq.read_table(a).equals(pq.read_table(b)), relative
        else:
            assert filecmp.cmp(a, b, shallow=False), relative


def test_another_seed_writes_other_data(two_runs, tmp_path):
    generate(
        SimulationSpec(accounts=150, months=8, seed=6), tmp_path / "landing", tmp_path / "truth"
    )
    ours = (two_runs[0] / "truth" / "accounts_truth.csv").read_text()
    assert (tmp_path / "truth" / "accounts_truth.csv").read_text() != ours


@pytest.fixture(scope="module")
def exports(two_runs):
    root = two_runs[0]
    truth = pd.read_csv(root / "truth" / "accounts_truth.csv", parse_dates=["churn_date"])
    landing = root / "landing"
    return {
        "truth": truth,
        "cancellations": pd.read_csv(next((landing / "cancellations").glob("*.csv"))),
        "subscriptions": pd.read_csv(next((landing / "subscriptions").glob("*.csv"))),
        "payments": pd.concat(pd.read_csv(f) for f in (landing / "payments").glob("*.csv")),
    }


def test_every_churn_in_the_truth_appears_as_a_cancellation_in_the_exports(exports):
    truth, cancellations = exports["truth"], exports["cancellations"]
    churned = truth[truth["churned_by_as_of"]].set_index("account_id")
    assert len(churned) > 10
    by_account = cancellations.set_index("account_id")
    assert set(churned.index) <= set(by_account.index)
    effective = pd.to_datetime(by_account.loc[churned.index, "effective_date"])
    assert (effective.to_numpy() == churned["churn_date"].to_numpy()).all()
    kinds = by_account.loc[churned.index, "churn_type"].to_numpy()
    assert (kinds == churned["churn_type"].to_numpy()).all()


def test_involuntary_churners_show_failed_payments_before_they_leave(exports):
    truth, payments = exports["truth"], exports["payments"]
    involuntary = truth[truth["churned_by_as_of"] & truth["churn_type"].eq("involuntary")]
    failed = set(payments.loc[payments["status"].eq("failed"), "account_id"])
    in_window = involuntary[
        involuntary["churn_date"] >= pd.Timestamp(SPEC.history_start) + pd.Timedelta(days=30)
    ]
    assert len(in_window) > 0
    assert set(in_window["account_id"]) <= failed


def test_subscription_periods_end_on_the_churn_date_and_win_backs_start_again(exports):
    truth, subscriptions = exports["truth"], exports["subscriptions"]
    subscriptions["end_date"] = pd.to_datetime(subscriptions["end_date"])
    subscriptions["start_date"] = pd.to_datetime(subscriptions["start_date"])
    churned = truth[truth["churned_by_as_of"]]
    ends = subscriptions.groupby("account_id")["end_date"].apply(set)
    for account, day in zip(churned["account_id"], churned["churn_date"], strict=True):
        assert day in ends[account], account
    won_back = truth.dropna(subset=["reactivated_on"])
    starts = subscriptions.groupby("account_id")["start_date"].apply(set)
    for account, day in zip(
        won_back["account_id"], pd.to_datetime(won_back["reactivated_on"]), strict=True
    ):
        assert day in starts[account], account
