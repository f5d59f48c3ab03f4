"""Numbers right or refused: log losses outside their domain, saturated outputs, non-finite.

Truth comes from outside the engine: the activations' values on a grid of z decide which
loss/activation pairs can leave the loss's domain; mpmath at 60 digits gives the exact
loss and δ of saturated sigmoid and softmax outputs (z up to ±1000), which the engine must
match to float64 precision, or refuse. Nothing may be a clamped log (E = 708.4 for a true
1000, δ = 0 for a true −1), and no output may contain NaN or Infinity.
"""

from __future__ import annotations

import contextlib
import io
import json
import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet import Network
from glassnet.activations import get_activation
from glassnet.cli import main
from glassnet.errors import GlassnetError
from glassnet.exercise import parse_exercise, solve
from glassnet.losses import LossDomainError

mpmath.mp.dps = 60
ACTIVATIONS = ["sigmoid", "tanh", "relu", "linear", "leaky_relu", "softmax"]
LOG_LOSSES = ["cross_entropy", "binary_cross_entropy"]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def leaves_domain(loss: str, activation: str, units: int) -> bool:
    """Does some moderate z give an output where the loss's logs are undefined?

    Evaluated on a grid of z in [−30, 30] (no rounding to 0 or 1 there), independently
    of the declared output ranges.
    """
    act = get_activation(activation)
    rng = np.random.default_rng(0)
    z = np.concatenate([np.linspace(-30, 30, 61)[:, None].repeat(units, 1),
                        rng.uniform(-30, 30, size=(200, units))])
    y = act.forward(z)
    if loss == "cross_entropy":
        return bool((y <= 0).any())
    return bool(((y <= 0) | (y >= 1)).any())


@pytest.mark.parametrize("units", [1, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", LOG_LOSSES + ["half_sse", "sse", "mse"])
def test_pairs_that_can_leave_the_domain_are_refused_when_built(loss, activation, units):
    # softmax units are not independent probabilities: binary cross-entropy refuses them
    # whatever their range (a saturated softmax makes 1 − y, and so δ, inexact)
    refuse = loss in LOG_LOSSES and (leaves_domain(loss, activation, units) or (
        loss == "binary_cross_entropy" and activation == "softmax"))
    build = lambda: Network([2, units], activation, loss, seed=0)  # noqa: E731
    if refuse:
        with pytest.raises(LossDomainError, match=f"loss {loss} (takes log|treats)"):
            build()
    else:
        build()


@pytest.mark.parametrize(("loss", "activation"), [("cross_entropy", "tanh"),
                                                   ("cross_entropy", "linear"),
                                                   ("cross_entropy", "relu"),
                                                   ("binary_cross_entropy", "tanh"),
                                                   ("binary_cross_entropy", "relu")])
def test_exercise_with_a_domain_leaving_pair_is_exit_2_naming_the_loss(tmp_path, loss,
                                                                        activation):
    doc = {"network": {"layers": [2, 1], "activation": activation, "weights": 0.5,
                       "biases": 0},
           "loss": loss, "learning_rate": 0.1, "mode": "sgd",
           "samples": [{"x": [1, 0], "t": [1]}]}
    path = tmp_path / "ex.json"
    path.write_text(json.dumps(doc))
    for command in ("explain", "check"):
        code, out, err = run([command, str(path)])
        assert code == 2 and out == ""
        assert err.startswith(f"glassnet: error: {path}: loss: loss {loss} takes log y")
        assert activation in err and err.count("\n") == 1


def test_training_refuses_the_pair_too():
    from glassnet.training import Classifier

    with pytest.raises(GlassnetError):
        Network([784, 10], "linear", "cross_entropy")
    assert Classifier  # the trainer builds its networks through Network


# ------------------------------------------------------------------- exact, from mpmath
def exact_sigmoid(z):
    return 1 / (1 + mpmath.exp(-mpmath.mpf(z)))


def exact_softmax(z):
    e = [mpmath.exp(mpmath.mpf(v)) for v in z]
    s = sum(e)
    return [v / s for v in e]


def exact(loss: str, activation: str, z: list[float], t: list[float]):
    """E and δ = ∂E/∂z for one sample, at 60 digits."""
    zs = [mpmath.mpf(v) for v in z]
    K = len(z)
    if activation == "sigmoid":  # 1 − σ(z) = σ(−z): no cancellation even at 60 digits
        y = [exact_sigmoid(v) for v in zs]
        one_minus_y = [exact_sigmoid(-v) for v in zs]
    else:
        y = exact_softmax(zs)
        one_minus_y = [sum(y[j] for j in range(K) if j != k) for k in range(K)]
    if loss == "cross_entropy":
        E = -sum(t[k] * mpmath.log(y[k]) for k in range(K) if t[k] != 0)
        g = [-t[k] / y[k] for k in range(K)]
    else:
        E = -sum((t[k] * mpmath.log(y[k]) if t[k] else 0)
                 + ((1 - t[k]) * mpmath.log(one_minus_y[k]) if t[k] != 1 else 0)
                 for k in range(K))
        g = [-t[k] / y[k] + (1 - t[k]) / one_minus_y[k] for k in range(K)]
    if activation == "sigmoid":
        delta = [g[k] * y[k] * one_minus_y[k] for k in range(K)]
    else:
        dot = sum(g[j] * y[j] for j in range(K))
        delta = [y[k] * (g[k] - dot) for k in range(K)]
    return E, delta


def engine(loss: str, activation: str, z: list[float], t: list[float]):
    """The network's own E and δ for logits z: a [1, K] network with W = z, x = 1."""
    net = Network([1, len(z)], activation, loss, weights=[[[v] for v in z]], biases=None)
    with np.errstate(all="raise", under="ignore"):
        net.forward([[1.0]])
        E = net.backward([t])
    return E, net.layers[0].delta[0]


def assert_close(got: float, want, what: str) -> None:
    want = float(want)
    assert abs(got - want) <= 1e-15 * abs(want) + 4.5e-16, (what, got, want)


def test_sigmoid_cross_entropy_at_minus_1000_is_exact():
    """The issue's example: E = 1000 (a clamped log gave 708.4), δ = −1 (it gave 0)."""
    E, delta = engine("cross_entropy", "sigmoid", [-1000.0], [1.0])
    assert E == 1000.0
    assert delta[0] == -1.0


def test_explain_prints_the_exact_values_for_the_issue_example(tmp_path):
    doc = {"network": {"layers": [1, 1], "activation": "sigmoid", "weights": [[[-1000]]],
                       "biases": "none"},
           "loss": "cross_entropy", "learning_rate": 0.1, "mode": "sgd",
           "samples": [{"x": [1], "t": [1]}]}
    path = tmp_path / "ex.json"
    path.write_text(json.dumps(doc))
    code, out, _ = run(["explain", str(path), "--format", "json"])
    assert code == 0
    up = json.loads(out)["updates"][0]
    assert up["loss"] == 1000.0 and up["deltas"] == [[[-1.0]]]
    code, out, _ = run(["explain", str(path)])
    assert code == 0 and "= 1000\n" in out and "= −1\n" in out and "708" not in out
    assert "log(0)" not in out


Z = st.floats(-1000, 1000, allow_nan=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from([("cross_entropy", "sigmoid"), ("cross_entropy", "softmax"),
                             ("binary_cross_entropy", "sigmoid")]),
       z=st.lists(Z, min_size=2, max_size=4), data=st.data())
def test_fused_pairs_give_the_true_loss_and_delta_at_any_logit(pair, z, data):
    loss, activation = pair
    K = len(z)
    if loss == "cross_entropy" and activation == "softmax":
        t = [0.0] * K
        t[data.draw(st.integers(0, K - 1))] = 1.0
    else:
        t = [float(data.draw(st.sampled_from([0, 1, 0.25]))) for _ in range(K)]
    E_exact, delta_exact = exact(loss, activation, z, t)
    E, delta = engine(loss, activation, z, t)
    assert math.isfinite(E)
    assert abs(E - float(E_exact)) <= 1e-13 * abs(float(E_exact)) + 1e-13, (E, E_exact)
    for k in range(K):
        assert_close(float(delta[k]), delta_exact[k], f"δ{k}")


def test_softmax_with_binary_cross_entropy_is_refused_not_approximated():
    """Its δ would need 1 − y of a saturated softmax, which float64 cannot give exactly."""
    for units in (1, 2, 5):
        with pytest.raises(LossDomainError, match="independent probability"):
            Network([2, units], "softmax", "binary_cross_entropy")


# ------------------------------------------------------------ right or refused, end to end
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from([("cross_entropy", "sigmoid"), ("cross_entropy", "softmax"),
                             ("binary_cross_entropy", "sigmoid")]),
       w=st.lists(st.floats(-900, 900, allow_nan=False), min_size=2, max_size=2),
       hot=st.integers(0, 1), lr=st.sampled_from([0, 0.1, 1]))
def test_explain_json_is_the_true_value_or_a_refusal(pair, w, hot, lr):
    """Saturating exercises: every printed loss and δ equals mpmath's from the printed z."""
    loss, activation = pair
    t = [0.0, 0.0]
    t[hot] = 1.0
    doc = {"network": {"layers": [1, 2], "activation": activation, "weights": [[[w[0]],
                                                                                  [w[1]]]],
                       "biases": "none"},
           "loss": loss, "learning_rate": lr, "mode": "sgd", "epochs": 2,
           "samples": [{"x": [1], "t": t}]}
    try:
        sol = solve(parse_exercise(doc))
    except GlassnetError as exc:
        assert "not finite" in str(exc)  # refused, with the reason
        return
    text = sol.to_json()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    for up in json.loads(text)["updates"]:
        z = up["forward"][0]["z"][0]
        E_exact, delta_exact = exact(loss, activation, z, t)
        assert abs(up["loss"] - float(E_exact)) <= 1e-13 * abs(float(E_exact)) + 1e-13
        for k in range(2):
            assert_close(up["deltas"][0][0][k], delta_exact[k], f"δ{k}")

