"""The Network: dtypes, update modes, traces, persistence, and what backward does not compute."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet import SGD, Adam, GlassnetError, Network, Trace, run_updates

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
HEADS = [("sigmoid", "half_sse"), ("softmax", "cross_entropy"),
         ("sigmoid", "binary_cross_entropy"), ("softmax", "mse"), ("linear", "sse")]


def data(n=5, n_in=3, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), np.eye(k)[rng.integers(0, k, n)]


# -------------------------------------------------------------------------------- dtype
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["sgd", "nesterov", "adam"])
@pytest.mark.parametrize("head", HEADS, ids=[f"{a}-{b}" for a, b in HEADS])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_dtype_is_kept_through_forward_backward_update(hidden, head, optimizer, dtype):
    """No silent upcast: every z, a, δ, gradient, parameter and loss stays in the network dtype."""
    out, loss = head
    net = Network([3, 4, 3], [hidden, out], loss, reduction="mean", dtype=dtype, seed=1)
    opt = {"sgd": SGD(0.1), "nesterov": SGD(0.1, momentum=0.9, nesterov=True),
           "adam": Adam()}[optimizer]
    X, T = data()  # float64 data: the network casts it
    for _ in range(2):
        y = net.forward(X)
        net.backward(T)
        opt.step(net)
    assert y.dtype == dtype
    for layer in net.layers:
        for name in ("x", "z", "a", "delta", "grad_W", "grad_b", "W", "b"):
            assert getattr(layer, name).dtype == dtype, (name, layer)
    assert net.losses.dtype == dtype
    for state in opt._state.values():
        assert all(arr.dtype == dtype for arr in state.values())
    trace = net.trace()
    assert all(lt.z.dtype == dtype and lt.delta.dtype == dtype for lt in trace.layers)
    assert net.predict(X).dtype == dtype


def test_float32_run_updates_and_integer_inputs():
    net = Network([2, 3, 1], "sigmoid", "half_sse", weights=1.0, biases=1.0, dtype="float32")
    (u,) = run_updates(net, [[1, 0]], [[1]], lr=0.1)  # Python ints in
    for lt in u.layers:
        for name in ("x", "z", "a", "delta", "grad_W", "grad_b", "W", "b", "W_after", "b_after"):
            assert getattr(lt, name).dtype == np.float32, name
    # the same numbers as float64, to float32 precision (seed 004 1a: w1 → 1.0000066641)
    assert float(u.layers[0].W_after[0, 0]) == pytest.approx(1.0000066641, abs=1e-7)


# --------------------------------------------------------------------------- update modes
def per_sample_gradients(net: Network, X, T):
    grads = []
    for x, t in zip(X, T, strict=True):
        single = net.copy()
        single.reduction = "sum"
        single.forward(x[None])
        single.backward(t[None])
        grads.append({name: g.copy() for name, _, g in single.parameters()})
    return grads


@pytest.mark.parametrize("mode", ["batch", "batch_mean"])
def test_batch_gradient_is_sum_or_mean_of_per_sample_gradients(mode):
    net = Network([3, 4, 3], ["tanh", "softmax"], "cross_entropy", seed=2)
    X, T = data(n=6)
    singles = per_sample_gradients(net, X, T)
    (u,) = run_updates(net, X, T, lr=0.5, mode=mode)
    assert u.samples == tuple(range(6)) and u.reduction == ("sum" if mode == "batch" else "mean")
    reduce = np.sum if mode == "batch" else np.mean
    for l, lt in enumerate(u.layers, start=1):
        np.testing.assert_allclose(lt.grad_W, reduce([g[f"W{l}"] for g in singles], axis=0),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(lt.grad_b, reduce([g[f"b{l}"] for g in singles], axis=0),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(lt.W_after, lt.W - 0.5 * lt.grad_W, rtol=1e-15)
    losses = [float(x) for x in u.losses]
    assert u.loss == pytest.approx(sum(losses) if mode == "batch" else np.mean(losses))


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       hidden=st.sampled_from(HIDDEN), head=st.sampled_from(HEADS),
       n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_batch_gradient_is_sum_of_per_sample_gradients_property(sizes, hidden, head, n, seed):
    out, loss = head
    sizes[-1] = max(sizes[-1], 2)
    acts = [hidden] * (len(sizes) - 2) + [out]
    net = Network(sizes, acts, loss, weights="glorot_normal", biases="normal", seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    singles = per_sample_gradients(net, X, T)
    mean_net = net.copy()
    mean_net.reduction = "mean"
    for reduction, target in (("sum", net), ("mean", mean_net)):
        target.forward(X)
        target.backward(T)
        reduce = np.sum if reduction == "sum" else np.mean
        for name, _, grad in target.parameters():
            np.testing.assert_allclose(grad, reduce([g[name] for g in singles], axis=0),
                                       rtol=1e-10, atol=1e-13)


def test_mean_reduction_delta_carries_one_over_n():
    X, T = data(n=4)
    nets = {r: Network([3, 4, 3], "sigmoid", "half_sse", reduction=r, seed=3)
            for r in ("sum", "mean")}
    for net in nets.values():
        net.forward(X)
        net.backward(T)
    for ls, lm in zip(nets["sum"].layers, nets["mean"].layers, strict=True):
        np.testing.assert_allclose(lm.delta, ls.delta / 4, rtol=1e-14)
        np.testing.assert_allclose(lm.grad_W, ls.grad_W / 4, rtol=1e-14)


def test_sgd_mode_applies_updates_sequentially():
    net = Network([3, 4, 3], ["relu", "sigmoid"], "half_sse", seed=4)
    X, T = data(n=3, seed=5)
    reference = net.copy()
    updates = run_updates(net, X, T, lr=0.2, mode="sgd", epochs=2)
    assert [u.samples for u in updates] == [(0,), (1,), (2,)] * 2
    assert [u.epoch for u in updates] == [0, 0, 0, 1, 1, 1]
    for i, u in enumerate(updates):
        # each step starts from the previous step's result ...
        if i:
            for lt, prev in zip(u.layers, updates[i - 1].layers, strict=True):
                np.testing.assert_array_equal(lt.W, prev.W_after)
                np.testing.assert_array_equal(lt.b, prev.b_after)
        # ... and is one plain SGD step on that one sample
        j = u.samples[0]
        reference.train_step(X[j:j + 1], T[j:j + 1], SGD(lr=0.2))
        for lt, layer in zip(u.layers, reference.layers, strict=True):
            np.testing.assert_allclose(lt.W_after, layer.W, rtol=1e-14)
    for layer, lt in zip(net.layers, updates[-1].layers, strict=True):
        np.testing.assert_array_equal(layer.W, lt.W_after)


def test_batch_mode_epochs():
    net = Network([3, 2], "sigmoid", "half_sse", seed=6)
    X, T = data(n=4, k=2)
    updates = run_updates(net, X, T, lr=0.1, mode="batch", epochs=3)
    assert [u.epoch for u in updates] == [0, 1, 2]
    assert updates[2].loss < updates[0].loss
    np.testing.assert_array_equal(updates[1].layers[0].W, updates[0].layers[0].W_after)


def test_run_updates_validates_its_arguments():
    net = Network([3, 2], seed=0)
    X, T = data(n=2, k=2)
    with pytest.raises(GlassnetError, match=r"unknown mode 'online'.*expected one of: batch"):
        run_updates(net, X, T, lr=0.1, mode="online")
    with pytest.raises(GlassnetError, match="epochs must be a positive integer"):
        run_updates(net, X, T, lr=0.1, epochs=0)
    with pytest.raises(GlassnetError, match="2 inputs but 1 targets"):
        run_updates(net, X, T[:1], lr=0.1)
    with pytest.raises(GlassnetError, match="learning rate"):
        run_updates(net, X, T, lr=-1)


def test_train_step_returns_the_loss_before_the_update():
    net = Network([3, 4, 3], "tanh", "half_sse", seed=7)
    X, T = data()
    before = net.compute_loss(X, T)
    assert net.train_step(X, T, SGD(0.1)) == pytest.approx(before, rel=1e-15)
    assert net.compute_loss(X, T) < before


# ------------------------------------------------------- the input layer's gradient is skipped
class Watched(np.ndarray):
    """A weight matrix that logs the shape of every product it takes part in."""

    log: list = []

    def __array_finalize__(self, obj):
        self.tag = getattr(obj, "tag", None)

    @staticmethod
    def _plain(x):
        return x.view(np.ndarray) if isinstance(x, Watched) else x

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        tags = [i.tag for i in inputs if isinstance(i, Watched)]
        if "out" in kwargs:
            kwargs["out"] = tuple(self._plain(o) for o in kwargs["out"])
        result = getattr(ufunc, method)(*(self._plain(i) for i in inputs), **kwargs)
        if ufunc is np.matmul:
            Watched.log.extend((tag, result.shape) for tag in tags)
        return result

    def __array_function__(self, func, types, args, kwargs):
        tags = [a.tag for a in args if isinstance(a, Watched)]
        result = func(*(self._plain(a) for a in args), **kwargs)
        if func in (np.dot, np.einsum, np.tensordot, np.inner):
            Watched.log.extend((tag, np.shape(result)) for tag in tags)
        return result


def test_input_layer_gradient_is_never_computed():
    """δ of the inputs (δ¹ W¹, shape (N, inputs)) is useless: backward must not compute it."""
    N, sizes = 4, [5, 3, 2]
    net = Network(sizes, "sigmoid", "half_sse", seed=8)
    plain = net.copy()
    for l, layer in enumerate(net.layers, start=1):
        layer.W = layer.W.view(Watched)
        layer.W.tag = f"W{l}"
    X = np.random.default_rng(9).normal(size=(N, 5))
    T = np.random.default_rng(10).uniform(size=(N, 2))
    Watched.log = []
    net.forward(X)
    net.backward(T)
    assert ("W1", (N, 3)) in Watched.log        # forward z¹ = X W¹ᵀ is seen ...
    assert ("W2", (N, 3)) in Watched.log        # ... and so is δ¹ = δ² W² (layer 2's input)
    assert ("W1", (N, 5)) not in Watched.log    # but never δ¹ W¹ (the inputs' gradient)
    plain.forward(X)
    plain.backward(T)
    for lw, lp in zip(net.layers, plain.layers, strict=True):
        np.testing.assert_allclose(lw.grad_W, lp.grad_W, rtol=1e-15)


# ---------------------------------------------------------------------------------- trace
def test_trace_is_a_read_only_copy():
    net = Network([3, 4, 3], "tanh", "half_sse", seed=11)
    X, T = data()
    net.forward(X)
    net.backward(T)
    trace = net.trace()
    assert isinstance(trace, Trace)
    saved = {(l, name): getattr(lt, name).copy() for l, lt in enumerate(trace.layers)
             for name in ("W", "b", "x", "z", "a", "delta", "grad_W", "grad_b")}
    for _ in range(3):
        net.train_step(X * 2, T, SGD(0.5))
    for (l, name), value in saved.items():
        arr = getattr(trace.layers[l], name)
        np.testing.assert_array_equal(arr, value)
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[...] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        trace.loss = 0.0
    np.testing.assert_array_equal(trace.inputs, X)
    np.testing.assert_array_equal(trace.outputs, trace.layers[-1].a)


def test_updates_are_read_only_too():
    net = Network([2, 2], "sigmoid", seed=0)
    (u,) = run_updates(net, [[1, 0]], [[1, 0]], lr=0.1)
    W_after = u.layers[0].W_after.copy()
    net.train_step([[1, 0]], [[1, 0]], SGD(1.0))
    np.testing.assert_array_equal(u.layers[0].W_after, W_after)
    assert not u.layers[0].W_after.flags.writeable


def test_trace_samples_selects_rows():
    net = Network([3, 4, 3], "sigmoid", "half_sse", seed=12)
    X, T = data(n=6)
    net.forward(X)
    net.backward(T)
    full, part = net.trace(), net.trace(samples=[4, 1])
    for lf, lp in zip(full.layers, part.layers, strict=True):
        for name in ("x", "z", "a", "delta"):
            np.testing.assert_array_equal(getattr(lp, name), getattr(lf, name)[[4, 1]])
        np.testing.assert_array_equal(lp.grad_W, lf.grad_W)  # the batch's gradient, whole
        np.testing.assert_array_equal(lp.W, lf.W)
    np.testing.assert_array_equal(part.losses, full.losses[[4, 1]])
    np.testing.assert_array_equal(part.inputs, X[[4, 1]])


def test_trace_before_any_pass_is_an_error():
    with pytest.raises(GlassnetError, match="nothing to trace"):
        Network([2, 2]).trace()


def test_trace_after_forward_only_shows_no_stale_backward_values():
    net = Network([5, 3, 2], "sigmoid", "half_sse", weights=0.1, biases=0.0)
    run_updates(net, [[1, 1, 0, 0, 0]], [[1, 0]], lr=1.0)
    net.forward([[1, 0, 0, 0, 1]])
    try:
        trace = net.trace()
    except GlassnetError:
        return  # refusing is fine too
    assert math.isnan(trace.loss) and trace.losses is None
    assert all(lt.delta is None and lt.grad_W is None for lt in trace.layers)


def test_conventions_state_the_reduction_and_output_delta():
    c = Network([3, 2], "softmax", "cross_entropy", reduction="mean").conventions()
    assert "mean" in c["reduction"] and "1/N" in c["reduction"]
    assert "y − t" in c["output_delta"]
    c = Network([3, 2], "tanh", "half_sse", biases=None).conventions()
    assert c["biases"] == "none" and "∂E/∂y" in c["output_delta"]
    assert "fixed" in Network([3, 2], update_biases=False).conventions()["biases"]


# --------------------------------------------------------------------- forward and buffers
def test_forward_returns_a_copy_and_accepts_one_dimensional_input():
    net = Network([2, 3, 1], "sigmoid", seed=0)
    y = net.forward([1.0, 0.0])  # one sample of width 2
    assert y.shape == (1, 1)
    y[...] = 42.0
    assert net.layers[-1].a[0, 0] != 42.0
    net1 = Network([1, 2], "linear", weights=[[[2.0], [3.0]]], biases=0.0)
    np.testing.assert_array_equal(net1.forward([1.0, 2.0, 3.0]),  # width 1: three samples
                                  [[2.0, 3.0], [4.0, 6.0], [6.0, 9.0]])


def test_forward_is_x_w_transpose_plus_b():
    W1 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    b1 = np.array([0.5, -0.5, 1.0])
    net = Network([2, 3], "linear", weights=[W1], biases=[b1])
    X = np.array([[1.0, -1.0], [2.0, 0.5]])
    np.testing.assert_allclose(net.forward(X), X @ W1.T + b1)


def test_buffers_reused_across_batch_sizes_give_correct_results():
    net = Network([3, 5, 2], "tanh", seed=13)
    fresh = net.copy()
    rng = np.random.default_rng(14)
    batches = [rng.normal(size=(n, 3)) for n in (3, 5, 3, 1, 7, 2, 9, 3)]  # > 4 sizes: eviction
    outputs = [net.forward(X) for X in batches]
    for X, y in zip(batches, outputs, strict=True):
        np.testing.assert_allclose(y, np.tanh(np.tanh(X @ fresh.layers[0].W.T)
                                              @ fresh.layers[1].W.T), rtol=1e-14)


def test_predict_in_chunks_equals_forward():
    net = Network([3, 4, 2], ["relu", "softmax"], "cross_entropy", seed=15)
    X = np.random.default_rng(16).normal(size=(23, 3))
    np.testing.assert_allclose(net.predict(X, batch_size=5), net.forward(X), rtol=1e-15)


# ------------------------------------------------------------------------------ persistence
@pytest.mark.parametrize("kwargs", [
    {},
    {"biases": None},
    {"update_biases": False, "reduction": "mean"},
    {"dtype": "float32"},
])
def test_config_and_weights_round_trip(kwargs):
    acts = [{"name": "leaky_relu", "alpha": 0.2}, "tanh", "softmax"]
    net = Network([4, 5, 3, 3], acts, "cross_entropy", weights="he_normal",
                  **({"biases": "normal"} | kwargs), seed=17)
    config = json.loads(json.dumps(net.get_config()))  # JSON-serialisable
    weights = net.get_weights()
    rebuilt = Network.from_config(config, weights)
    assert rebuilt.get_config() == net.get_config()
    assert rebuilt.layers[0].activation.alpha == 0.2
    for name, value in rebuilt.get_weights().items():
        np.testing.assert_array_equal(value, weights[name])
        assert value.dtype == net.dtype
    X = np.random.default_rng(18).normal(size=(6, 4))
    np.testing.assert_array_equal(rebuilt.forward(X), net.forward(X))
    assert sorted(weights) == sorted(
        [f"W{l}" for l in (1, 2, 3)] + ([] if kwargs.get("biases", 1) is None
                                        else [f"b{l}" for l in (1, 2, 3)]))


def test_get_weights_returns_copies_and_set_weights_writes_in_place():
    net = Network([2, 3, 1], seed=19)
    weights = net.get_weights()
    weights["W1"][...] = 7.0
    assert not (net.layers[0].W == 7.0).any()
    W1 = net.layers[0].W
    net.set_weights(weights)
    assert net.layers[0].W is W1 and (W1 == 7.0).all()


def test_copy_is_independent_and_can_change_dtype():
    net = Network([3, 4, 2], "sigmoid", seed=20)
    c32 = net.copy(dtype="float32")
    assert c32.dtype == np.float32 and all(l.W.dtype == np.float32 for l in c32.layers)
    np.testing.assert_allclose(c32.layers[0].W, net.layers[0].W, rtol=1e-7)
    c = net.copy()
    c.layers[0].W[...] = 0.0
    assert (net.layers[0].W != 0).any()
    X = np.random.default_rng(21).normal(size=(5, 3))
    np.testing.assert_allclose(c32.forward(X), net.forward(X), rtol=1e-6)
    assert net.copy(dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("problem", ["missing b2", "bad W2 shape", "extra key"])
def test_failed_set_weights_leaves_the_network_unchanged(problem):
    net = Network([2, 3, 1], weights="glorot_normal", biases="normal", seed=22)
    before = net.get_weights()
    bad = {name: np.zeros_like(value) for name, value in before.items()}
    if problem == "missing b2":
        del bad["b2"]
    elif problem == "bad W2 shape":
        bad["W2"] = np.zeros((3, 1))
    else:
        bad["W3"] = np.zeros((1, 1))
    with pytest.raises(GlassnetError):
        net.set_weights(bad)
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(value, before[name])
