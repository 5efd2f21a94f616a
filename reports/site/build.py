"""Build the offline site of one run folder: inbox (``index.html``), an account page for
every alerted and win-back account, a portfolio per CSM, team, executive and win-back
pages. Rendered with jinja2 (autoescape on); no script or style from the network; the
data's as-of date and each source's freshness on every page.

Pages link to the run folder's CSVs and drafts by relative paths, so the folder works
the same opened from disk, served by ``make serve`` or copied elsewhere.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from reports.alert_files import (
    SEVERITY_ORDER,
    csm_actionable,
    csm_file_names,
    is_snoozed,
    tonight_alerts,
)
from reports.names import unique_slugs
from reports.publish import rendered, write_text_atomically
from reports.site import charts, queries
from reports.winback import in_cadence

_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    finalize=rendered,
)
AT_RISK_SEVERITIES = ("critical", "high")
PAGE_FOLDERS = ("accounts", "portfolio")


@dataclass(frozen=True)
class SiteSettings:
    """From the pipeline config: health bands, and how far ahead renewals are shown."""

    health_bands: Mapping[str, float]
    renewal_days: int
    chart_workers: int = 1
    pages_for_low_alerts: bool = True


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts for the templates: missing values as None, dates as ISO days."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out.astype(object).where(out.notna(), None).to_dict(orient="records")


def _score_text(score: object) -> str:
    return "" if score is None or pd.isna(score) else f"{float(score):.0f}"


def _joined(values: object) -> str:
    """A list cell (rule types, score reasons) as one readable string."""
    return (
        "; ".join(values) if isinstance(values, list | tuple) or hasattr(values, "tolist") else ""
    )


def _is_at_risk(frame: pd.DataFrame) -> pd.Series:
    return frame["severity"].isin(AT_RISK_SEVERITIES) | frame["health_band"].eq("red")


def _renewal_needs_attention(frame: pd.DataFrame, renewal_days: int) -> pd.Series:
    """Renewing within ``renewal_days`` with a CSM-level alert (medium or worse; low ones
    go to automated sequences) or a health band below green."""
    return frame["days_to_renewal"].between(0, renewal_days) & (
        frame["severity"].isin([*AT_RISK_SEVERITIES, "medium"])
        | frame["health_band"].isin(["red", "yellow"])
    )


class SiteWriter:
    """Renders pages into ``run_dir`` with the context every page shares."""

    def __init__(self, run_dir: Path, context: Mapping[str, Any]) -> None:
        self.run_dir = run_dir
        self.context = context
        self.pages = 0

    def write(self, relative: str, template: str, **values: Any) -> Path:
        root = "../" * relative.count("/")
        html = _ENV.get_template(f"site/{template}").render(site=self.context, root=root, **values)
        self.pages += 1
        return write_text_atomically(self.run_dir / relative, html)


def build_site(
    con: duckdb.DuckDBPyConnection,
    run_dir: Path,
    winback: pd.DataFrame,
    reactivations: pd.DataFrame,
    drafts: pd.DataFrame,
    settings: SiteSettings,
) -> dict[str, Any]:
    """Write every page of tonight's site into ``run_dir``; returns counts for metadata.
    The page folders are rewritten: a second run of the same night leaves no page of an
    account that is no longer alerted."""
    for folder in PAGE_FOLDERS:
        shutil.rmtree(run_dir / folder, ignore_errors=True)
    night = queries.tonight(con)
    sources = queries.source_status(con, night)
    writer = SiteWriter(
        run_dir,
        {
            "as_of": night.isoformat(),
            "built_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "model_version": queries.model_version(con),
            "stale_sources": records(sources[sources["is_stale"]]),
        },
    )
    overview = queries.account_overview(con, night)
    overview["health_score_text"] = overview["health_score"].map(_score_text)
    overview["score_reasons"] = overview["score_reasons"].map(_joined)
    overview["types_text"] = overview["types"].map(_joined)
    overview = overview.drop(columns="types")
    alerts = tonight_alerts(con)
    cadence_over = int(winback["exclusion_code"].eq("past_last_touch").sum())
    winback = in_cadence(winback)
    alerted = alerts if settings.pages_for_low_alerts else alerts[alerts["severity"].ne("low")]
    paged = sorted(set(alerted["account_id"]) | set(winback["account_id"]))
    pages = unique_slugs(paged, ".html")
    books = overview.loc[~overview["has_churned"], "csm_owner"]  # a page per active book
    portfolios = unique_slugs(sorted(books.dropna().unique()), ".html")
    draft_files = _draft_files(drafts)

    _write_inbox(writer, alerts, overview, pages, draft_files)
    _write_accounts(con, writer, overview, paged, pages, portfolios, winback, draft_files,
                    settings)  # fmt: skip
    _write_portfolios(writer, overview, pages, portfolios, settings)
    _write_team(con, writer, alerts)
    _write_executive(con, writer, overview, pages)
    _write_winback(writer, winback, reactivations, pages, draft_files, cadence_over)
    return {"pages": writer.pages, "account_pages": len(paged), "portfolios": len(portfolios)}


def _draft_files(drafts: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.account_id, r.kind): r.file for r in drafts.itertuples()}


def _write_inbox(
    writer: SiteWriter,
    alerts: pd.DataFrame,
    overview: pd.DataFrame,
    pages: Mapping[str, str],
    drafts: Mapping[tuple[str, str], str],
) -> None:
    actionable = csm_actionable(alerts).merge(
        overview[["account_id", "segment", "health_score_text", "health_band", "health_change"]],
        on="account_id",
        how="left",
    )
    rows = records(actionable)
    for row in rows:
        row["page"] = pages.get(row["account_id"])
        row["type_list"] = row["types"].split("; ") if row["types"] else []
        row["draft"] = drafts.get((row["account_id"], "alert"))
    owners = csm_file_names(sorted(actionable["csm_owner"].dropna().unique()))
    per_owner = actionable["csm_owner"].value_counts()
    writer.write(
        "index.html",
        "inbox.html.j2",
        page="inbox",
        inbox={
            "alerts": rows,
            "by_severity": {s: int(actionable["severity"].eq(s).sum()) for s in SEVERITY_ORDER},
            "revenue_at_risk": float(actionable["revenue_at_risk"].sum()),
            "new_today": int(actionable["is_new_today"].sum()),
            "open_alerts": len(alerts),
            "deferred": int(alerts["is_deferred"].sum()),
            "automated": int(alerts["in_automated_sequence"].sum()),
            "do_not_contact": int(alerts["do_not_contact"].sum()),
            "snoozed": int(is_snoozed(alerts).sum()),
            "filters": [
                {"name": "csm", "label": "CSM", "values": sorted(per_owner.index)},
                {
                    "name": "type",
                    "label": "Alert type",
                    "values": sorted({t for r in rows for t in r["type_list"]}),
                },
                {
                    "name": "segment",
                    "label": "Segment",
                    "values": sorted(actionable["segment"].dropna().unique()),
                },
                {
                    "name": "severity",
                    "label": "Severity",
                    "values": [s for s in SEVERITY_ORDER if actionable["severity"].eq(s).any()],
                },
            ],
            "csm_files": [
                {"owner": owner, "file": owners[owner], "rows": int(per_owner[owner])}
                for owner in sorted(per_owner.index)
            ],
        },
    )


def _by_account(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped per account, converted for the templates once for all pages."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in records(frame):
        grouped.setdefault(row["account_id"], []).append(row)
    return grouped


def _write_accounts(
    con: duckdb.DuckDBPyConnection,
    writer: SiteWriter,
    overview: pd.DataFrame,
    accounts: list[str],
    pages: Mapping[str, str],
    portfolios: Mapping[str, str],
    winback: pd.DataFrame,
    drafts: Mapping[tuple[str, str], str],
    settings: SiteSettings,
) -> None:
    """One page per account, its data fetched for all pages at once and then split."""
    weekly = _by_account(queries.weekly_usage(con, accounts))
    health = _by_account(queries.health_history(con, accounts))
    history = _by_account(queries.alert_history(con, accounts))
    night = queries.tonight(con)
    tickets = _by_account(queries.recent_tickets(con, accounts, night))
    nps = _by_account(queries.recent_nps(con, accounts, night))
    features = _by_account(queries.top_features(con, accounts))
    milestones = {r["account_id"]: r for r in records(queries.milestones(con, accounts))}
    wins = {r["account_id"]: r for r in records(winback)}
    profiles = {
        r["account_id"]: r for r in records(overview[overview["account_id"].isin(accounts)])
    }
    svgs = charts.render_svgs(
        [
            charts.account_spec(weekly.get(a, []), health.get(a, []), settings.health_bands)
            for a in accounts
        ],
        charts.ACCOUNT_CHART_LABEL,
        settings.chart_workers,
    )
    for account, svg in zip(accounts, svgs, strict=True):
        profile = profiles[account]
        profile["portfolio"] = portfolios.get(profile["csm_owner"])
        profile["draft"] = drafts.get((account, "alert"))
        profile["winback_draft"] = drafts.get((account, "winback"))
        for t in tickets.get(account, []):
            t["opened"] = str(t["opened_at"])[:10]
            t["csat_text"] = "" if t["csat"] is None else f"{t['csat']:.0f}"
        for n in nps.get(account, []):
            n["answered"] = str(n["responded_at"])[:10]
        writer.write(
            f"accounts/{pages[account]}",
            "account.html.j2",
            page="account",
            a=profile,
            w=wins.get(account),
            chart=svg if weekly.get(account) or health.get(account) else None,
            features=features.get(account, []),
            milestones=milestones.get(account),
            history=history.get(account, []),
            tickets=tickets.get(account, []),
            nps=nps.get(account, []),
        )


def _book_summary(book: pd.DataFrame, renewal_days: int) -> dict[str, Any]:
    at_risk = _is_at_risk(book)
    return {
        "accounts": len(book),
        "arr": float(book["arr"].sum()),
        "at_risk": int(at_risk.sum()),
        "arr_at_risk": float(book.loc[at_risk, "arr"].sum()),
        "open_alerts": int(book["alert_id"].notna().sum()),
        "renewals_attention": int(_renewal_needs_attention(book, renewal_days).sum()),
    }


def _write_portfolios(
    writer: SiteWriter,
    overview: pd.DataFrame,
    pages: Mapping[str, str],
    portfolios: Mapping[str, str],
    settings: SiteSettings,
) -> None:
    active = overview[~overview["has_churned"]].copy()
    active["page"] = active["account_id"].map(pages)  # NaN: no page (no alert, not win-back)
    active["_rank"] = active["severity"].map(SEVERITY_ORDER).fillna(len(SEVERITY_ORDER))
    active = active.sort_values(  # account id last: the same order on every run
        ["_rank", "health_score", "arr", "account_id"], ascending=[True, True, False, True]
    )
    summaries = []
    for owner, book in active.groupby("csm_owner"):
        summary = {"csm_owner": owner, "page": portfolios[owner],
                   **_book_summary(book, settings.renewal_days)}  # fmt: skip
        renewing = book[_renewal_needs_attention(book, settings.renewal_days)].sort_values(
            ["days_to_renewal", "account_id"]
        )
        writer.write(
            f"portfolio/{portfolios[owner]}",
            "portfolio.html.j2",
            page="portfolio",
            p=summary,
            renewals=records(renewing),
            book=records(book),
            renewal_days=settings.renewal_days,
        )
        summaries.append(summary)
    writer.write(
        "portfolios.html",
        "portfolios.html.j2",
        page="portfolio",
        portfolios=sorted(summaries, key=lambda s: -s["arr_at_risk"]),
        renewal_days=settings.renewal_days,
    )


def _write_team(con: duckdb.DuckDBPyConnection, writer: SiteWriter, alerts: pd.DataFrame) -> None:
    volume = queries.alert_volume(con)
    responses = queries.alert_responses(con)
    contacted = responses[~responses["is_holdout"]]
    engaged = contacted["engaged_at"].notna()
    dismissed = contacted["dismissal_reason"].notna()
    days_to_engage = (
        pd.to_datetime(contacted["engaged_at"]) - pd.to_datetime(contacted["first_delivered_night"])
    ).dt.total_seconds() / 86400
    per_csm = (
        contacted.assign(engaged=engaged, dismissed=dismissed, days=days_to_engage)
        .groupby("csm_owner")
        .agg(delivered=("alert_id", "size"), engaged=("engaged", "sum"),
             dismissed=("dismissed", "sum"), median_days_to_engage=("days", "median"))
        .reset_index()
    )  # fmt: skip
    per_csm["response_rate"] = (per_csm["engaged"] + per_csm["dismissed"]) / per_csm["delivered"]
    per_csm["median_days_to_engage"] = per_csm["median_days_to_engage"].round(1)
    writer.write(
        "team.html",
        "team.html.j2",
        page="team",
        team={
            "nights": int(volume["night"].nunique()),
            "responses": records(per_csm),
            "outcomes": records(queries.alert_outcomes(con)),
        },
        charts={
            "by_type": charts.open_alerts_by_type(alerts),
            "volume": charts.alert_volume(volume),
            "bands": charts.health_bands_over_time(queries.health_bands_monthly(con)),
        },
    )


def _write_executive(
    con: duckdb.DuckDBPyConnection,
    writer: SiteWriter,
    overview: pd.DataFrame,
    pages: Mapping[str, str],
) -> None:
    active = overview[~overview["has_churned"]].copy()
    at_risk = active[_is_at_risk(active)].sort_values(
        ["arr", "account_id"], ascending=[False, True]
    )
    at_risk["page"] = at_risk["account_id"].map(pages)
    retention = queries.revenue_retention(con)
    settled = retention[~retention["is_provisional"]]
    last = None
    if not settled.empty:
        row = settled.iloc[-1]
        last = {
            "month": pd.Timestamp(row["month_start"]).strftime("%Y-%m"),
            "gross_revenue_retention": row["gross_revenue_retention"],
            "net_revenue_retention": row["net_revenue_retention"],
        }
    forecast = queries.churn_forecast(con)
    if forecast is not None:
        forecast["window_end"] = pd.Timestamp(forecast["window_end"]).date().isoformat()
    total_arr = float(active["arr"].sum())
    writer.write(
        "executive.html",
        "executive.html.j2",
        page="executive",
        ex={
            "active_accounts": len(active),
            "at_risk_accounts": len(at_risk),
            "arr_at_risk": float(at_risk["arr"].sum()),
            "arr_at_risk_share": float(at_risk["arr"].sum()) / total_arr if total_arr else None,
            "forecast": forecast,
            "last_month": last,
            "top_at_risk": records(at_risk.head(15)),
        },
        charts={
            "retention": charts.revenue_retention(retention),
            "cohorts": charts.cohort_heatmap(queries.cohort_retention(con)),
            "survival": charts.survival(queries.survival_curves(con)),
        },
    )


def _write_winback(
    writer: SiteWriter,
    winback: pd.DataFrame,
    reactivations: pd.DataFrame,
    pages: Mapping[str, str],
    drafts: Mapping[tuple[str, str], str],
    cadence_over: int,
) -> None:
    rows = records(winback)
    for row in rows:
        row["page"] = pages[row["account_id"]]
        row["draft"] = drafts.get((row["account_id"], "winback"))
    eligible = [r for r in rows if not r["excluded_reason"]]
    writer.write(
        "winback.html",
        "winback.html.j2",
        page="winback",
        wb={
            "eligible": eligible,
            "excluded": [r for r in rows if r["excluded_reason"]],
            "touches_due": sum(1 for r in eligible if r["touch_due_tonight"]),
            "cadence_over": cadence_over,
            "reactivations": records(reactivations),
            "reactivation_columns": list(reactivations.columns),
        },
    )
