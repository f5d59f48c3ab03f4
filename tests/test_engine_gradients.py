"""Backpropagation against central finite differences, over random networks (hypothesis).

Every architecture (1-3 hidden layers of 1-6 units), every activation, every
loss with targets valid for it, both reductions, with, without and with
frozen biases: the analytic gradient of every weight and bias must match
``glassnet.gradient_check``'s central differences to 1e-6 relative, in float64.

Finite-difference settings. A central difference with step h carries a
rounding error of about ε·|E|/h (ε = 2.2e-16), so its *absolute* accuracy
scales with the loss. gradient_check's default h = 1e-6 with a fixed floor of
1e-4 reports spurious failures for correct networks whose loss is ~10 (see
``test_default_settings_do_not_fail_a_correct_network`` below, reported to
the lead); these tests use h = 1e-5 and a floor of 1e-3·max(1, |E|): every
gradient above the floor must agree to 1e-6 relative, smaller ones to
1e-9·max(1, |E|) absolute. A bug (a missing ½, a transposed matrix, a lost
1/K or 1/N) is off by far more than that.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from glassnet import Network, gradient_check

STEP = 1e-5
TOL = 1e-6
KINK_MARGIN = 1e-4  # |z| closer than this to relu's kink: finite differences are meaningless

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "linear",
               {"name": "leaky_relu", "alpha": 0.2}]
OUTPUTS = {  # output activations for which each loss is defined
    "half_sse": ELEMENTWISE + ["softmax"],
    "sse": ELEMENTWISE + ["softmax"],
    "mse": ELEMENTWISE + ["softmax"],
    "cross_entropy": ["softmax", "sigmoid"],         # log y needs y in (0, 1]
    "binary_cross_entropy": ["sigmoid"],             # independent probabilities in (0, 1)
}
SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw, losses=tuple(OUTPUTS), reductions=("sum", "mean"),
             biases=("updated", "frozen", "none")):
    """A random network and a batch (X, T) valid for its loss."""
    loss = draw(st.sampled_from(losses))
    n_hidden = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 6)) for _ in range(n_hidden + 2)]
    hidden = [draw(st.sampled_from(ELEMENTWISE)) for _ in range(n_hidden)]
    output = draw(st.sampled_from(OUTPUTS[loss]))
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)  # a softmax over one unit is the constant 1
    bias = draw(st.sampled_from(biases))
    reduction = draw(st.sampled_from(reductions))
    n = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    net = Network(sizes, hidden + [output], loss, weights="glorot_normal",
                  biases=None if bias == "none" else "glorot_normal",
                  update_biases=bias != "frozen", reduction=reduction, seed=seed)
    rng = np.random.default_rng(seed)
    K = sizes[-1]
    X = rng.uniform(-2, 2, size=(n, sizes[0]))
    if loss == "cross_entropy":
        if draw(st.booleans()):
            T = np.eye(K)[rng.integers(0, K, n)]           # one-hot labels
        else:
            T = rng.dirichlet(np.ones(K), size=n)          # probability vectors
    elif loss == "binary_cross_entropy":
        T = rng.uniform(0, 1, size=(n, K))
        T[rng.random((n, K)) < 0.3] = 1.0                  # some hard labels too
    else:
        T = rng.uniform(-1, 1, size=(n, K))
    return net, X, T


def away_from_kinks(net: Network, X: np.ndarray) -> bool:
    net.forward(X)
    return all(np.abs(layer.z).min() > KINK_MARGIN for layer in net.layers
               if layer.activation.name in ("relu", "leaky_relu"))


def check(net: Network, X: np.ndarray, T: np.ndarray):
    assume(away_from_kinks(net, X))
    floor = 1e-3 * max(1.0, abs(net.compute_loss(X, T)))
    report = gradient_check(net, X, T, h=STEP, floor=floor)
    assert report.ok(TOL), f"{net}\n{report}"
    return report


@SETTINGS
@given(problems())
def test_backprop_matches_finite_differences(problem):
    net, X, T = problem
    report = check(net, X, T)
    expected = {f"W{l}" for l in range(1, len(net.layers) + 1)}
    if net.has_biases:  # biases are checked whether they are updated or frozen
        expected |= {f"b{l}" for l in range(1, len(net.layers) + 1)}
    assert set(report.errors) == expected


@settings(max_examples=40, deadline=None)
@given(problems(losses=("cross_entropy",)))
def test_softmax_cross_entropy_fused_delta_matches_finite_differences(problem):
    """The fused δ = y·Σt − t is right for one-hot *and* soft (probability) targets."""
    check(*problem)


@settings(max_examples=40, deadline=None)
@given(problems(losses=("mse",), reductions=("mean",)))
def test_mse_mean_carries_both_one_over_k_and_one_over_n(problem):
    """scikit-learn #8349 was a multi-output MSE gradient missing 1/K: not here."""
    check(*problem)


@settings(max_examples=40, deadline=None)
@given(problems(biases=("frozen",)))
def test_frozen_biases_still_get_correct_gradients(problem):
    net, X, T = problem
    report = check(net, X, T)
    assert all(f"b{l}" in report.errors for l in range(1, len(net.layers) + 1))
    assert not any(name.startswith("b") for name, _, _ in net.parameters())


@settings(max_examples=30, deadline=None)
@given(problems())
def test_gradient_check_leaves_the_network_untouched(problem):
    net, X, T = problem
    before = net.get_weights()
    gradient_check(net, X, T, h=STEP)
    after = net.get_weights()
    assert before.keys() == after.keys()
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])


def test_float32_network_is_checked_in_float64():
    net = Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", dtype="float32", seed=3)
    X = np.random.default_rng(0).normal(size=(5, 3))
    T = np.eye(2)[[0, 1, 1, 0, 1]]
    report = gradient_check(net, X, T, h=STEP)
    assert all(g.dtype == np.float64 for g in report.analytic.values())
    assert report.ok(TOL)
    assert net.dtype == np.float32 and net.layers[0].W.dtype == np.float32


def test_gradient_check_detects_a_wrong_gradient(monkeypatch):
    """The check can fail: corrupt backprop by dropping the ½ of half_sse (use sse's ∂E/∂y)."""
    from glassnet.losses import HalfSSE

    net = Network([3, 4, 2], "tanh", "half_sse", seed=1)
    X = np.random.default_rng(1).normal(size=(4, 3))
    T = np.random.default_rng(2).normal(size=(4, 2))
    assert gradient_check(net, X, T, h=STEP).ok(TOL)
    # the derivative of Σ(y − t)², not of ½Σ(y − t)² (patched on the class: gradient_check
    # works on a copy of the network rebuilt from its config)
    monkeypatch.setattr(HalfSSE, "grad_output", lambda self, y, t: 2.0 * (y - t))
    report = gradient_check(net, X, T, h=STEP)
    assert not report.ok(TOL)
    assert report.max_error > 0.3  # off by a factor 2: relative error 1/2


def test_default_settings_do_not_fail_a_correct_network():
    """The CLI's own default network (4,5,3 tanh, half_sse, 4 samples) with --seed 36."""
    net = Network([4, 5, 3], "tanh", "half_sse", weights="glorot_normal",
                  biases="glorot_normal", seed=36)
    rng = np.random.default_rng(37)
    X, T = rng.normal(size=(4, 4)), rng.normal(size=(4, 3))
    assert gradient_check(net, X, T, h=STEP, floor=1e-4).ok(TOL)  # correct network ...
    assert gradient_check(net, X, T).ok(TOL)                        # ... but default says no
