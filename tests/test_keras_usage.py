"""The README's snippet for calling a .keras export on a pandas DataFrame runs as written, on
an export of a table run with numbers, missing cells, categories and free text, and gives the
run's own predictions; the signature says how to call it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("pandas")


def readme_snippet(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- snippet: {name} .*?-->\n```python\n(.*?)```", text, re.S)
    assert found, f"README has no snippet {name}"
    return found.group(1)


@pytest.mark.slow
def test_the_readme_calls_a_keras_export_on_a_dataframe(trained, tmp_path):
    from deepgui.core.export import export_project
    from deepgui.core.predict import predict_file

    report = export_project(trained.table, "keras", tmp_path / "model.keras")
    assert report.ok, report.message
    signature = json.loads((tmp_path / "model.keras.signature.json").read_text())
    assert "tf.constant" in signature["usage"] and "model.predict refuses" in signature["usage"]
    shutil.copy(trained.data, tmp_path / "new_rows.csv")
    (tmp_path / "snippet.py").write_text(readme_snippet("keras-dataframe"), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    header = run.stdout.split("\n")[0].split()
    assert header == signature["classes"]
    first = [float(v) for v in run.stdout.split("\n")[1].split()[1:]]
    expected = predict_file(trained.table, trained.data).outputs[0]
    np.testing.assert_allclose(first, expected, atol=1e-4)
