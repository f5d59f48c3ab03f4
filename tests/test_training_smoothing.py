"""Label smoothing: fit trains towards (1 − ε)·t + ε/K, validates against the true t."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_run import run

from glassnet import SGD, Network
from glassnet.errors import GlassnetError
from glassnet.training import fit
from glassnet.training.fit import evaluate_loss, prepare_targets


def blobs(n=60, k=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    X = rng.normal(0, 3, (k, d))[y] + rng.normal(0, 1, (n, d))
    return X, y


def net(k=3, d=4, out="softmax", loss="cross_entropy"):
    return Network([d, 5, k], ["tanh", out], loss, weights="glorot_uniform",
                   reduction="mean", dtype="float64", seed=1)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3])
def test_one_batch_step_equals_the_engine_step_on_smoothed_targets(eps):
    """One full batch, plain SGD: the weights after fit are those of the engine's own
    train_step on targets computed here by hand, (1 − ε)·one-hot + ε/K."""
    X, y = blobs()
    a, b = net(), net()
    fit(a, X, y, epochs=1, batch_size=len(y), optimizer=SGD(lr=0.5), shuffle=False,
        progress=False, label_smoothing=eps, threads=1)
    T = np.eye(3)[y] * (1 - eps) + eps / 3
    b.train_step(X, T, SGD(lr=0.5))
    for la, lb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_allclose(la.W, lb.W, rtol=0, atol=1e-13)
        np.testing.assert_allclose(la.b, lb.b, rtol=0, atol=1e-13)


def test_a_single_sigmoid_output_smooths_towards_one_half():
    X, y = blobs(k=2)
    a, b = net(k=1, out="sigmoid", loss="binary_cross_entropy"), \
        net(k=1, out="sigmoid", loss="binary_cross_entropy")
    fit(a, X, y, epochs=1, batch_size=len(y), optimizer=SGD(lr=0.5), shuffle=False,
        progress=False, label_smoothing=0.2, threads=1)
    b.train_step(X, (y * 0.8 + 0.1).reshape(-1, 1), SGD(lr=0.5))
    np.testing.assert_allclose(a.layers[0].W, b.layers[0].W, rtol=0, atol=1e-13)


def test_validation_uses_the_true_targets():
    X, y = blobs(n=90)
    a = net()
    h = fit(a, X, y, epochs=2, batch_size=16, validation_split=0.3, progress=False,
            label_smoothing=0.2, threads=1)
    val = h.validation_indices
    T, labels = prepare_targets(y[val], a, len(val))
    loss, acc = evaluate_loss(a, np.asarray(X[val], dtype=float), T, labels)
    assert h["val_loss"][-1] == pytest.approx(loss, rel=1e-12)
    assert h["val_accuracy"][-1] == pytest.approx(acc)
    assert h.params["label_smoothing"] == 0.2


def test_the_callers_targets_are_not_changed():
    X, y = blobs()
    T = np.eye(3)[y]
    before = T.copy()
    fit(net(), X, T, epochs=1, progress=False, label_smoothing=0.1, threads=1)
    np.testing.assert_array_equal(T, before)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), "0.1", True])
def test_bad_values_are_refused(bad):
    X, y = blobs()
    with pytest.raises(GlassnetError, match="label_smoothing"):
        fit(net(), X, y, epochs=1, progress=False, label_smoothing=bad)


def test_regression_targets_are_refused():
    X, _ = blobs()
    T = np.random.default_rng(0).random((len(X), 3))
    with pytest.raises(GlassnetError, match="label_smoothing needs class labels"):
        fit(net(), X, T, epochs=1, progress=False, label_smoothing=0.1)


def test_cli_records_it_and_refuses_bad_values(tmp_path, capsys):
    code, _, err = run(["train", "--dataset", "digits", "--epochs", "1", "--quiet",
                        "--label-smoothing", "0.1", "--out", str(tmp_path / "m")], capsys)
    assert code == 0, err
    model = json.loads((tmp_path / "m" / "model.json").read_text())
    assert model["training"]["label_smoothing"] == 0.1
    code, _, err = run(["train", "--dataset", "digits", "--epochs", "1", "--quiet",
                        "--label-smoothing", "1", "--out", str(tmp_path / "n")], capsys)
    assert code == 2 and "--label-smoothing" in err and not (tmp_path / "n").exists()


def test_the_progress_display_says_so(tmp_path, capsys):
    code, _, err = run(["train", "--dataset", "digits", "--epochs", "1",
                        "--label-smoothing", "0.05", "--out", str(tmp_path / "m")], capsys)
    assert code == 0, err
    assert "label smoothing 0.05" in err.splitlines()[0]
