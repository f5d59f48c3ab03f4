"""The fit loop: same result as a hand-written loop, history, validation split, divergence."""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

from glassnet import SGD, Network
from glassnet.data import stratified_split
from glassnet.errors import GlassnetError, NonFiniteError, ShapeError
from glassnet.training import (
    Callback,
    DivergenceWarning,
    EpochProgress,
    History,
    fit,
)
from glassnet.training.callbacks import CallbackList, EarlyStopping, FitState


def blobs(n=120, k=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.normal(0, 3, (k, d))
    X = centres[y] + rng.normal(0, 1, (n, d))
    return X, y


def softmax_net(d=4, k=3, dtype="float64", seed=0):
    return Network([d, 8, k], ["tanh", "softmax"], "cross_entropy", weights="glorot_uniform",
                   reduction="mean", dtype=dtype, seed=seed)


def test_fit_equals_hand_written_loop():
    """fit does exactly: a seeded permutation per epoch, batches in order, forward/backward/step."""
    X, y = blobs(n=50)
    net_a, net_b = softmax_net(), softmax_net()
    seed, bs, epochs = 3, 7, 4  # 50 rows -> 7 batches of 7 and a last one of 1
    h = fit(net_a, X, y, epochs=epochs, batch_size=bs, optimizer=SGD(lr=0.2, momentum=0.5),
            seed=seed, progress=False)

    T = np.eye(3)[y]
    rng = np.random.default_rng([seed, 1])  # the documented shuffling stream
    opt = SGD(lr=0.2, momentum=0.5)
    expected_losses = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), bs):
            idx = order[start:start + bs]
            net_b.forward(X[idx])
            total += net_b.backward(T[idx]) * len(idx)
            opt.step(net_b)
        expected_losses.append(total / len(X))
    for name, w in net_a.get_weights().items():
        np.testing.assert_allclose(w, net_b.get_weights()[name], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h["loss"], expected_losses, rtol=1e-12)


def test_history_records_and_fields():
    X, y = blobs()
    h = fit(softmax_net(), X, y, epochs=3, batch_size=16, validation_split=0.25,
            progress=False)
    assert len(h) == 3 and h.stop_reason == "completed"
    for i, rec in enumerate(h):
        assert set(rec) == {"epoch", "loss", "val_loss", "val_accuracy", "seconds"}
        assert rec["epoch"] == i and rec["seconds"] > 0
        assert 0 <= rec["val_accuracy"] <= 1
    assert h.params["n_train"] + h.params["n_val"] == len(X)


def test_validation_metrics_are_whole_set_values():
    X, y = blobs(n=90)
    Xv, yv = blobs(n=5000, seed=1)  # more rows than one evaluation chunk
    net = softmax_net()
    h = fit(net, X, y, epochs=2, batch_size=10, validation_data=(Xv, yv), progress=False)
    out = net.forward(Xv)
    expected_loss = float(np.mean(-np.log(out[np.arange(len(yv)), yv])))
    assert h["val_loss"][-1] == pytest.approx(expected_loss, rel=1e-9)
    assert h["val_accuracy"][-1] == pytest.approx(float(np.mean(out.argmax(1) == yv)))


def test_no_validation_gives_none():
    X, y = blobs()
    h = fit(softmax_net(), X, y, epochs=2, progress=False)
    assert h["val_loss"] == [None, None] and h["val_accuracy"] == [None, None]


def test_validation_split_is_stratified_and_seeded():
    X, y = blobs(n=200)
    y = np.where(np.arange(200) < 170, 0, np.where(np.arange(200) < 190, 1, 2))  # sorted labels
    h = fit(softmax_net(), X, y, epochs=1, validation_split=0.2, seed=5, progress=False)
    val = h.validation_indices
    _, expected = stratified_split(y, 0.2, 5)
    np.testing.assert_array_equal(val, expected)
    assert np.bincount(y[val], minlength=3).tolist() == [34, 4, 2]
    assert not np.array_equal(val, np.arange(160, 200))  # never "the last rows"
    h2 = fit(softmax_net(), X, y, epochs=1, validation_split=0.2, seed=6, progress=False)
    assert not np.array_equal(h2.validation_indices, val)


def test_binary_single_sigmoid_output_and_targets_matrix():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)  # linearly separable
    net = Network([4, 6, 1], ["relu", "sigmoid"], "binary_cross_entropy",
                  weights="he_normal", reduction="mean", seed=1)
    h = fit(net, X, y, epochs=30, batch_size=16, optimizer={"name": "adam", "lr": 0.01},
            validation_split=0.2, progress=False)
    assert h["val_accuracy"][-1] >= 0.95
    # the same labels given as a (N, 1) 0/1 target matrix are accepted
    h2 = fit(net.copy(), X, y.reshape(-1, 1).astype(float), epochs=1, progress=False)
    assert len(h2) == 1


def test_regression_targets_have_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    T = X @ np.array([[1.0], [-2.0]]) + 0.5
    net = Network([2, 1], "linear", "mse", weights="zeros", reduction="mean")
    h = fit(net, X, T, epochs=50, batch_size=10, optimizer=SGD(lr=0.1), validation_split=0.2,
            progress=False)
    assert h["val_accuracy"][-1] is None and h["val_loss"][-1] < 1e-3


def test_same_seed_same_run_and_float32():
    X, y = blobs()
    runs = [fit(softmax_net(dtype="float32"), X, y, epochs=2, validation_split=0.2, seed=4,
                progress=False)["loss"] for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.mark.parametrize("kwargs, match", [
    ({"epochs": 0}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"validation_split": 1.5}, "validation_split"),
    ({"validation_split": -0.1}, "validation_split"),
    ({"validation_split": 0.1, "validation_data": ([[0, 0, 0, 0]], [0])}, "either"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments(kwargs, match):
    X, y = blobs()
    with pytest.raises(GlassnetError, match=match):
        fit(softmax_net(), X, y, progress=False, **kwargs)


def test_bad_data():
    X, y = blobs()
    net = softmax_net()
    with pytest.raises(ShapeError, match=r"shape \(samples, 4\)"):
        fit(net, X[:, :3], y, progress=False)
    bad = X.copy()
    bad[5, 1] = np.nan
    with pytest.raises(NonFiniteError, match="row 5"):
        fit(net, bad, y, progress=False)
    with pytest.raises(GlassnetError, match="out of range"):
        fit(net, X, np.where(y == 2, 3, y), progress=False)
    with pytest.raises(ShapeError, match="labels but X has"):
        fit(net, X, y[:-1], progress=False)
    with pytest.raises(GlassnetError, match="integers"):
        fit(net, X, y + 0.5, progress=False)


class LrBomb(Callback):
    """Make the learning rate absurd after a given epoch, so training diverges next epoch."""

    def __init__(self, after):
        self.after = after
        self.weights = []

    def on_epoch_end(self, epoch, logs):
        self.weights.append(self.state.network.get_weights())
        if epoch == self.after:
            self.state.optimizer.lr = 1e200  # relu units then overflow to inf, the loss to nan


def relu_net():
    return Network([4, 8, 3], ["relu", "softmax"], "cross_entropy", weights="he_normal",
                   reduction="mean", seed=0)


def test_divergence_stops_and_restores_best_weights():
    X, y = blobs()
    net = relu_net()
    bomb = LrBomb(after=2)
    with pytest.warns(DivergenceWarning, match="diverged"):
        h = fit(net, X, y, epochs=10, batch_size=8, optimizer=SGD(lr=0.05),
                validation_split=0.2, callbacks=[bomb], progress=False)
    assert h.diverged and h.stop_reason == "diverged"
    assert len(h) <= 5
    assert math.isnan(h["loss"][-1]) or not math.isfinite(h["val_loss"][-1])
    best = int(np.nanargmin([v if v is not None else np.nan for v in h["val_loss"]]))
    assert h.restored_epoch == best
    for name, w in net.get_weights().items():
        np.testing.assert_array_equal(w, bomb.weights[best][name])
    assert "smaller learning rate" in h.message


def test_divergence_in_first_epoch_restores_initial_weights():
    X, y = blobs()
    net = relu_net()
    start = net.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        h = fit(net, X, y, epochs=3, batch_size=8, optimizer=SGD(lr=1e200),
                progress=False)
    assert h.diverged and h.restored_epoch is None
    assert "initial weights" in h.message
    for name, w in net.get_weights().items():
        np.testing.assert_array_equal(w, start[name])


class CountBatches(Callback):
    def __init__(self):
        self.begins, self.ends, self.sizes = 0, 0, []

    def on_batch_begin(self, batch, logs):
        self.begins += 1

    def on_batch_end(self, batch, logs):
        self.ends += 1
        self.sizes.append(logs["size"])
        assert math.isfinite(logs["loss"])


def test_batch_hooks_only_for_callbacks_that_define_them():
    state = FitState(network=None, optimizer=None)
    assert not CallbackList([EarlyStopping(), EpochProgress()], state).has_batch_hooks
    assert CallbackList([CountBatches()], state).has_batch_hooks
    X, y = blobs(n=50)
    counter = CountBatches()
    fit(softmax_net(), X, y, epochs=2, batch_size=16, callbacks=[counter], progress=False)
    assert counter.begins == counter.ends == 8  # 4 batches per epoch
    assert counter.sizes[:4] == [16, 16, 16, 2]


def test_hook_order():
    calls = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    X, y = blobs()
    fit(softmax_net(), X, y, epochs=2, callbacks=[Spy()], progress=False)
    keys = "['epoch', 'loss', 'seconds', 'val_accuracy', 'val_loss']"
    assert calls == ["train_begin", "epoch_begin 0", f"epoch_end 0 {keys}", "epoch_begin 1",
                     f"epoch_end 1 {keys}", "train_end"]


def test_progress_lines_and_quiet(capsys):
    X, y = blobs()
    stream = io.StringIO()
    fit(softmax_net(), X, y, epochs=2, validation_split=0.2, progress=EpochProgress(stream))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("training 4-8-3")
    assert lines[1].startswith("epoch 1/2  loss ") and "val_loss" in lines[1] \
        and "val_accuracy" in lines[1] and lines[1].endswith(" s")
    fit(softmax_net(), X, y, epochs=2, progress=False)
    assert capsys.readouterr().err == ""


def test_history_jsonl_round_trip(tmp_path):
    X, y = blobs()
    h = fit(softmax_net(), X, y, epochs=2, validation_split=0.2, progress=False)
    path = h.write_jsonl(tmp_path / "h.jsonl")
    back = History.read_jsonl(path)
    assert back.records == h.to_records()
    (tmp_path / "bad.jsonl").write_text('{"epoch": 0, "loss": "x"}\n')
    with pytest.raises(GlassnetError, match="line 1"):
        History.read_jsonl(tmp_path / "bad.jsonl")
    with pytest.raises(GlassnetError, match="no such file"):
        History.read_jsonl(tmp_path / "missing.jsonl")
