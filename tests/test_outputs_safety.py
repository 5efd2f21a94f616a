"""Output files are safe to open: escaped HTML, neutralised CSV formulas, verified models."""

from __future__ import annotations

import pandas as pd
import pytest

from reports.publish import write_csv_safely
from reports.render import render_alert_page

HOSTILE = '<script>alert("x")</script> & Co'


def test_account_names_are_escaped_in_the_html_page():
    alerts = pd.DataFrame(
        [{"alert_id": "AL-A1-20261101", "account_id": "A1", "company_name": HOSTILE,
          "csm_owner": "Ana", "severity": "high", "is_new_today": True, "reason": HOSTILE,
          "evidence": "logins -50%", "playbook_step": "call", "due_by": "2026-11-02 00:00 UTC",
          "revenue_at_risk": 480.0}]
    )  # fmt: skip
    page = render_alert_page(
        alerts,
        pd.DataFrame(columns=["account_id"]),
        {"as_of_date": "2026-11-01", "model_version": "v", "scored_accounts": 1,
         "by_severity": {"high": 1}, "revenue_at_risk": 480.0, "open_alerts": 1,
         "deferred": 0, "do_not_contact": 0, "automated_only": 0,
         "stale_sources": [{"source_name": HOSTILE, "reason": "old"}]},
    )  # fmt: skip
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co") == 3


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path):
    frame = pd.DataFrame(
        {"company_name": ['=HYPERLINK("http://x")', "+1", "Plain"], "n": [1, 2, 3]}
    )
    text = write_csv_safely(frame, tmp_path / "out.csv").read_text()
    assert "'=HYPERLINK" in text and "'+1" in text and "\nPlain," in text


def test_a_tampered_model_artefact_is_refused_before_unpickling(nightly_run, demo_dirs):
    import shutil

    from ml.artifacts import load_model

    models = tmp_models = demo_dirs.root / "tampered_models"
    shutil.copytree(demo_dirs.outputs / "models", tmp_models)
    _, card = load_model(models)
    with (models / card["version"] / "model.joblib").open("ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(ValueError, match="does not match its model card"):
        load_model(models)
