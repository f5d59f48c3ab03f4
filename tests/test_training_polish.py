"""What a new user meets: epochs counted from 1 everywhere a person reads them, Ctrl-C that
keeps the best weights when asked, one updating display in notebooks, and a plain message
when --dataset mnist points at Fashion-MNIST files."""

from __future__ import annotations

import gzip
import json
import re

import numpy as np
import pytest
from cli_run import run
from shared_data import SHARED

import glassnet.training.classifier as classifier_module
from glassnet.data import write_idx
from glassnet.training import Callback, Classifier
from glassnet.training import progress as progress_module

EPOCH_LINE = re.compile(r"^epoch +(\d+)/(\d+) +loss \S+ +val_loss (\S+)", re.M)


# ------------------------------------------------------------------ numbering
def test_epochs_count_from_1_in_progress_messages_model_and_history(tmp_path, capsys):
    """Adam at 10× its step overshoots on digits, so an earlier epoch is the best and is
    restored; every place that names it must name the same epoch."""
    code, _, err = run(["train", "--dataset", "digits", "--epochs", "30", "--early-stopping",
                        "3", "--lr", "0.01", "--hidden", "32", "--out", tmp_path / "m",
                        "--history", tmp_path / "h.jsonl"], capsys)
    assert code == 0, err
    shown = {int(e): float(v) for e, _, v in EPOCH_LINE.findall(err)}
    assert min(shown) == 1  # the display counts from 1
    best = min(shown, key=shown.get)
    last = max(shown)
    assert best != last, "this setting is chosen to restore an earlier epoch"
    assert f"restored the weights of epoch {best}, the best" in err
    assert f"saved {tmp_path / 'm'} (weights of epoch {best}," in err
    training = json.loads((tmp_path / "m" / "model.json").read_text())["training"]
    assert training["best_epoch"] == best and training["restored_epoch"] == best
    # the --history file keeps the contract's 0-based `epoch`: record k is display epoch k + 1
    records = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [e - 1 for e in sorted(shown)]
    val = [r["val_loss"] for r in records]
    assert records[int(np.argmin(val))]["epoch"] == best - 1
    assert [round(v, 4) for v in val] == [shown[e] for e in sorted(shown)]


def test_plot_x_axis_counts_from_1(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from glassnet.plots import plot_history
    from glassnet.training import History

    h = History.from_records([{"epoch": e, "loss": 1 / (e + 1), "val_loss": [3, 1, 2][e],
                               "val_accuracy": 0.5} for e in range(3)])
    seen = {}
    real_close = plt.close

    def keep(fig=None):
        seen["fig"] = fig
    plt.close = keep
    try:
        plot_history(h, tmp_path / "c.png")
    finally:
        plt.close = real_close
    ax = seen["fig"].axes[0]
    assert ax.lines[0].get_xdata().tolist() == [1, 2, 3]
    assert "best epoch 2" in [t.get_text() for t in ax.get_legend().get_texts()]
    real_close(seen["fig"])


# -------------------------------------------------------------------- Ctrl-C
class CtrlCAt(Callback):
    """Raise KeyboardInterrupt at the start of epoch ``at`` (0-based), recording each epoch."""

    def __init__(self, at):
        self.at, self.weights, self.val = at, [], []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.state.network.get_weights())
        self.val.append(logs["val_loss"])


def _inject(monkeypatch, cb):
    real_fit = classifier_module.fit

    def fit_with(*args, callbacks=(), **kw):
        return real_fit(*args, callbacks=[*callbacks, cb], **kw)
    monkeypatch.setattr(classifier_module, "fit", fit_with)


def test_ctrl_c_saves_best_so_far_and_says_so(tmp_path, capsys, monkeypatch):
    cb = CtrlCAt(5)
    _inject(monkeypatch, cb)
    code, _, err = run(["train", "--dataset", "digits", "--epochs", "20", "--lr", "0.01",
                        "--hidden", "32", "--save-on-interrupt", "--out", tmp_path / "m"],
                       capsys)
    assert code == 130
    best = int(np.argmin(cb.val))  # 0-based, from the values the callback saw
    assert f"interrupted during epoch 6; restored the weights of epoch {best + 1}, the best " \
           "so far" in err
    assert f"saved {tmp_path / 'm'} after the interrupt (weights of epoch {best + 1}" in err
    model = Classifier.load(tmp_path / "m")
    for name, w in model.network.get_weights().items():
        np.testing.assert_array_equal(w, cb.weights[best][name])
    assert model.training["stop_reason"] == "interrupted"
    assert model.training["restored_epoch"] == best + 1 and model.training["epochs_run"] == 5


def test_ctrl_c_without_the_option_writes_nothing(tmp_path, capsys, monkeypatch):
    _inject(monkeypatch, CtrlCAt(2))
    code, _, err = run(["train", "--dataset", "digits", "--epochs", "5", "--hidden", "8",
                        "--out", tmp_path / "m"], capsys)
    assert code == 130 and not (tmp_path / "m").exists()
    assert "interrupted; no model was written (--save-on-interrupt keeps" in err


def test_ctrl_c_before_any_epoch_ends_writes_nothing(tmp_path, capsys, monkeypatch):
    _inject(monkeypatch, CtrlCAt(0))
    code, _, err = run(["train", "--dataset", "digits", "--epochs", "5", "--hidden", "8",
                        "--save-on-interrupt", "--out", tmp_path / "m"], capsys)
    assert code == 130 and not (tmp_path / "m").exists()
    assert "no epoch had finished" in err


# ------------------------------------------------------------------ notebooks
def test_notebook_gets_one_updating_display(capsys, monkeypatch):
    from glassnet.data import load_dataset

    monkeypatch.setattr(progress_module, "in_notebook", lambda: True)
    train = load_dataset("digits", "train", classes=[5, 6])
    clf = Classifier.build(64, train.class_names, hidden=[8], seed=0)
    h = clf.fit(train.X, train.y, epochs=12, batch_size=32)
    err = capsys.readouterr().err
    assert not EPOCH_LINE.search(err), "no line per epoch in a notebook"
    assert err.count("\n") <= 4  # the header, the bar's final state, the closing message
    assert "12/12 [" in err and "\r" in err  # one bar, redrawn in place, that reached the end
    final = err.rsplit("\r", 1)[-1]
    rec = h.records[-1]
    # the bar's text is the last epoch's numbers, without a second "12/12"
    assert f"epoch/s, loss {rec['loss']:.4f}  val_loss {rec['val_loss']:.4f}  val_accuracy " \
           f"{100 * rec['val_accuracy']:.2f}%" in final


def test_in_notebook_is_false_here():
    assert progress_module.in_notebook() is False


# ------------------------------------------------------ Fashion-MNIST for MNIST
def _fake_idx_folder(folder, images):
    folder.mkdir()
    for split, n in (("train", len(images)), ("t10k", len(images))):
        write_idx(folder / f"{split}-images-idx3-ubyte", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
        for kind in ("images-idx3", "labels-idx1"):
            raw = folder / f"{split}-{kind}-ubyte"
            with open(raw, "rb") as f, gzip.open(f"{raw}.gz", "wb") as g:
                g.write(f.read())
            raw.unlink()


def test_fashion_files_in_an_mnist_folder_synthetic(tmp_path, capsys):
    """Synthetic clothes: ink up to the frame, as Fashion-MNIST's are (MNIST keeps a margin)."""
    rng = np.random.default_rng(0)
    clothes = np.zeros((50, 28, 28), dtype=np.uint8)  # a black background ...
    for img in clothes:  # ... and a garment from the top edge to the bottom edge
        left, right = rng.integers(0, 8), rng.integers(20, 28)
        img[:, left:right] = rng.integers(1, 256, size=(28, right - left))
    _fake_idx_folder(tmp_path / "mnist", clothes)
    code, _, err = run(["train", "--dataset", "mnist", "--data-dir", tmp_path / "mnist",
                        "--out", tmp_path / "m", "--epochs", "1"], capsys)
    assert code == 2
    assert "these are Fashion-MNIST files, not MNIST" in err and "--dataset fashion-mnist" in err
    assert "delete it" not in err


def test_digits_like_files_still_called_corrupt(tmp_path, capsys):
    """Margin-respecting (MNIST-like) images with a wrong checksum: the old message stands."""
    digits = np.zeros((50, 28, 28), dtype=np.uint8)
    digits[:, 6:22, 8:20] = 200
    _fake_idx_folder(tmp_path / "mnist", digits)
    code, _, err = run(["train", "--dataset", "mnist", "--data-dir", tmp_path / "mnist",
                        "--out", tmp_path / "m", "--epochs", "1"], capsys)
    assert code == 2 and "checksum mismatch" in err and "Fashion" not in err


@pytest.mark.skipif(not (SHARED / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file(),
                    reason=f"Fashion-MNIST files not found in {SHARED} (set GLASSNET_SHARED_DATA)")
def test_real_fashion_files_in_an_mnist_folder(tmp_path, capsys):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for f in (SHARED / "fashion-mnist").glob("*.gz"):
        (folder / f.name).symlink_to(f)
    code, _, err = run(["train", "--dataset", "mnist", "--data-dir", folder, "--out",
                        tmp_path / "m", "--epochs", "1"], capsys)
    assert code == 2
    assert "these are Fashion-MNIST files, not MNIST (its SHA-256 is that of the official " \
           "Fashion-MNIST" in err


@pytest.mark.skipif(not (SHARED / "fashion-mnist" / "train-images-idx3-ubyte.gz").is_file(),
                    reason=f"Fashion-MNIST files not found in {SHARED} (set GLASSNET_SHARED_DATA)")
def test_a_file_verified_as_fashion_is_checked_again_as_mnist(tmp_path):
    """The 'checksum already matched' memo is per expected digest, not per file."""
    from glassnet.data.errors import DataError
    from glassnet.data.sources import verify_file

    real = SHARED / "fashion-mnist" / "train-labels-idx1-ubyte.gz"
    verify_file(real, "fashion-mnist")  # matches, and is remembered
    (tmp_path / real.name).symlink_to(real)
    with pytest.raises(DataError, match="these are Fashion-MNIST files, not MNIST"):
        verify_file(tmp_path / real.name, "mnist")
