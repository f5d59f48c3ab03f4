"""Optimizers against hand-written references of their published update rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import SGD, Adam, GlassnetError, Network, UnknownNameError, get_optimizer


class Params:
    """A stand-in network: ``parameters()`` is all an optimizer may use."""

    def __init__(self, values: list[np.ndarray]):
        self.values = [v.copy() for v in values]
        self.grads = [np.zeros_like(v) for v in values]

    def set_grads(self, grads: list[np.ndarray]) -> None:
        for g, new in zip(self.grads, grads, strict=True):
            g[...] = new

    def parameters(self):
        return [(f"p{i}", v, g) for i, (v, g) in enumerate(zip(self.values, self.grads,
                                                               strict=True))]


def gradient_sequence(steps: int, seed: int = 0, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    return [[scale * rng.normal(size=(3, 4)), scale * rng.normal(size=(4,))]
            for _ in range(steps)]


INIT = [np.arange(12.0).reshape(3, 4) / 10, np.array([0.1, -0.2, 0.3, 0.0])]


def test_sgd_exact_step_on_a_network():
    net = Network([3, 4, 2], "tanh", "half_sse", seed=0)
    X = np.random.default_rng(1).normal(size=(5, 3))
    T = np.random.default_rng(2).normal(size=(5, 2))
    net.forward(X)
    net.backward(T)
    expected = {name: value - 0.3 * grad for name, value, grad in net.parameters()}
    SGD(lr=0.3).step(net)
    for name, value, _ in net.parameters():
        np.testing.assert_array_equal(value, expected[name])


def test_plain_sgd_has_no_hidden_momentum():
    """After a step with gradient g, a step with gradient 0 must not move anything."""
    p = Params(INIT)
    opt = SGD(lr=0.5)
    (g,) = gradient_sequence(1)
    p.set_grads(g)
    opt.step(p)
    moved = [v.copy() for v in p.values]
    np.testing.assert_array_equal(moved[0], INIT[0] - 0.5 * g[0])
    p.set_grads([np.zeros_like(v) for v in INIT])
    for _ in range(3):
        opt.step(p)
    for v, m in zip(p.values, moved, strict=True):
        np.testing.assert_array_equal(v, m)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_and_nesterov_match_hand_reference(nesterov):
    lr, mu = 0.1, 0.9
    grads = gradient_sequence(3, seed=3)
    p = Params(INIT)
    opt = SGD(lr=lr, momentum=mu, nesterov=nesterov)
    # Reference 1 (Sutskever et al. 2013; Keras): v ← μv − ηg; W ← W + v, or, with Nesterov's
    # look-ahead, W ← W + μv − ηg (v already updated).
    W = [v.copy() for v in INIT]
    vel = [np.zeros_like(v) for v in INIT]
    # Reference 2 (PyTorch): b ← μb + g; W ← W − η(g + μb) for Nesterov, W ← W − ηb otherwise.
    W2 = [v.copy() for v in INIT]
    buf = [np.zeros_like(v) for v in INIT]
    for g in grads:
        p.set_grads(g)
        opt.step(p)
        for i, gi in enumerate(g):
            vel[i] = mu * vel[i] - lr * gi
            W[i] = W[i] + (mu * vel[i] - lr * gi if nesterov else vel[i])
            buf[i] = mu * buf[i] + gi
            W2[i] = W2[i] - lr * (gi + mu * buf[i] if nesterov else buf[i])
        for got, ref, ref2 in zip(p.values, W, W2, strict=True):
            np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(got, ref2, rtol=1e-13, atol=1e-14)


def test_nesterov_differs_from_plain_momentum():
    grads = gradient_sequence(2, seed=4)
    runs = []
    for nesterov in (False, True):
        p = Params(INIT)
        opt = SGD(lr=0.1, momentum=0.9, nesterov=nesterov)
        for g in grads:
            p.set_grads(g)
            opt.step(p)
        runs.append(p.values[0])
    assert not np.allclose(runs[0], runs[1])


@pytest.mark.parametrize("scale", [1.0, 1e-7])  # at 1e-7 the ε term matters
def test_adam_matches_the_papers_algorithm(scale):
    """Kingma & Ba (2015), Algorithm 1, with bias-corrected moments m̂ and v̂."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    grads = gradient_sequence(5, seed=5, scale=scale)
    p = Params(INIT)
    opt = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps)
    theta = [v.copy() for v in INIT]
    m = [np.zeros_like(v) for v in INIT]
    v = [np.zeros_like(v) for v in INIT]
    for t, g in enumerate(grads, start=1):
        p.set_grads(g)
        opt.step(p)
        for i, gi in enumerate(g):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi**2
            m_hat = m[i] / (1 - b1**t)
            v_hat = v[i] / (1 - b2**t)
            theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        for got, ref in zip(p.values, theta, strict=True):
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    assert opt.t == 5


def test_adam_first_step_is_lr_times_sign():
    """With m̂ = g and v̂ = g² the first step is η·g/(|g| + ε) ≈ η·sign(g)."""
    p = Params([np.zeros(3)])
    p.set_grads([np.array([2.0, -0.5, 1e3])])
    Adam(lr=0.01).step(p)
    np.testing.assert_allclose(p.values[0], [-0.01, 0.01, -0.01], rtol=1e-7)


def test_adam_reset_forgets_the_moments():
    g = gradient_sequence(2, seed=6)
    opt = Adam(lr=0.1)
    p = Params(INIT)
    p.set_grads(g[0])
    opt.step(p)
    opt.step(p)
    opt.reset()
    assert opt.t == 0
    fresh = Params(INIT)
    p2 = Params(INIT)
    for target in (p2, fresh):
        target.set_grads(g[1])
    opt.step(p2)
    Adam(lr=0.1).step(fresh)
    np.testing.assert_array_equal(p2.values[0], fresh.values[0])


@pytest.mark.parametrize("opt", [SGD(lr=0.5), SGD(lr=0.5, momentum=0.9),
                                 SGD(lr=0.5, momentum=0.9, nesterov=True), Adam(lr=0.05)],
                         ids=["sgd", "momentum", "nesterov", "adam"])
def test_frozen_biases_never_move(opt):
    net = Network([3, 4, 2], ["tanh", "sigmoid"], "half_sse", biases=0.3,
                  update_biases=False, seed=0)
    biases = [layer.b.copy() for layer in net.layers]
    weights = [layer.W.copy() for layer in net.layers]
    X = np.random.default_rng(7).normal(size=(6, 3))
    T = np.random.default_rng(8).uniform(size=(6, 2))
    for _ in range(4):
        net.train_step(X, T, opt)
    for layer, b, W in zip(net.layers, biases, weights, strict=True):
        np.testing.assert_array_equal(layer.b, b)
        assert np.abs(layer.grad_b).max() > 0  # the gradient was there, and ignored
        assert not np.array_equal(layer.W, W)
    assert [name for name, _, _ in net.parameters()] == ["W1", "W2"]


def test_optimizer_state_is_allocated_once():
    """The state arrays are reused from step to step (no per-batch allocation)."""
    net = Network([3, 4, 2], "tanh", seed=0)
    X, T = np.ones((2, 3)), np.zeros((2, 2))
    opt = Adam()
    net.train_step(X, T, opt)
    ids = {i: (id(s["m"]), id(s["v"])) for i, s in opt._state.items()}
    net.train_step(X, T, opt)
    assert ids == {i: (id(s["m"]), id(s["v"])) for i, s in opt._state.items()}
    assert len(ids) == len(net.parameters())


# ------------------------------------------------------------------------ construction
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"lr": -0.1}, "learning rate must be a finite number >= 0"),
    ({"lr": float("nan")}, "learning rate"),
    ({"lr": True}, "learning rate"),
    ({"lr": "0.1"}, "learning rate"),
    ({"lr": 0.1, "momentum": 1.0}, "momentum must be < 1"),
    ({"lr": 0.1, "momentum": -0.5}, "momentum must be a finite number >= 0"),
    ({"lr": 0.1, "nesterov": True}, "nesterov=True needs a momentum > 0"),
])
def test_sgd_rejects_bad_settings(kwargs, match):
    with pytest.raises(GlassnetError, match=match):
        SGD(**kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"beta1": 1.0}, "beta1 and beta2 must be < 1"),
    ({"beta2": 1.5}, "beta1 and beta2 must be < 1"),
    ({"eps": 0.0}, "eps must be a finite number > 0"),
    ({"lr": math.inf}, "learning rate"),
])
def test_adam_rejects_bad_settings(kwargs, match):
    with pytest.raises(GlassnetError, match=match):
        Adam(**kwargs)


def test_get_optimizer():
    assert get_optimizer("momentum", lr=0.05).get_config() == {
        "name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": False}
    assert get_optimizer("nesterov").nesterov is True
    assert get_optimizer({"name": "adam", "lr": 0.002}).get_config()["lr"] == 0.002
    sgd = SGD(lr=0.2)
    assert get_optimizer(sgd) is sgd
    assert repr(get_optimizer("sgd", lr=0.2)) == "SGD(lr=0.2, momentum=0.0, nesterov=False)"
    with pytest.raises(UnknownNameError, match=r"did you mean 'adam'\?"):
        get_optimizer("adan")
    with pytest.raises(GlassnetError, match="optimizer 'adam'.*unexpected keyword"):
        get_optimizer("adam", momentum=0.9)
