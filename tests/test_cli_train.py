"""glassnet train / evaluate / predict / plot from the command line (via main(argv))."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_run import run

from glassnet.cli import main


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """One small digits model for the whole module (3 epochs)."""
    d = tmp_path_factory.mktemp("cli")
    code = main(["train", "--dataset", "digits", "--epochs", "3", "--quiet", "--out",
                 str(d / "model"), "--history", str(d / "history.jsonl")])
    assert code == 0
    return d


@pytest.fixture(scope="module")
def pair_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_pair")
    code = main(["train", "--dataset", "digits", "--classes", "5,6", "--epochs", "5",
                 "--hidden", "16", "--quiet", "--out", str(d / "model")])
    assert code == 0
    return d / "model"


def test_train_writes_model_and_history(digits_model):
    doc = json.loads((digits_model / "model" / "model.json").read_text())
    assert doc["network"]["layers"] == [64, 256, 128, 10]  # the digits default
    assert doc["network"]["activation"][-1]["name"] == "softmax"
    assert doc["dataset"] == {"name": "digits", "classes": None}
    assert doc["preprocessing"]["image_shape"] == [8, 8]
    lines = (digits_model / "history.jsonl").read_text().splitlines()
    assert len(lines) == 3
    recs = [json.loads(line) for line in lines]
    assert [r["epoch"] for r in recs] == [0, 1, 2]
    assert all(set(r) == {"epoch", "loss", "val_loss", "val_accuracy", "seconds"} for r in recs)
    assert recs[2]["loss"] < recs[0]["loss"]


def test_evaluate_json(digits_model, capsys):
    code, out, err = run(["evaluate", digits_model / "model", "--dataset", "digits",
                          "--format", "json"], capsys)
    assert code == 0, err
    m = json.loads(out)
    for key in ("accuracy", "precision", "recall", "f1", "loss", "n", "confusion_matrix",
                "per_class"):
        assert key in m
    cm = np.array(m["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == m["n"] == 451
    assert m["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    assert m["accuracy"] > 0.8  # 3 epochs are plenty for better than chance
    assert len(m["per_class"]) == 10


def test_evaluate_text_and_train_split(digits_model, capsys):
    code, out, _ = run(["evaluate", digits_model / "model", "--split", "train"], capsys)
    assert code == 0 and "accuracy" in out and "confusion matrix" in out
    assert "samples    1346" in out


def test_binary_pair(pair_model, capsys):
    doc = json.loads((pair_model / "model.json").read_text())
    assert doc["task"] == "binary" and doc["class_names"] == ["5", "6"]
    assert doc["network"]["layers"][-1] == 1 and doc["network"]["loss"] == "binary_cross_entropy"
    code, out, _ = run(["evaluate", pair_model, "--format", "json"], capsys)
    m = json.loads(out)
    from glassnet.data import load_dataset

    n_test = load_dataset("digits", "test", classes=[5, 6]).n_samples
    assert code == 0 and m["positive_class"] == "6" and m["n"] == n_test
    cm = np.array(m["confusion_matrix"])
    tp, fp = cm[1, 1], cm[0, 1]
    assert m["precision"] == pytest.approx(tp / (tp + fp))


def test_predict_npy_csv_text_json(digits_model, tmp_path, capsys):
    from glassnet.data import load_dataset

    test = load_dataset("digits", "test")
    raw = np.rint(test.X[:4] * 16)  # predict takes pixels as the dataset stores them, 0..16
    np.save(tmp_path / "rows.npy", raw)
    np.savetxt(tmp_path / "rows.csv", raw, delimiter=",")
    code, out, err = run(["predict", digits_model / "model", tmp_path / "rows.npy",
                          "--format", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["predictions"]) == 4 and doc["classes"] == [str(i) for i in range(10)]
    for p in doc["predictions"]:
        probs = p["probabilities"]
        assert sum(probs.values()) == pytest.approx(1, abs=1e-5)
        assert p["class"] == max(probs, key=probs.get)
    code, out, _ = run(["predict", digits_model / "model", tmp_path / "rows.csv"], capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 5 and lines[0].split()[:2] == ["row", "class"]
    assert [line.split()[1] for line in lines[1:]] == [p["class"] for p in doc["predictions"]]


def test_plot_command(digits_model, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    for kind, source in [("history", digits_model / "history.jsonl"),
                         ("history", digits_model / "model"),
                         ("confusion", digits_model / "model"),
                         ("misclassified", digits_model / "model")]:
        out = tmp_path / f"{kind}.png"
        code, _, err = run(["plot", kind, source, "--out", out], capsys)
        assert code == 0, err
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_with_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    code, _, err = run(["train", "--dataset", "digits", "--classes", "0,1,2", "--epochs", "2",
                        "--hidden", "8", "--out", tmp_path / "m", "--plots", tmp_path / "p"],
                       capsys)
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "p")) == ["confusion_matrix.png", "learning_curves.png",
                                                  "misclassified.png"]
    assert "epoch 1/2" in err and "val_accuracy" in err  # the progress lines


def test_quiet_prints_nothing(tmp_path, capsys):
    code, out, err = run(["train", "--dataset", "digits", "--classes", "0,1", "--epochs", "1",
                          "--hidden", "4", "--quiet", "--out", tmp_path / "m"], capsys)
    assert code == 0 and out == "" and err == ""


BAD_TRAIN = [
    (["--validation-split", "1.5"], "--validation-split"),
    (["--validation-split", "-0.1"], "--validation-split"),
    (["--hidden", "0"], "--hidden"),
    (["--hidden", "12,x"], "--hidden"),
    (["--activation", "relux"], "unknown activation 'relux'"),
    (["--activation", "softmax"], "output layers"),
    (["--init", "he"], "unknown initializer"),
    (["--optimizer", "rmsprop"], "invalid choice"),
    (["--dtype", "float16"], "invalid choice"),
    (["--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["--classes", "5,11"], "11"),
    (["--classes", "5,5"], "more than once"),
    (["--classes", "5,"], "--classes"),
    (["--classes", "5"], "at least 2 classes"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "two"], "invalid int"),
    (["--batch-size", "0"], "--batch-size"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--early-stopping", "-1"], "--early-stopping"),
    (["--early-stopping", "3", "--validation-split", "0"], "validation"),
    (["--seed", "-2"], "--seed"),
    (["--history", "/nonexistent-folder/h.jsonl"], "--history"),
    (["--augment", "rotate:10"], "unknown augmentation"),
    (["--augment", "shift:x"], "shift:N"),
    (["--augment", "shift:-1"], "shift:N"),
    (["--augment", "shift:8"], "out of view"),  # digits are 8x8
    (["--lr-schedule", "cosine"], "invalid choice"),
    (["--lr-schedule", "plateau", "--validation-split", "0"], "validation"),
]


@pytest.mark.parametrize("extra, message", BAD_TRAIN, ids=[" ".join(b[0]) for b in BAD_TRAIN])
def test_train_bad_input_exit_2(tmp_path, capsys, extra, message):
    code, out, err = run(["train", "--dataset", "digits", "--epochs", "1", "--quiet",
                          "--out", tmp_path / "m", *extra], capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_train_requires_out(capsys):
    code, _, err = run(["train", "--dataset", "digits"], capsys)
    assert code == 2 and "--out" in err


def test_out_is_a_file_or_foreign_folder(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run(["train", "--epochs", "1", "--quiet", "--out", tmp_path / "file"], capsys)
    assert code == 2 and "not a directory" in err
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("keep me")
    code, _, err = run(["train", "--epochs", "1", "--quiet", "--out", tmp_path / "docs"], capsys)
    assert code == 2 and "refusing" in err
    assert (tmp_path / "docs" / "notes.txt").read_text() == "keep me"


def test_no_validation_turns_default_early_stopping_off(tmp_path, capsys):
    code, _, err = run(["train", "--classes", "0,1", "--hidden", "4", "--epochs", "2",
                        "--validation-split", "0", "--quiet", "--out", tmp_path / "m"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["training"]["early_stopping"] == 0 and doc["training"]["epochs_run"] == 2


def test_diverged_training_is_reported(tmp_path, capsys):
    code, _, err = run(["train", "--classes", "0,1", "--hidden", "4", "--epochs", "3",
                        "--optimizer", "sgd", "--lr", "1e300", "--quiet",
                        "--out", tmp_path / "m"], capsys)
    assert code == 2 and "diverged" in err and "No model was written" in err
    assert not (tmp_path / "m").exists()


def test_corrupt_idx_file_exit_2(tmp_path, capsys):
    d = tmp_path / "mnist"
    d.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        with gzip.open(d / name, "wb") as f:
            f.write(b"\x00\x00\x08\x03" + b"\x00" * 7)  # truncated header
    code, _, err = run(["train", "--dataset", "mnist", "--data-dir", d, "--quiet",
                        "--out", tmp_path / "m"], capsys)
    assert code == 2 and "Traceback" not in err and err.startswith("glassnet: error:")


BAD_EVALUATE = [
    (lambda d: ["evaluate", d / "missing"], "no such directory"),
    (lambda d: ["evaluate", d / "broken"], "not valid JSON"),
    (lambda d: ["evaluate", d / "model", "--classes", "1,0,2,3,4,5,6,7,8,9"],
     "the model's classes"),
    (lambda d: ["evaluate", d / "model", "--dataset", "mnst"], "unknown dataset"),
    (lambda d: ["evaluate", d / "model", "--split", "val"], "invalid choice"),
    (lambda d: ["evaluate", d / "model", "--format", "xml"], "invalid choice"),
    (lambda d: ["predict", d / "model", d / "missing.npy"], "missing.npy"),
    (lambda d: ["predict", d / "model", d / "wide.npy"], "65"),
    (lambda d: ["predict", d / "broken", d / "wide.npy"], "not valid JSON"),
    (lambda d: ["plot", "history", d / "missing.jsonl"], "no such file"),
    (lambda d: ["plot", "confusion", d / "model", "--out", d / "x.gif"], ".png"),
    (lambda d: ["plot", "pie", d / "model"], "invalid choice"),
]


@pytest.mark.parametrize("argv, message", BAD_EVALUATE)
def test_evaluate_predict_plot_bad_input_exit_2(digits_model, tmp_path, capsys, argv, message):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.json").write_text("{")
    (broken / "weights.npz").write_bytes(b"")
    np.save(tmp_path / "wide.npy", np.zeros((2, 65)))
    d = digits_model
    args = argv(d)
    args = [tmp_path / a.name if isinstance(a, Path) and a.name in
            ("broken", "wide.npy", "missing.npy", "missing.jsonl", "x.gif") else a for a in args]
    code, _, err = run(args, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_subprocess_end_to_end(tmp_path):
    """The installed entry point, as a user runs it."""
    env = {**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"}
    cmd = [sys.executable, "-m", "glassnet"]
    r = subprocess.run(cmd + ["train", "--dataset", "digits", "--classes", "3,8", "--epochs",
                              "3", "--hidden", "16", "--quiet", "--out", str(tmp_path / "m")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(cmd + ["evaluate", str(tmp_path / "m"), "--format", "json"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    from glassnet.data import load_dataset

    assert json.loads(r.stdout)["n"] == load_dataset("digits", "test", classes=[3, 8]).n_samples
    r = subprocess.run(cmd + ["evaluate", str(tmp_path / "nope")], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("glassnet: error: model")
    assert "Traceback" not in r.stderr


def test_augment_and_lr_schedule_are_recorded(tmp_path, capsys):
    code, _, err = run(["train", "--classes", "0,1", "--hidden", "8", "--epochs", "4",
                        "--augment", "shift:1", "--out", tmp_path / "m"], capsys)
    assert code == 0, err
    assert "augment shift:1" in err  # the progress header says so
    training = json.loads((tmp_path / "m" / "model.json").read_text())["training"]
    assert training["augment"] == "shift:1"
    assert training["lr_schedule"] == {"name": "step", "milestones": [2, 3], "factor": 0.3}
    code, _, err = run(["train", "--classes", "0,1", "--hidden", "8", "--epochs", "3",
                        "--augment", "none", "--lr-schedule", "plateau", "--quiet",
                        "--out", tmp_path / "p"], capsys)
    assert code == 0, err
    training = json.loads((tmp_path / "p" / "model.json").read_text())["training"]
    assert training["augment"] is None and training["reduce_lr_patience"] == 2
    assert training["lr_schedule"] == {"name": "plateau", "patience": 2, "factor": 0.5}


def test_default_augmentation_follows_the_dataset(tmp_path, capsys):
    from glassnet.training import recommended

    code, _, err = run(["train", "--classes", "0,1", "--hidden", "8", "--epochs", "1",
                        "--quiet", "--out", tmp_path / "m"], capsys)
    assert code == 0, err
    training = json.loads((tmp_path / "m" / "model.json").read_text())["training"]
    expected = recommended("digits")["augment"]
    assert training["augment"] == (None if expected == "none" else expected)
    assert recommended("mnist")["augment"].startswith("shift:")


def test_augment_shift_needs_images(tmp_path, capsys, monkeypatch):
    """Data without an image shape cannot be shifted: one clear error, exit 2, no model."""
    import dataclasses

    import glassnet.data

    real = glassnet.data.load_dataset

    def no_images(*args, **kwargs):
        return dataclasses.replace(real(*args, **kwargs), image_shape=None)

    monkeypatch.setattr(glassnet.data, "load_dataset", no_images)
    code, _, err = run(["train", "--classes", "0,1", "--epochs", "1", "--quiet",
                        "--augment", "shift:2", "--out", tmp_path / "m"], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.startswith("glassnet: error: --augment shift:2") and "image shape" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()
