"""Losses: values against hand formulas, gradients against finite differences, fused deltas
against the general chain rule, and finite values at extreme logits."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from glassnet import GlassnetError, Network, UnknownNameError, get_activation, get_loss
from glassnet.losses import LOSSES

ALL = ["half_sse", "sse", "mse", "cross_entropy", "binary_cross_entropy"]


def test_every_loss_is_registered():
    assert set(LOSSES) == set(ALL)


@pytest.mark.parametrize(("name", "y", "t", "expected"), [
    ("half_sse", [[0.974]], [[1.0]], 0.5 * 0.026**2),                 # seed 004's ½(1 − 0.974)²
    ("half_sse", [[0.5, 0.2]], [[1.0, 0.0]], 0.5 * (0.25 + 0.04)),
    ("sse", [[0.5, 0.2]], [[1.0, 0.0]], 0.25 + 0.04),
    ("mse", [[0.5, 0.2]], [[1.0, 0.0]], (0.25 + 0.04) / 2),
    ("cross_entropy", [[0.7, 0.2, 0.1]], [[1.0, 0.0, 0.0]], -math.log(0.7)),
    ("cross_entropy", [[0.7, 0.2, 0.1]], [[0.5, 0.5, 0.0]], -0.5 * math.log(0.7 * 0.2)),
    ("binary_cross_entropy", [[0.8]], [[1.0]], -math.log(0.8)),
    ("binary_cross_entropy", [[0.8, 0.3]], [[0.0, 0.25]],
     -math.log(0.2) - 0.25 * math.log(0.3) - 0.75 * math.log(0.7)),
])
def test_value_matches_hand_formula(name, y, t, expected):
    got = get_loss(name).value(np.array(y), np.array(t))
    assert got.shape == (1,)
    assert float(got[0]) == pytest.approx(expected, rel=1e-14)


def _valid_pair(name: str, rng: np.random.Generator, n: int = 4, k: int = 3):
    if name == "cross_entropy":
        return rng.dirichlet(np.ones(k), size=n), rng.dirichlet(np.ones(k), size=n)
    if name == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, size=(n, k)), rng.uniform(0, 1, size=(n, k))
    return rng.normal(size=(n, k)), rng.normal(size=(n, k))


@pytest.mark.parametrize("name", ALL)
def test_value_is_per_sample_and_matches_vectorised_formula(name):
    y, t = _valid_pair(name, np.random.default_rng(0))
    K = y.shape[1]
    expected = {
        "half_sse": lambda: 0.5 * ((y - t) ** 2).sum(axis=1),
        "sse": lambda: ((y - t) ** 2).sum(axis=1),
        "mse": lambda: ((y - t) ** 2).sum(axis=1) / K,
        "cross_entropy": lambda: -(t * np.log(y)).sum(axis=1),
        "binary_cross_entropy": lambda: -(t * np.log(y) + (1 - t) * np.log(1 - y)).sum(axis=1),
    }[name]()
    np.testing.assert_allclose(get_loss(name).value(y, t), expected, rtol=1e-13)


@pytest.mark.parametrize("name", ALL)
def test_grad_output_matches_finite_differences(name):
    loss = get_loss(name)
    y, t = _valid_pair(name, np.random.default_rng(1))
    g = loss.grad_output(y, t)
    h = 1e-6
    numeric = np.empty_like(y)
    for idx in np.ndindex(y.shape):
        dy = np.zeros_like(y)
        dy[idx] = h
        numeric[idx] = (loss.value(y + dy, t)[idx[0]] - loss.value(y - dy, t)[idx[0]]) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)


def test_mse_gradient_carries_one_over_k():
    """scikit-learn #8349: the multi-output squared-error gradient lost its 1/K."""
    y, t = np.array([[1.0, 2.0, 3.0, 4.0]]), np.zeros((1, 4))
    np.testing.assert_allclose(get_loss("mse").grad_output(y, t), 2 * y / 4)
    np.testing.assert_allclose(get_loss("sse").grad_output(y, t), 2 * y)
    np.testing.assert_allclose(get_loss("half_sse").grad_output(y, t), y)


# ------------------------------------------------------------------- logits and fused deltas
def test_cross_entropy_from_logits_equals_from_probabilities():
    rng = np.random.default_rng(2)
    z = rng.normal(scale=3, size=(5, 4))
    t = rng.dirichlet(np.ones(4), size=5)
    sm = get_activation("softmax")
    y = sm.forward(z)
    ce = get_loss("cross_entropy")
    np.testing.assert_allclose(ce.value(y, t, z, sm), ce.value(y, t), rtol=1e-12)


def test_binary_cross_entropy_from_logits_equals_from_probabilities():
    rng = np.random.default_rng(3)
    z = rng.normal(scale=3, size=(5, 4))
    t = rng.uniform(size=(5, 4))
    sg = get_activation("sigmoid")
    y = sg.forward(z)
    bce = get_loss("binary_cross_entropy")
    np.testing.assert_allclose(bce.value(y, t, z, sg), bce.value(y, t), rtol=1e-10)


@pytest.mark.parametrize("targets", ["one_hot", "soft", "unnormalised"])
def test_softmax_cross_entropy_fused_delta_equals_chain_rule(targets):
    rng = np.random.default_rng(4)
    z = rng.normal(size=(6, 3))
    t = {"one_hot": np.eye(3)[rng.integers(0, 3, 6)],
         "soft": rng.dirichlet(np.ones(3), size=6),
         "unnormalised": rng.uniform(0, 2, size=(6, 3))}[targets]
    sm, ce = get_activation("softmax"), get_loss("cross_entropy")
    y = sm.forward(z)
    assert ce.is_canonical(sm)
    fused = ce.fused_delta(sm, y, t)
    general = sm.backward(z, y, ce.grad_output(y, t))  # Jᵀ (−t / y)
    np.testing.assert_allclose(fused, general, rtol=1e-10, atol=1e-13)
    if targets != "unnormalised":
        np.testing.assert_allclose(fused, y - t, atol=1e-15)  # the familiar y − t


def test_sigmoid_bce_fused_delta_equals_chain_rule():
    rng = np.random.default_rng(5)
    z = rng.normal(scale=2, size=(6, 3))
    t = rng.uniform(size=(6, 3))
    sg, bce = get_activation("sigmoid"), get_loss("binary_cross_entropy")
    y = sg.forward(z)
    assert bce.is_canonical(sg)
    general = sg.backward(z, y, bce.grad_output(y, t))  # (y − t)/(y(1 − y)) · y(1 − y)
    np.testing.assert_allclose(bce.fused_delta(sg, y, t), general, rtol=1e-10)
    np.testing.assert_array_equal(bce.fused_delta(sg, y, t), y - t)


@pytest.mark.parametrize(("loss", "activation"), [
    ("half_sse", "sigmoid"), ("half_sse", "softmax"), ("mse", "linear"), ("sse", "tanh"),
])
def test_non_canonical_pairs_have_no_shortcut(loss, activation):
    act, lo = get_activation(activation), get_loss(loss)
    y = act.forward(np.array([[0.3, -0.2]]))
    assert not lo.is_canonical(act)
    assert lo.fused_delta(act, y, np.array([[1.0, 0.0]])) is None
    net = Network([2, 2], activation, loss, seed=0)
    assert net.fused_output_delta is False


@pytest.mark.parametrize(("loss", "activation"), [("cross_entropy", "softmax"),
                                                   ("cross_entropy", "sigmoid"),
                                                   ("binary_cross_entropy", "sigmoid")])
def test_network_output_delta_for_canonical_pairs_equals_chain_rule(loss, activation):
    rng = np.random.default_rng(6)
    net = Network([3, 4, 3], ["tanh", activation], loss, seed=2)
    assert net.fused_output_delta
    X = rng.normal(size=(5, 3))
    T = np.eye(3)[[0, 2, 1, 1, 0]]
    net.forward(X)
    net.backward(T)
    out = net.layers[-1]
    general = out.activation.backward(out.z, out.a, net.loss.grad_output(out.a, T))
    np.testing.assert_allclose(out.delta, general, rtol=1e-10, atol=1e-14)


# -------------------------------------------------------------------------- extreme logits
def test_cross_entropy_finite_and_exact_at_extreme_logits():
    sm, ce = get_activation("softmax"), get_loss("cross_entropy")
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0]])
    t = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            y = sm.forward(z)
            e = ce.value(y, t, z, sm)
            d = ce.fused_delta(sm, y, t)
    np.testing.assert_allclose(e, [0.0, 2000.0], atol=1e-12)  # log-softmax, not log(0)
    assert np.isfinite(d).all()
    np.testing.assert_array_equal(d, [[0.0, 0.0, 0.0], [1.0, 0.0, -1.0]])


def test_binary_cross_entropy_finite_and_exact_at_extreme_logits():
    sg, bce = get_activation("sigmoid"), get_loss("binary_cross_entropy")
    z = np.array([[1000.0, -1000.0, 1000.0]])
    t = np.array([[0.0, 1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            y = sg.forward(z)
            e = bce.value(y, t, z, sg)
    np.testing.assert_allclose(e, [2000.0], rtol=1e-15)


@pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy"])
def test_log_losses_without_logits_are_infinite_not_clipped(name):
    """Without z, log 0 is −∞: the true (infinite) loss, never a clamped 708.4."""
    y = np.array([[1.0, 0.0]])
    t = np.array([[0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = get_loss(name).value(y, t)
        g = get_loss(name).grad_output(y, t)
    assert e[0] == np.inf
    assert not np.isfinite(g).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("loss", "activation"), [("cross_entropy", "softmax"),
                                                   ("binary_cross_entropy", "sigmoid")])
def test_network_with_saturated_outputs_has_finite_loss_and_gradients(loss, activation, dtype):
    net = Network([2, 3], activation, loss, weights=500.0, biases=0.0, dtype=dtype)
    X = np.array([[1.0, 1.0], [-1.0, -1.0]])
    T = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            net.forward(X)
            e = net.backward(T)
    assert np.isfinite(e) and e > 0
    layer = net.layers[0]
    assert np.isfinite(layer.grad_W).all() and np.isfinite(layer.grad_b).all()


# ---------------------------------------------------------------------------- reduction
@pytest.mark.parametrize("name", ALL)
def test_network_reduction_sum_and_mean(name):
    rng = np.random.default_rng(7)
    out = "softmax" if name == "cross_entropy" else "sigmoid"
    X = rng.normal(size=(5, 3))
    T = np.eye(2)[[0, 1, 1, 0, 1]]
    nets = {r: Network([3, 2], out, name, reduction=r, seed=4) for r in ("sum", "mean")}
    per_sample = get_loss(name).value(nets["sum"].forward(X), T)
    assert nets["sum"].compute_loss(X, T) == pytest.approx(per_sample.sum(), rel=1e-13)
    assert nets["mean"].compute_loss(X, T) == pytest.approx(per_sample.mean(), rel=1e-13)
    nets["sum"].forward(X)
    nets["mean"].forward(X)
    assert nets["sum"].backward(T) == pytest.approx(5 * nets["mean"].backward(T), rel=1e-13)
    np.testing.assert_allclose(nets["sum"].losses, per_sample, rtol=1e-13)


# ------------------------------------------------------------------------------ lookup
@pytest.mark.parametrize(("alias", "name"), [
    ("categorical_crossentropy", "cross_entropy"), ("ce", "cross_entropy"),
    ("bce", "binary_cross_entropy"), ("binary_crossentropy", "binary_cross_entropy"),
])
def test_loss_aliases(alias, name):
    assert get_loss(alias).name == name
    assert get_loss({"name": alias}).name == name


def test_unknown_loss_suggests_a_name():
    with pytest.raises(UnknownNameError, match=r"unknown loss 'cross_entropi' \(did you mean "
                                               r"'cross_entropy'\?\)"):
        get_loss("cross_entropi")
    with pytest.raises(GlassnetError, match="expected one of: binary_cross_entropy"):
        Network([2, 1], "sigmoid", "hinge")
