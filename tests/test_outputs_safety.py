"""Output files are safe to open: neutralised CSV formulas, verified models (escaped HTML
and drafts: test_hostile_outputs.py)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from reports.publish import write_csv_safely


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


def test_owner_file_names_never_collide_and_stay_inside_their_folder():
    from reports.names import unique_slugs

    owners = ["Ana Ruiz", "ANA.RUIZ", "ana ruiz ", "李雷", "王芳", "../../etc/passwd",
              "Zoë Ödegaard", "x" * 300, "CON", ""]  # fmt: skip
    names = unique_slugs(owners, ".csv")
    assert len(set(names.values())) == len(owners)
    assert all(re.fullmatch(r"[a-z0-9-]{1,80}\.csv", n) for n in names.values()), names
    assert names["Zoë Ödegaard"] == "zoe-odegaard.csv"  # readable when nothing clashes
    assert unique_slugs(owners, ".csv") == names  # the same names every night
