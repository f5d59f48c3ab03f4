"""Every derived formula against independent truth: the engine's own backward pass (float64),
central finite differences of the loss, and SymPy's differentiation (the proof).

The numeric checks run over every activation × loss × bias handling × 1–3 hidden layers
(they are cheap); the symbolic proof over a hypothesis sample of the same space plus the
pairs that matter most (canonical pairs, softmax with a non-canonical loss, ReLU).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from glassnet import GlassnetError, Network
from glassnet.derive import derive
from glassnet.derive.evaluate import evaluate
from glassnet.derive.expressions import Gradients
from glassnet.derive.proof import prove
from glassnet.derive.spec import spec_from_options

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUT = ["sigmoid", "tanh", "linear", "relu", "softmax"]
LOSSES = ["half_sse", "sse", "mse", "cross_entropy", "binary_cross_entropy"]
BIASES = ["updated", "frozen", "none"]


def _net_and_sample(spec, rng):
    """A random float64 network of ``spec`` and one sample whose targets suit the loss.

    Net inputs are kept away from ReLU's kink at 0 (finite differences there are meaningless)
    and sigmoid/softmax outputs away from 0 and 1 (so CE's −t/a is well conditioned).
    """
    sizes = spec.sizes
    for _ in range(200):
        Ws = [rng.uniform(-1.5, 1.5, (sizes[l + 1], sizes[l])) for l in range(spec.L)]
        bs = None if not spec.has_biases else [rng.uniform(-1, 1, sizes[l + 1])
                                              for l in range(spec.L)]
        net = Network(sizes, [{"name": a, "alpha": spec.alpha(l)} if a == "leaky_relu" else a
                              for l, a in enumerate(spec.activations, 1)], spec.loss,
                      weights=Ws, biases=bs, update_biases=spec.biases != "frozen")
        x = rng.uniform(-2, 2, (1, sizes[0]))
        K = sizes[-1]
        if spec.loss == "cross_entropy":
            t = rng.dirichlet(np.ones(K)).reshape(1, K)
        elif spec.loss == "binary_cross_entropy":
            t = rng.uniform(0, 1, (1, K))
        else:
            t = rng.uniform(-1, 1, (1, K))
        net.forward(x)
        zs = np.concatenate([layer.z.ravel() for layer in net.layers])
        out = net.layers[-1].a
        if np.min(np.abs(zs)) < 1e-3:
            continue
        if spec.loss in ("cross_entropy", "binary_cross_entropy") and (
                np.min(out) < 0.02 or np.max(out) > 0.98):
            continue
        return net, x, t
    pytest.skip("no well-conditioned sample found")


def _values(net, x, t):
    v = {f"x_{j + 1}": float(x[0, j]) for j in range(x.shape[1])}
    v.update({f"t_{k + 1}": float(t[0, k]) for k in range(t.shape[1])})
    for l, layer in enumerate(net.layers, start=1):
        for i in range(layer.n_out):
            v[f"z_{l}_{i + 1}"] = float(layer.z[0, i])
            v[f"a_{l}_{i + 1}"] = float(layer.a[0, i])
            v[f"b_{l}_{i + 1}"] = 0.0 if layer.b is None else float(layer.b[i])
            for j in range(layer.n_in):
                v[f"W_{l}_{i + 1}_{j + 1}"] = float(layer.W[i, j])
    return v


def _engine_gradients(net, x, t):
    net.forward(x)
    net.backward(t)
    g = {}
    for l, layer in enumerate(net.layers, start=1):
        for i in range(layer.n_out):
            for j in range(layer.n_in):
                g[f"W_{l}_{i + 1}_{j + 1}"] = float(layer.grad_W[i, j])
            if layer.grad_b is not None:
                g[f"b_{l}_{i + 1}"] = float(layer.grad_b[i])
    return g


def _finite_difference(net, x, t, param, h=1e-6):
    kind, *nums = param.split("_")
    layer = net.layers[int(nums[0]) - 1]
    arr, idx = (layer.W, (int(nums[1]) - 1, int(nums[2]) - 1)) if kind == "W" else \
        (layer.b, (int(nums[1]) - 1,))
    old = float(arr[idx])
    arr[idx] = old + h
    up = net.compute_loss(x, t)
    arr[idx] = old - h
    down = net.compute_loss(x, t)
    arr[idx] = old
    return (up - down) / (2 * h)


def _spec(hidden, out, loss, biases, n_hidden, rng):
    widths = [int(rng.integers(1, 3)) for _ in range(n_hidden)]
    K = int(rng.integers(2, 4)) if out == "softmax" else int(rng.integers(1, 3))
    sizes = [int(rng.integers(1, 3))] + widths + [K]
    return spec_from_options(sizes, [hidden] * n_hidden + [out], loss, biases)


def _engine_accepts(out, loss):
    """The pairings the engine trains (a log loss refuses outputs outside its domain)."""
    try:
        spec_from_options("1,2", out, loss)
    except GlassnetError:
        return False
    return True


PAIRS = [(o, lo) for o, lo in itertools.product(OUTPUT, LOSSES) if _engine_accepts(o, lo)]


@pytest.mark.parametrize("n_hidden", [1, 2, 3])
@pytest.mark.parametrize("out,loss", PAIRS)
def test_every_expression_equals_engine_and_finite_differences(out, loss, n_hidden):
    """All pairings, every hidden activation and bias handling: formula = backward = FD."""
    rng = np.random.default_rng(abs(hash((out, loss, n_hidden))) % 2 ** 32)
    for hidden, biases in itertools.product(HIDDEN, BIASES):
        spec = _spec(hidden, out, loss, biases, n_hidden, rng)
        net, x, t = _net_and_sample(spec, rng)
        exprs = Gradients(spec).all()
        assert set(exprs) == set(spec.parameters())
        engine = _engine_gradients(net, x, t)
        values = _values(net, x, t)
        for param, expr in exprs.items():
            got = evaluate(expr, values)
            assert got == pytest.approx(engine[param], rel=1e-9, abs=1e-12), (spec, param, expr)
            fd = _finite_difference(net, x, t, param)
            assert got == pytest.approx(fd, rel=1e-4, abs=1e-6), (spec, param, expr)
            # the contract: valid Python with those names bound to floats
            assert eval(expr, {"__builtins__": {}}, {  # noqa: S307 - our own expression
                **values, "exp": np.exp, "log": np.log, "tanh": np.tanh,
                "step": lambda v: 1.0 if v > 0 else 0.0}) == pytest.approx(got, rel=1e-12)


def test_cross_entropy_exact_for_any_targets_and_textbook_form_for_probabilities():
    spec = spec_from_options("2,2,3", "tanh,softmax", "cross_entropy")
    rng = np.random.default_rng(1)
    net, x, _ = _net_and_sample(spec, rng)
    t = np.array([[0.3, 0.9, 0.4]])  # sums to 1.6: the engine's δ = y·Σt − t
    engine = _engine_gradients(net, x, t)
    values = _values(net, x, t)
    exact, textbook = Gradients(spec).all(), Gradients(spec, textbook=True).all()
    for p in exact:
        assert evaluate(exact[p], values) == pytest.approx(engine[p], rel=1e-9, abs=1e-12)
    assert any(abs(evaluate(textbook[p], values) - engine[p]) > 1e-6 for p in textbook)
    t = np.array([[0.2, 0.5, 0.3]])
    engine = _engine_gradients(net, x, t)
    values = _values(net, x, t)
    for p in textbook:
        assert evaluate(textbook[p], values) == pytest.approx(engine[p], rel=1e-9, abs=1e-12)


# ------------------------------------------------------------------------- the proof
KEY_CASES = [
    ("2,3,1", "sigmoid", "half_sse", "updated"),          # seed 004
    ("3,4,1", "sigmoid,linear", "sse", "none"),            # seed 002 regression
    ("3,2,3", "sigmoid,softmax", "cross_entropy", "none"),  # seed 002 classification
    ("2,1", "sigmoid", "binary_cross_entropy", "updated"),  # seed 000
    ("2,2,3", "tanh,softmax", "half_sse", "frozen"),      # softmax, full Jacobian
    ("2,2,2,2", "relu,relu,sigmoid", "mse", "updated"),   # two hidden layers, ReLU
    ("1,2,1,1,2", "leaky_relu,tanh,linear,softmax", "cross_entropy", "none"),  # three hidden
]


@pytest.mark.parametrize("layers,acts,loss,biases", KEY_CASES)
def test_derive_proves_every_parameter(layers, acts, loss, biases):
    d = derive(layers=layers, activation=acts, loss=loss, biases=biases)
    spec = d.spec
    assert [g["parameter"] for g in d.gradients] == spec.parameters()
    assert all(g["verified"] is True for g in d.gradients)
    assert d.verified and d.verification["all_verified"]
    if loss == "cross_entropy" and acts.endswith("softmax"):
        assert all(g["textbook_verified"] for g in d.gradients)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hidden=st.sampled_from(HIDDEN), out=st.sampled_from(OUTPUT),
       loss=st.sampled_from(LOSSES), biases=st.sampled_from(BIASES),
       n_hidden=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_proof_over_random_networks(hidden, out, loss, biases, n_hidden, seed):
    assume((out, loss) in PAIRS)
    rng = np.random.default_rng(seed)
    widths = [1 if n_hidden == 3 else int(rng.integers(1, 3)) for _ in range(n_hidden)]
    K = 2 if out == "softmax" else 1
    spec = spec_from_options([2] + widths + [K], [hidden] * n_hidden + [out], loss, biases)
    assert all(prove(spec, Gradients(spec).all()).values())


def test_a_broken_formula_is_not_verified(monkeypatch):
    """Drop f' of the hidden layer (the classic slip): the proof must say so, per parameter."""
    original = Gradients.fprime

    def broken(self, layer, i):
        return None if layer == 1 else original(self, layer, i)

    monkeypatch.setattr(Gradients, "fprime", broken)
    d = derive(layers="2,2,1", activation="sigmoid", loss="half_sse")
    verdict = {g["parameter"]: g["verified"] for g in d.gradients}
    assert not any(v for p, v in verdict.items() if p.startswith(("W_1", "b_1")))
    assert all(v for p, v in verdict.items() if p.startswith(("W_2", "b_2")))
    assert not d.verified
    assert "NOT verified" in d.to_text()


@pytest.mark.parametrize("wrong", [
    "(a_2_1 - t_1)*a_1_1",                      # f' missing
    "(t_1 - a_2_1)*a_2_1*(1 - a_2_1)*a_1_1",    # sign
    "(a_2_1 - t_1)*a_2_1*(1 - a_2_1)*a_1_2",    # wrong input
    "2*(a_2_1 - t_1)*a_2_1*(1 - a_2_1)*a_1_1",  # factor
    "(a_2_1 - t_1)*z_2_1*(1 - z_2_1)*a_1_1",    # f' of z instead of a
])
def test_prove_rejects_wrong_formulas(wrong):
    spec = spec_from_options("2,2,1", "sigmoid", "half_sse")
    assert prove(spec, {"W_2_1_1": wrong}) == {"W_2_1_1": False}
    assert prove(spec, {"W_2_1_1": "a_1_1*a_2_1*(1 - a_2_1)*(a_2_1 - t_1)"}) == {"W_2_1_1": True}


def test_pairings_the_engine_refuses_are_refused():
    refused = [(o, lo) for o, lo in itertools.product(OUTPUT, LOSSES) if (o, lo) not in PAIRS]
    assert ("tanh", "cross_entropy") in refused or ("linear", "cross_entropy") in refused
    for out, loss in refused:
        with pytest.raises(GlassnetError):
            derive(layers="2,2", activation=out, loss=loss)
    print(len(PAIRS), "pairings")
