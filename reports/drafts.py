"""Outreach drafts for human review (DOMAIN.md §10): one file per account for tonight's
open critical/high alerts delivered to a CSM and tonight's win-back touches. Nothing is
ever sent: the drafts are files a CSM reads, edits and sends from their own mail.

Each draft is rendered from that account's own row only (one dict per account, built
before rendering), with jinja2 autoescape on; the tone, phrases and templates come from
an editable folder (``outreach.template_dir``; the built-in one is reports/outreach/).
Drafts hold PII (a contact's first name): they stay in the run folder, never in logs.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reports.alert_files import csm_actionable
from reports.names import unique_slugs
from reports.publish import rendered, write_csv_safely, write_text_atomically
from reports.site.queries import top_features

BUILT_IN_TEMPLATES = Path(__file__).with_name("outreach")
DRAFT_COLUMNS = ["file", "kind", "account_id", "company_name", "csm_owner", "severity",
                 "touch_day", "subject", "alert_id"]  # fmt: skip


def template_folder(configured: str | None) -> Path:
    """The configured folder, checked here so a typo fails with its path named."""
    folder = Path(configured) if configured else BUILT_IN_TEMPLATES
    missing = [n for n in ("style_guide.yaml", "alert.html.j2", "winback.html.j2")
               if not (folder / n).is_file()]  # fmt: skip
    if missing:
        raise FileNotFoundError(f"outreach.template_dir {folder}: missing {', '.join(missing)}")
    return folder


def first_name(contact_name: object, fallback: str) -> str:
    if not isinstance(contact_name, str) or not contact_name.strip():
        return fallback
    return contact_name.strip().split()[0]


def readable_list(items: list[str]) -> str:
    """["api", "time_tracking", "exports"] -> "api, time tracking and exports"."""
    words = [str(i).replace("_", " ") for i in items]
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def _subject(pattern: str, **values: str) -> str:
    """Fill ``{company}``-style placeholders by plain replacement (a style guide is data:
    no format-string attribute lookups)."""
    for key, value in values.items():
        pattern = pattern.replace("{" + key + "}", value)
    return pattern


def alert_drafts(
    alerts: pd.DataFrame, accounts: pd.DataFrame, severities: list[str]
) -> pd.DataFrame:
    """The alerts that get a draft: delivered to a CSM tonight (contactable, not snoozed)
    at the configured severities, with the account's contact and renewal date."""
    chosen = csm_actionable(alerts)
    chosen = chosen[chosen["severity"].isin(severities)]
    return chosen.merge(
        accounts[["account_id", "contact_name", "renewal_date"]], on="account_id", how="left"
    )


def write_drafts(
    con: duckdb.DuckDBPyConnection,
    run_dir: Path,
    alerts: pd.DataFrame,
    touches: pd.DataFrame,
    settings: Mapping[str, Any],
) -> pd.DataFrame:
    """Write ``drafts/`` (the folder is rewritten) and its ``index.csv``; returns the index."""
    folder = template_folder(settings["template_dir"])
    style = yaml.safe_load((folder / "style_guide.yaml").read_text(encoding="utf-8"))
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        finalize=rendered,
    )
    accounts = con.execute(
        "select account_id, contact_name, renewal_date from marts.dim_accounts"
    ).df()
    chosen = alert_drafts(alerts, accounts, list(settings["alert_severities"]))
    # one draft per account: an account with an alert draft gets no win-back draft too
    # (a long-inactive paying account can be both); the CSM's alert call covers it
    touches = touches[~touches["account_id"].isin(chosen["account_id"])]
    touches = touches.drop(columns=["contact_name", "renewal_date"], errors="ignore").merge(
        accounts, on="account_id", how="left"
    )
    wanted = sorted(set(chosen["account_id"]) | set(touches["account_id"]))
    features = top_features(con, wanted, int(settings["top_features"]))
    features_of = features.groupby("account_id")["feature"].apply(list).to_dict()
    files = unique_slugs(wanted, ".html")

    out = run_dir / "drafts"
    shutil.rmtree(out, ignore_errors=True)
    index: list[dict[str, Any]] = []
    as_of = pd.to_datetime(alerts["data_as_of"]).max() if len(alerts) else None
    for row in chosen.to_dict("records"):
        renewal = pd.to_datetime(row["renewal_date"])
        renewal_soon = bool(
            pd.notna(renewal) and as_of is not None and 0 <= (renewal - as_of).days <= 90
        )
        renewal_text = renewal.date().isoformat() if pd.notna(renewal) else ""
        subject = _subject(
            style["subjects"]["alert_renewal" if renewal_soon else "alert"],
            company=row["company_name"], renewal_date=renewal_text,
        )  # fmt: skip
        draft = {
            **_common(row, style, features_of, subject),
            "alert_id": row["alert_id"], "severity": row["severity"], "reason": row["reason"],
            "renewal_soon": renewal_soon, "renewal_date": renewal_text,
        }  # fmt: skip
        name = f"alert-{files[row['account_id']]}"
        write_text_atomically(
            out / name, env.get_template("alert.html.j2").render(d=draft, style=style)
        )
        index.append({"file": name, "kind": "alert", "touch_day": None, **_index_row(draft)})
    for row in touches.to_dict("records"):
        subject = _subject(style["subjects"]["winback"], company=row["company_name"])
        draft = {
            **_common(row, style, features_of, subject),
            "touch_day": int(row["touch_due_tonight"]), "churn_reason": row["churn_reason"],
            "offer": row["offer"], "alert_id": None, "severity": None,
        }  # fmt: skip
        name = f"winback-{files[row['account_id']]}"
        write_text_atomically(
            out / name, env.get_template("winback.html.j2").render(d=draft, style=style)
        )
        index.append({"file": name, "kind": "winback", **_index_row(draft),
                      "touch_day": draft["touch_day"]})  # fmt: skip
    frame = pd.DataFrame(index, columns=DRAFT_COLUMNS)
    write_csv_safely(frame, out / "index.csv")
    return frame


def _common(
    row: Mapping[str, Any], style: Mapping[str, Any], features_of: Mapping[str, list[str]],
    subject: str,
) -> dict[str, Any]:  # fmt: skip
    """The facts every draft has, all from this account's own row."""
    return {
        "account_id": row["account_id"],
        "company_name": row["company_name"],
        "first_name": first_name(row.get("contact_name"), style["fallback_first_name"]),
        "csm_owner": row["csm_owner"],
        "features": readable_list(features_of.get(row["account_id"], [])),
        "subject": subject,
    }


def _index_row(draft: Mapping[str, Any]) -> dict[str, Any]:
    return {k: draft.get(k) for k in ("account_id", "company_name", "csm_owner", "severity",
                                      "subject", "alert_id")}  # fmt: skip
