"""Pictures: files are written (PNG/SVG), inputs are checked, matplotlib missing is explained."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from glassnet.errors import GlassnetError
from glassnet.training import History

pytest.importorskip("matplotlib")

from glassnet import plots  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def history(n=5):
    return History.from_records([{"epoch": e, "loss": 1 / (e + 1), "val_loss": 1.2 / (e + 1),
                                  "val_accuracy": 0.5 + e / 20, "seconds": 0.1}
                                 for e in range(n)])


def test_history_png_svg_and_from_file(tmp_path):
    assert plots.plot_history(history(), tmp_path / "c.png").read_bytes()[:8] == PNG
    svg = plots.plot_history(history(), tmp_path / "c.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    path = history().write_jsonl(tmp_path / "h.jsonl")
    assert plots.plot_history(path, tmp_path / "f.png").read_bytes()[:8] == PNG


def test_history_without_validation(tmp_path):
    h = History.from_records([{"epoch": 0, "loss": 1.0}, {"epoch": 1, "loss": 0.5}])
    assert plots.plot_history(h, tmp_path / "c.png").stat().st_size > 0


def test_confusion_and_misclassified(tmp_path):
    cm = np.array([[5, 1], [0, 4]])
    assert plots.plot_confusion_matrix(cm, ["5", "6"], tmp_path / "cm.png").read_bytes()[:8] == PNG
    rng = np.random.default_rng(0)
    X = rng.random((10, 64))
    y = np.array([0, 1] * 5)
    pred = np.array([0, 0] * 5)
    proba = np.column_stack([np.linspace(0.5, 1, 10), 1 - np.linspace(0.5, 1, 10)])
    out = plots.plot_misclassified(X, y, pred, (8, 8), ["a", "b"], tmp_path / "m.png",
                                   proba=proba)
    assert out.read_bytes()[:8] == PNG
    # nothing misclassified still gives a picture
    assert plots.plot_misclassified(X, y, y, (8, 8), ["a", "b"], tmp_path / "n.png").exists()


def test_bad_input(tmp_path):
    with pytest.raises(GlassnetError, match="must end in"):
        plots.plot_history(history(), tmp_path / "c.gif")
    with pytest.raises(GlassnetError, match="does not exist"):
        plots.plot_history(history(), tmp_path / "no" / "c.png")
    with pytest.raises(GlassnetError, match="for 3 classes"):
        plots.plot_confusion_matrix(np.eye(2), ["a", "b", "c"], tmp_path / "cm.png")
    with pytest.raises(GlassnetError, match="rows of 64"):
        plots.plot_misclassified(np.zeros((2, 10)), [0, 1], [1, 0], (8, 8), ["a", "b"],
                                 tmp_path / "m.png")


def test_missing_matplotlib_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(GlassnetError, match=r"glassnet\[plot\]"):
        plots.require_matplotlib()


def test_import_glassnet_does_not_load_matplotlib():
    import subprocess

    code = ("import sys, glassnet, glassnet.training, glassnet.metrics, glassnet.model_io, "
            "glassnet.plots; bad = [m for m in ('matplotlib', 'sklearn', 'tqdm') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
