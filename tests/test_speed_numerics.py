"""The speed work changes no number: the chunked Adam update equals the whole-array one
bit for bit, and both follow Adam's formulas (float64 reference)."""

from __future__ import annotations

import math

import numpy as np

from glassnet import Adam, Network
from glassnet.optimizers import _CHUNK, _adam_part


def test_chunked_adam_is_bit_identical_to_whole_array_adam():
    rng = np.random.default_rng(0)
    n = 5 * _CHUNK + 123  # several chunks and a ragged last one
    value = rng.standard_normal(n).astype(np.float32)
    whole = value.copy()
    m_w, v_w, s_w = (np.zeros(n, np.float32) for _ in range(3))
    opt = Adam(lr=1e-3)
    state = {"m": np.zeros(n, np.float32), "v": np.zeros(n, np.float32),
             "scratch": np.empty(n, np.float32)}
    for t in range(1, 4):
        grad = rng.standard_normal(n).astype(np.float32)
        opt.t = t
        opt._update(value, grad, state)  # chunked (flat and large)
        lr_t = 1e-3 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        eps_t = 1e-8 * math.sqrt(1 - 0.999**t)
        _adam_part(whole, grad, m_w, v_w, s_w, 0.9, 0.999, lr_t, eps_t)
        np.testing.assert_array_equal(value, whole)
        np.testing.assert_array_equal(state["m"], m_w)
        np.testing.assert_array_equal(state["v"], v_w)


def test_adam_steps_of_a_large_network_match_the_formulas():
    """Three Adam steps of a network with more parameters than two chunks, against
    Adam written out in float64 from the same gradients."""
    net = Network([300, 256, 10], ["relu", "softmax"], "cross_entropy", weights="he_normal",
                  reduction="mean", dtype="float64", seed=1)
    assert sum(p.size for _, p, _ in net.parameters()) > 2 * _CHUNK
    rng = np.random.default_rng(2)
    X = rng.random((32, 300))
    T = np.eye(10)[rng.integers(0, 10, 32)]
    ref = {name: p.copy() for name, p, _ in net.parameters()}
    m = {k: np.zeros_like(v) for k, v in ref.items()}
    v2 = {k: np.zeros_like(v) for k, v in ref.items()}
    opt = Adam(lr=1e-2)
    for t in range(1, 4):
        net.forward(X)
        net.backward(T)
        grads = {name: g.copy() for name, _, g in net.parameters()}
        opt.step(net)
        for k, g in grads.items():
            m[k] = 0.9 * m[k] + 0.1 * g
            v2[k] = 0.999 * v2[k] + 0.001 * g * g
            m_hat, v_hat = m[k] / (1 - 0.9**t), v2[k] / (1 - 0.999**t)
            ref[k] = ref[k] - 1e-2 * m_hat / (np.sqrt(v_hat) + 1e-8)
        for name, p, _ in net.parameters():
            np.testing.assert_allclose(p, ref[name], rtol=1e-10, atol=1e-12)
