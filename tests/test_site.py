"""The published site in a real browser: headless Debian chromium driven by Playwright,
served read-only on 127.0.0.1 like `make serve`, from the session's nightly run.

Screenshots (desktop and phone) are saved under test-artifacts/site/ for a person to
look at; CI keeps the folder.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO
from markupsafe import escape

from reports.drafts import first_name, readable_list
from reports.publish import strip_unsafe

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts" / "site"
BROWSER_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def latest(nightly_run, demo_dirs) -> Path:
    assert nightly_run.success
    return demo_dirs.outputs / "latest"


@pytest.fixture(scope="module")
def site_url(latest: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(latest))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, site_url: str):
    """A page that records every request it makes (the site must make none outside)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.requests = []
    tab.on("request", lambda request: tab.requests.append(request.url))
    yield tab
    context.close()


def _csm_rows(latest: Path) -> pd.DataFrame:
    files = sorted((latest / "alerts_by_csm").glob("*.csv"))
    return pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])


def _visible_rows(page) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#inbox tbody tr[data-alert]:not([hidden])",
        "rows => rows.map(r => ({...r.dataset}))",
    )


def test_the_inbox_shows_every_alert_a_csm_acts_on(page, site_url: str, latest: Path):
    page.goto(site_url + "index.html")
    shown = _visible_rows(page)
    expected = _csm_rows(latest)
    assert len(shown) == len(expected) > 0
    assert sorted(r["alert"] for r in shown) == sorted(expected["alert_id"])
    assert page.text_content("#shown-count") == str(len(expected))
    assert page.locator("#freshness").inner_text().startswith("Data as of ")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)


@pytest.mark.parametrize("name", ["csm", "type", "segment", "severity"])
def test_each_inbox_filter_keeps_exactly_the_matching_alerts(page, site_url, latest, name):
    page.goto(site_url + "index.html")
    select = page.locator(f"#filters select[name={name}]")
    values = select.locator("option").evaluate_all("o => o.map(x => x.value).filter(Boolean)")
    assert values, f"the {name} filter offers no value"
    alerts = _csm_rows(latest)
    scores = pd.read_csv(latest / "scores.csv", dtype=str, keep_default_na=False)
    alerts = alerts.merge(scores[["account_id", "segment"]], on="account_id", how="left")
    for value in values:
        select.select_option(value)
        shown = _visible_rows(page)
        column = {"csm": "csm_owner", "severity": "severity", "segment": "segment"}.get(name)
        if column:
            expected = alerts[alerts[column] == value]
        else:
            expected = alerts[alerts["types"].str.split("; ").map(lambda t, v=value: v in t)]
        assert len(expected) > 0
        assert sorted(r["alert"] for r in shown) == sorted(expected["alert_id"]), (name, value)
        assert page.text_content("#shown-count") == str(len(shown))
    page.click("#reset-filters")
    assert len(_visible_rows(page)) == len(alerts)


def test_a_filter_works_from_the_keyboard(page, site_url: str, latest: Path):
    page.goto(site_url + "index.html")
    page.focus("#filters select[name=severity]")
    page.keyboard.press("ArrowDown")  # the first severity after "All"
    chosen = page.eval_on_selector("#filters select[name=severity]", "s => s.value")
    shown = _visible_rows(page)
    assert chosen and shown and all(r["severity"] == chosen for r in shown)


def test_every_download_link_returns_the_file_it_names(page, site_url: str, latest: Path):
    page.goto(site_url + "index.html")
    links = page.eval_on_selector_all("#downloads a", "a => a.map(x => x.getAttribute('href'))")
    assert "alerts.csv" in links and any(link.startswith("alerts_by_csm/") for link in links)
    for link in links:
        response = page.request.get(site_url + link)
        assert response.ok, link
        assert response.body() == (latest / link).read_bytes(), link
    served = pd.read_csv(site_url + "alerts.csv", dtype=str, keep_default_na=False)
    assert served.equals(pd.read_csv(latest / "alerts.csv", dtype=str, keep_default_na=False))


def test_an_account_page_shows_its_charts_alert_and_history(page, site_url: str):
    page.goto(site_url + "index.html")
    first = page.locator("#inbox tbody tr[data-alert] a").first
    account = page.locator("#inbox tbody tr[data-alert]").first.get_attribute("data-account")
    first.click()
    page.wait_for_load_state()
    assert account in page.locator("#facts").inner_text()
    chart = page.locator("figure.chart svg")
    assert chart.count() == 1 and chart.locator("path").count() > 5
    assert page.locator("#current-alert").is_visible()
    assert page.locator("#alert-history tbody tr").count() >= 1
    assert page.locator("#freshness").is_visible()
    page.screenshot(path=str(ARTIFACTS / "account.png"), full_page=True)


@pytest.mark.parametrize(
    "path",
    ["index.html", "portfolios.html", "team.html", "executive.html", "winback.html",
     "first-account", "first-portfolio"],
)  # fmt: skip
def test_pages_load_with_nothing_from_the_network(page, site_url: str, latest: Path, path: str):
    folder = {"first-account": "accounts", "first-portfolio": "portfolio"}.get(path)
    if folder:
        path = f"{folder}/{sorted((latest / folder).glob('*.html'))[0].name}"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site_url + path)
    for link in page.eval_on_selector_all("nav a", "a => a.map(x => x.href)"):
        assert link.startswith(site_url)
    assert page.locator("#freshness").is_visible()
    assert not errors
    assert page.requests and all(url.startswith(site_url) for url in page.requests), [
        u for u in page.requests if not u.startswith(site_url)
    ]
    shot = path.replace("/", "-").replace(".html", ".png")
    page.screenshot(path=str(ARTIFACTS / shot), full_page=True)


def test_the_executive_page_shows_forecast_retention_and_curves(page, site_url: str):
    page.goto(site_url + "executive.html")
    assert "forecast churned logos" in page.locator("#exec-tiles").inner_text()
    labels = page.eval_on_selector_all(
        "figure.chart", "f => f.map(x => x.getAttribute('aria-label'))"
    )
    assert {"Monthly gross and net revenue retention", "Cohort logo retention heatmap",
            "Survival curves by segment"} <= set(labels)  # fmt: skip


def test_the_inbox_reads_on_a_phone(browser, site_url: str):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto(site_url + "index.html")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the inbox scrolls sideways on a phone ({width}px)"
    phone.screenshot(path=str(ARTIFACTS / "inbox-phone.png"), full_page=False)
    context.close()


def test_no_draft_holds_another_accounts_data(latest: Path, warehouse):
    """Each draft names its own account only: no other account's id or company name, and
    its contact, features and renewal date are its own account's (from the warehouse)."""
    index = pd.read_csv(latest / "drafts" / "index.csv", dtype=str, keep_default_na=False)
    touches = pd.read_csv(latest / "winback.csv", dtype=str, keep_default_na=False)
    due = touches[(touches["excluded_reason"] == "") & (touches["touch_due_tonight"] != "")]
    alerted = index.loc[index["kind"] == "alert", "account_id"]
    assert len(alerted) > 0 and index["account_id"].is_unique  # one draft per account
    expected = sorted(set(due["account_id"]) - set(alerted))
    assert sorted(index.loc[index["kind"] == "winback", "account_id"]) == expected
    accounts = pd.read_csv(latest / "scores.csv", dtype=str, keep_default_na=False)
    winback = pd.read_csv(latest / "winback.csv", dtype=str, keep_default_na=False)
    names = pd.concat([accounts, winback])[["account_id", "company_name"]].drop_duplicates()
    for draft in index.itertuples():
        text = (latest / "drafts" / draft.file).read_text()
        assert f'name="account-id" content="{draft.account_id}"' in text
        own = names[names["account_id"] == draft.account_id]["company_name"].tolist()
        others = names[names["account_id"] != draft.account_id]
        for other in others.itertuples():
            assert other.account_id not in text, (draft.file, other.account_id)
            name = str(escape(other.company_name))
            if not any(other.company_name in mine for mine in own):
                assert name not in text, (draft.file, other.company_name)
        for part in ("greeting", "value", "notice", "cta"):
            assert f'class="{part}' in text, (draft.file, part)
        contact, renewal = warehouse.execute(
            "select contact_name, renewal_date from marts.dim_accounts where account_id = ?",
            [draft.account_id],
        ).fetchone()
        features = [f for (f,) in warehouse.execute(
            "select feature from marts.fct_account_features_recent "
            "where account_id = ? and usage_rank <= 3 order by usage_rank",
            [draft.account_id],
        ).fetchall()]  # fmt: skip
        assert f"Hi {escape(strip_unsafe(first_name(contact, 'there')))}," in text, draft.file
        if features:
            assert str(escape(readable_list(features))) in text, draft.file
        if draft.kind == "alert" and "renewal is coming up" in text:
            assert f"coming up on {renewal.isoformat()}" in text, draft.file


def test_rebuilding_the_same_night_leaves_no_stale_account_page(warehouse, latest, tmp_path):
    import shutil

    from pipeline_config import load_config
    from reports.site.build import SiteSettings, build_site
    from reports.winback import read_reactivations, read_winback

    run = tmp_path / "run"
    shutil.copytree(latest, run)
    stale = run / "accounts" / "a-no-longer-alerted.html"
    stale.write_text("yesterday's page")
    config = load_config()
    meta = build_site(
        warehouse,
        run,
        read_winback(warehouse),
        read_reactivations(warehouse),
        pd.read_csv(run / "drafts" / "index.csv", dtype={"account_id": str}),
        SiteSettings(config["health"]["bands"], config["site"]["renewal_days"], 1),
    )
    assert not stale.exists()
    assert len(list((run / "accounts").glob("*.html"))) == meta["account_pages"]
    assert (run / "index.html").read_bytes() != b""


def test_every_link_in_the_site_points_at_a_published_file(latest: Path):
    """No broken link: every relative href of every page resolves inside latest/."""
    import re

    checked = 0
    for page in latest.rglob("*.html"):
        for href in re.findall(r'href="([^"#]+)"', page.read_text(encoding="utf-8")):
            assert "://" not in href and not href.startswith("/"), (page.name, href)
            target = (page.parent / href).resolve()
            assert target.is_file() and latest.resolve() in target.parents, (page.name, href)
            checked += 1
    assert checked > 100
