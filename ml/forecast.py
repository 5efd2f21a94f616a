"""Aggregate churn forecast: expected logos and MRR lost in the coming days, with an interval.

The model's calibrated probability covers its label window, a churn between
``lead_days`` and ``horizon_days`` after the date. The forecast rescales it to its own
window of ``forecast.days`` assuming the hazard is constant across the label window:
``p = 1 - (1 - p_label) ** (days / (horizon_days - lead_days))``. The sum of the
accounts' probabilities is the expected number of logos lost, and the sum weighted by
MRR the expected MRR lost. Drawing every account's churn as an independent coin many
times gives the interval (a Poisson-binomial spread; for MRR a few large accounts make
it skewed, which a normal approximation would hide).

The interval covers outcome noise only, not model error. The backtest table (forecasts
for the backtest's test dates, made by the backtest's model, next to what happened)
shows how far to trust it; ``forecasts_vs_actuals`` does the same for the nightly
forecasts once their windows have closed.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from ml.features import CHURNED_ON

FORECASTS_TABLE = "ml.churn_forecasts"
DRAWS_PER_CHUNK = 500  # bounds memory at 500 x accounts coins


def window_probability(probability: np.ndarray, model_config: dict[str, Any]) -> np.ndarray:
    """Each account's probability of churning within ``forecast.days``."""
    label_days = model_config["horizon_days"] - model_config["lead_days"]
    share = model_config["forecast"]["days"] / label_days
    return 1.0 - (1.0 - np.clip(probability, 0.0, 1.0)) ** share


def aggregate_forecast(
    probability: np.ndarray, mrr: np.ndarray, forecast_config: dict[str, Any], seed: int
) -> dict[str, Any]:
    """Expected logos and MRR lost, with the central ``interval`` of simulated outcomes."""
    probability = np.asarray(probability, dtype=float)
    mrr = np.nan_to_num(np.asarray(mrr, dtype=float))
    rng = np.random.default_rng(seed)
    logos, lost_mrr = [], []
    remaining = forecast_config["draws"]
    while remaining > 0:
        chunk = min(remaining, DRAWS_PER_CHUNK)
        lost = rng.random((chunk, probability.size)) < probability
        logos.append(lost.sum(axis=1))
        lost_mrr.append(lost @ mrr)
        remaining -= chunk
    tail = (1.0 - forecast_config["interval"]) / 2
    quantiles = [tail, 1.0 - tail]
    logos_low, logos_high = np.quantile(np.concatenate(logos), quantiles)
    mrr_low, mrr_high = np.quantile(np.concatenate(lost_mrr), quantiles)
    return {
        "accounts": int(probability.size),
        "expected_logos": round(float(probability.sum()), 2),
        "logos_low": int(logos_low),
        "logos_high": int(logos_high),
        "expected_mrr_lost": round(float(probability @ mrr), 2),
        "mrr_lost_low": round(float(mrr_low), 2),
        "mrr_lost_high": round(float(mrr_high), 2),
    }


def _with_actuals(forecast: dict[str, Any], logos: int, mrr: float) -> dict[str, Any]:
    return {
        **forecast,
        "actual_logos": int(logos),
        "actual_mrr_lost": round(float(mrr), 2),
        "logos_within": bool(forecast["logos_low"] <= logos <= forecast["logos_high"]),
        "mrr_within": bool(forecast["mrr_lost_low"] <= mrr <= forecast["mrr_lost_high"]),
    }


def forecast_backtest(
    pipeline: Pipeline,
    snapshots: pd.DataFrame,
    dates: list[pd.Timestamp],
    model_config: dict[str, Any],
) -> list[dict[str, Any]]:
    """The forecast the backtest's model would have made on each test date, next to the
    logos and MRR actually lost in the window after it.

    Every account observed on the date counts, including the ones already cancelling
    (their label is null, their loss is real). The test dates are at least
    ``horizon_days`` old, so every churn in a window of ``forecast.days`` is known.
    """
    days = model_config["forecast"]["days"]
    observed = pd.to_datetime(snapshots["observation_date"])
    rows = []
    for date in sorted(dates):
        active = snapshots[(observed == date) & ~snapshots["is_scoring_row"]]
        probability = window_probability(pipeline.predict_proba(active)[:, 1], model_config)
        mrr = active["mrr"].fillna(0).to_numpy()
        forecast = aggregate_forecast(
            probability, mrr, model_config["forecast"], model_config["random_state"]
        )
        churned_on = pd.to_datetime(active[CHURNED_ON])
        lost = ((churned_on >= date) & (churned_on < date + pd.Timedelta(days=days))).to_numpy()
        row = {"date": str(date.date()), **forecast}
        rows.append(_with_actuals(row, lost.sum(), mrr[lost].sum()))
    return rows


def tonight_forecast(
    con: duckdb.DuckDBPyConnection, scores_table: str, model_config: dict[str, Any]
) -> dict[str, Any]:
    """The forecast from the newest night's scores (MRR = the scored ARR / 12)."""
    scores = con.execute(
        f"select as_of_date, churn_probability, arr / 12 as mrr, model_version "
        f"from {scores_table} where as_of_date = (select max(as_of_date) from {scores_table})"
    ).df()
    if scores.empty:
        raise ValueError(f"{scores_table} is empty: nothing to forecast from")
    as_of = pd.Timestamp(scores["as_of_date"].iloc[0])
    probability = window_probability(scores["churn_probability"].to_numpy(), model_config)
    forecast = aggregate_forecast(
        probability,
        scores["mrr"].to_numpy(),
        model_config["forecast"],
        model_config["random_state"],
    )
    return {
        "as_of_date": as_of.date(),
        "window_end": (as_of + pd.Timedelta(days=model_config["forecast"]["days"])).date(),
        **forecast,
        "model_version": scores["model_version"].iloc[0],
    }


def forecast_table(rows: list[dict[str, Any]], date_column: str) -> str:
    """Forecasts next to actuals as a markdown table (asset metadata, docs)."""
    lines = [
        "| date | accounts | logos expected (interval) | lost | MRR expected (interval) | lost |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r[date_column]} | {r['accounts']:,} "
            f"| {r['expected_logos']:.1f} ({r['logos_low']}-{r['logos_high']}) "
            f"| {r['actual_logos']}{'' if r['logos_within'] else ' (outside)'} "
            f"| {r['expected_mrr_lost']:,.0f} ({r['mrr_lost_low']:,.0f}-{r['mrr_lost_high']:,.0f}) "
            f"| {r['actual_mrr_lost']:,.0f}{'' if r['mrr_within'] else ' (outside)'} |"
        )
    return "\n".join(lines)


def write_forecast(con: duckdb.DuckDBPyConnection, forecast: dict[str, Any]) -> None:
    """Tonight's forecast into ``ml.churn_forecasts`` (one row per as-of date; a re-run
    of the night replaces its row)."""
    con.execute("create schema if not exists ml")
    con.execute(
        f"create table if not exists {FORECASTS_TABLE} (as_of_date date primary key, "
        "window_end date not null, accounts integer not null, expected_logos double not null, "
        "logos_low integer not null, logos_high integer not null, "
        "expected_mrr_lost double not null, mrr_lost_low double not null, "
        "mrr_lost_high double not null, model_version varchar not null)"
    )
    frame = pd.DataFrame([forecast])
    con.register("_tonight_forecast", frame)
    try:
        con.execute("begin transaction")
        con.execute(
            f"delete from {FORECASTS_TABLE} where as_of_date in "
            "(select as_of_date from _tonight_forecast)"
        )
        con.execute(f"insert into {FORECASTS_TABLE} by name select * from _tonight_forecast")
        con.execute("commit")
    finally:
        con.unregister("_tonight_forecast")


def forecasts_vs_actuals(
    con: duckdb.DuckDBPyConnection, scores_table: str, resign_gap_days: int
) -> list[dict[str, Any]]:
    """Nightly forecasts whose window has closed (and whose churns can no longer turn
    out to be re-signs), next to the logos and MRR the scored accounts really lost.
    Runs after ``write_forecast``, which creates the table."""
    closed = con.execute(
        f"""
        select
            f.*,
            count(a.account_id) as actual_logos,
            coalesce(sum(s.arr / 12) filter (where a.account_id is not null), 0)
                as actual_mrr_lost
        from {FORECASTS_TABLE} as f
        inner join {scores_table} as s on s.as_of_date = f.as_of_date
        left join marts.dim_accounts as a
            on a.account_id = s.account_id
            and a.churned_on >= f.as_of_date
            and a.churned_on < f.window_end
        where f.window_end + {int(resign_gap_days)} <= (select max(as_of_date) from marts.dim_accounts)
        group by all
        order by f.as_of_date
        """
    ).df()
    for column in ("as_of_date", "window_end"):
        closed[column] = pd.to_datetime(closed[column]).dt.strftime("%Y-%m-%d")
    records = []
    for row in closed.to_dict("records"):
        logos, mrr = row.pop("actual_logos"), row.pop("actual_mrr_lost")
        records.append(_with_actuals(row, logos, mrr))
    return records
