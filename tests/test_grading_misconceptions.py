"""The misconception switches of the engine (glassnet.misconceptions): each one changes exactly
its own equation, checked against the misconceived formula written out here with NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import SGD, Network
from glassnet.exercise import parse_exercise, solve
from glassnet.grading.followthrough import Q, run_engine
from glassnet.grading.mistakes import _RecordAll
from glassnet.misconceptions import (
    CATALOGUE,
    IDS,
    MisconceptionTap,
    applicable,
    get_misconception,
)

# Mazur's 2-2-2 example, biases updated here so that every switch has something to change
W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
W2 = np.array([[0.40, 0.45], [0.50, 0.55]])
B1, B2 = np.array([0.35, 0.35]), np.array([0.60, 0.60])
X = np.array([0.05, 0.10])
T = np.array([0.01, 0.99])
LR = 0.5


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def exercise(mode="sgd", samples=None, update_biases=True):
    return parse_exercise({
        "network": {"layers": [2, 2, 2], "activation": "sigmoid",
                    "weights": [W1.tolist(), W2.tolist()], "biases": [B1.tolist(), B2.tolist()],
                    "update_biases": update_biases},
        "loss": "half_sse", "learning_rate": LR, "mode": mode,
        "samples": samples or [{"x": X.tolist(), "t": T.tolist()}]})


def values_under(ex, key):
    """Every quantity of update 1 under misconception ``key`` (None: the correct engine)."""
    qs = ([Q(0, k, l, 0, i) for k in ("z", "a", "delta", "db", "b") for l in (0, 1)
           for i in (0, 1)] + [Q(0, k, l, 0, i, j) for k in ("dW", "W") for l in (0, 1)
                               for i in (0, 1) for j in (0, 1)] + [Q(0, "loss")])
    m = None if key is None else get_misconception(key)
    tap = _RecordAll(qs, None if m is None else MisconceptionTap(m, ex.learning_rate))
    run_engine(ex, tap, m)
    get = tap.seen

    def arr(kind, l):
        if kind in ("dW", "W"):
            return np.array([[get[Q(0, kind, l, 0, i, j)] for j in (0, 1)] for i in (0, 1)])
        return np.array([get[Q(0, kind, l, 0, i)] for i in (0, 1)])
    return arr, get[Q(0, "loss")]


# the correct values, written out independently
Z1 = W1 @ X + B1
A1 = sig(Z1)
Z2 = W2 @ A1 + B2
A2 = sig(Z2)
D2 = (A2 - T) * A2 * (1 - A2)
D1 = (W2.T @ D2) * A1 * (1 - A1)
LOSS = 0.5 * np.sum((A2 - T) ** 2)


def test_without_a_switch_the_values_are_the_engine_s_and_mazur_s():
    arr, loss = values_under(exercise(), None)
    assert loss == pytest.approx(0.298371109, abs=5e-10)           # Mazur's E_total
    np.testing.assert_allclose(arr("delta", 1), D2, rtol=1e-12)
    np.testing.assert_allclose(arr("delta", 0), D1, rtol=1e-12)
    np.testing.assert_allclose(arr("W", 1), W2 - LR * np.outer(D2, A1), rtol=1e-12)
    assert arr("W", 1)[0, 0] == pytest.approx(0.35891648, abs=5e-9)  # Mazur's new w5


@pytest.mark.parametrize("key, delta2, delta1", [
    ("missing_fprime/output", A2 - T, (W2.T @ (A2 - T)) * A1 * (1 - A1)),
    ("missing_fprime/hidden", D2, W2.T @ D2),
    ("missing_fprime/all", A2 - T, W2.T @ (A2 - T)),
    ("fprime_of_a/output", (A2 - T) * sig(A2) * (1 - sig(A2)),
     (W2.T @ ((A2 - T) * sig(A2) * (1 - sig(A2)))) * A1 * (1 - A1)),
    ("fprime_of_a/hidden", D2, (W2.T @ D2) * sig(A1) * (1 - sig(A1))),
    ("updated_weights/hidden", D2, ((W2 - LR * np.outer(D2, A1)).T @ D2) * A1 * (1 - A1)),
    ("transposed_W/backward", D2, (W2 @ D2) * A1 * (1 - A1)),
    ("sign/delta", -D2, -D1),
    ("factor_2/double", 2 * D2, 2 * D1),
    ("factor_2/half", D2 / 2, D1 / 2),
])
def test_each_delta_switch_changes_its_own_equation(key, delta2, delta1):
    arr, loss = values_under(exercise(), key)
    np.testing.assert_allclose(arr("z", 1), Z2, rtol=1e-12)       # the forward pass is intact
    np.testing.assert_allclose(arr("delta", 1), delta2, rtol=1e-12)
    np.testing.assert_allclose(arr("delta", 0), delta1, rtol=1e-12)
    # gradients and updates follow from the (misconceived) deltas by the engine's own equations
    np.testing.assert_allclose(arr("dW", 0), np.outer(delta1, X), rtol=1e-12)
    np.testing.assert_allclose(arr("W", 1), W2 - LR * np.outer(delta2, A1), rtol=1e-12)
    factor = {"factor_2/double": 2.0, "factor_2/half": 0.5}.get(key, 1.0)
    assert loss == pytest.approx(factor * LOSS, rel=1e-12)


@pytest.mark.parametrize("key, lr", [("sign/update", -LR), ("learning_rate/omitted", 1.0),
                                     ("learning_rate/squared", LR * LR)])
def test_update_switches(key, lr):
    arr, _ = values_under(exercise(), key)
    np.testing.assert_allclose(arr("dW", 1), np.outer(D2, A1), rtol=1e-12)
    np.testing.assert_allclose(arr("W", 1), W2 - lr * np.outer(D2, A1), rtol=1e-12)
    np.testing.assert_allclose(arr("b", 0), B1 - lr * D1, rtol=1e-12)


def test_bias_update_switch_freezes_or_moves_the_biases():
    arr, _ = values_under(exercise(update_biases=True), "bias_update/swapped")
    np.testing.assert_array_equal(arr("b", 1), B2)                  # should move, did not
    arr, _ = values_under(exercise(update_biases=False), "bias_update/swapped")
    np.testing.assert_allclose(arr("b", 1), B2 - LR * D2, rtol=1e-12)   # frozen, but moved


def test_batch_sum_mean_switch_sums_where_the_exercise_averages():
    samples = [{"x": [0.05, 0.10], "t": [0.01, 0.99]}, {"x": [0.5, -0.3], "t": [1, 0]}]
    mean = solve(exercise("batch_mean", samples)).updates[0].layers[0].grad_W
    total = solve(exercise("batch", samples)).updates[0].layers[0].grad_W
    np.testing.assert_allclose(total, 2 * mean, rtol=1e-12)
    ex = exercise("batch_mean", samples)
    m = get_misconception("batch_sum_mean/swapped")
    tap = _RecordAll([Q(0, "dW", 0, 0, 0, 0)], MisconceptionTap(m, LR))
    run_engine(ex, tap, m)
    assert tap.seen[Q(0, "dW", 0, 0, 0, 0)] == pytest.approx(total[0, 0], rel=1e-12)


def test_catalogue_covers_every_id_of_the_contract():
    assert {m.id for m in CATALOGUE} == set(IDS) == {
        "sign", "missing_fprime", "fprime_of_a", "updated_weights", "factor_2",
        "batch_sum_mean", "transposed_W", "bias_update", "learning_rate"}
    keys = {m.key for m in applicable(exercise())}
    assert "batch_sum_mean/swapped" not in keys           # one sample, sgd: nothing to swap
    assert "transposed_W/backward" in keys                # W2 is square
    one_layer = parse_exercise({
        "network": {"layers": [2, 3], "activation": "softmax", "weights": 0.1, "biases": None},
        "loss": "cross_entropy", "learning_rate": 0.1, "mode": "sgd",
        "samples": [{"x": [1, 0], "t": [0, 1, 0]}]})
    keys = {m.key for m in applicable(one_layer)}
    assert not any(k.endswith("/hidden") for k in keys)   # no hidden layer
    assert "missing_fprime/output" not in keys            # softmax + CE has no f' to drop
    assert "bias_update/swapped" not in keys              # no biases


def test_switch_off_is_the_plain_engine_bit_for_bit():
    def train(tap):
        net = Network([3, 4, 2], ["tanh", "sigmoid"], "half_sse", seed=1)
        net.tap = tap
        opt = SGD(lr=0.3)
        rng = np.random.default_rng(0)
        x, t = rng.normal(size=(5, 3)), rng.random((5, 2))
        for _ in range(3):
            net.train_step(x, t, opt)
        return net.get_weights()

    a, b = train(None), train(None)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    # the same training with the plain SGD optimizer and no tap attribute set at all
    net = Network([3, 4, 2], ["tanh", "sigmoid"], "half_sse", seed=1)
    assert net.tap is None
    c = train(MisconceptionTap(get_misconception("missing_fprime/hidden"), 0.3))
    assert not np.array_equal(a["W1"], c["W1"])


def test_transposed_switch_needs_a_square_matrix():
    # a 2×4 matrix cannot be used transposed: the switch then leaves the equation alone
    net_a = Network([3, 4, 2], ["tanh", "sigmoid"], "half_sse", seed=1)
    net_b = Network([3, 4, 2], ["tanh", "sigmoid"], "half_sse", seed=1)
    net_b.tap = MisconceptionTap(get_misconception("transposed_W/backward"), 0.3)
    x, t = np.ones((1, 3)), np.zeros((1, 2))
    for net in (net_a, net_b):
        net.forward(x)
        net.backward(t)
    np.testing.assert_array_equal(net_a.layers[0].delta, net_b.layers[0].delta)


def test_unknown_misconception_is_a_clear_error():
    with pytest.raises(KeyError, match="did you mean 'sign/update'"):
        get_misconception("sign/updat")
