"""Initializers: shapes, dtypes, seeded reproducibility, statistics, and helpful errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from glassnet import GlassnetError, Network, UnknownNameError, get_initializer
from glassnet.initializers import INITIALIZERS

RANDOM = ["normal", "uniform", "he_normal", "he_uniform", "glorot_normal", "glorot_uniform",
          "lecun_normal"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("shape", [(3, 5), (7,)])
def test_shape_and_dtype(name, dtype, shape):
    values = get_initializer(name)(shape, np.random.default_rng(0), dtype)
    assert values.shape == shape and values.dtype == dtype
    assert np.isfinite(values).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", RANDOM)
def test_network_parameters_have_the_right_shapes_and_dtype(name, dtype):
    net = Network([4, 6, 3], "tanh", weights=name, biases=name, dtype=dtype, seed=1)
    assert [layer.W.shape for layer in net.layers] == [(6, 4), (3, 6)]
    assert [layer.b.shape for layer in net.layers] == [(6,), (3,)]
    assert all(layer.W.dtype == dtype and layer.b.dtype == dtype for layer in net.layers)


@pytest.mark.parametrize("name", RANDOM)
def test_seeded_reproducibility(name):
    init = get_initializer(name)
    a = init((20, 30), np.random.default_rng(42))
    b = init((20, 30), np.random.default_rng(42))
    c = init((20, 30), np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    n1, n2 = (Network([5, 4, 2], weights=name, seed=7) for _ in range(2))
    for l1, l2 in zip(n1.layers, n2.layers, strict=True):
        np.testing.assert_array_equal(l1.W, l2.W)


def test_seed_accepts_a_generator():
    rng1, rng2 = np.random.default_rng(3), np.random.default_rng(3)
    n1 = Network([5, 4, 2], weights="he_normal", seed=rng1)
    n2 = Network([5, 4, 2], weights="he_normal", seed=rng2)
    np.testing.assert_array_equal(n1.layers[0].W, n2.layers[0].W)
    # the generator is consumed, not copied: the next network from it gets new draws
    n3 = Network([5, 4, 2], weights="he_normal", seed=rng1)
    assert not np.array_equal(n1.layers[0].W, n3.layers[0].W)


def test_independent_of_global_numpy_random_state():
    np.random.seed(1)
    n1 = Network([5, 4, 2], weights="glorot_uniform", biases="normal", seed=11)
    np.random.seed(2)
    state = np.random.get_state()
    n2 = Network([5, 4, 2], weights="glorot_uniform", biases="normal", seed=11)
    after = np.random.get_state()
    for l1, l2 in zip(n1.layers, n2.layers, strict=True):
        np.testing.assert_array_equal(l1.W, l2.W)
        np.testing.assert_array_equal(l1.b, l2.b)
    # building a network does not draw from (advance) the global state either
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2] == after[2]


def test_layers_get_different_draws():
    net = Network([6, 6, 6, 6], weights="he_normal", seed=0)
    assert not np.array_equal(net.layers[0].W, net.layers[1].W)
    assert not np.array_equal(net.layers[1].W, net.layers[2].W)


# --------------------------------------------------------------------------- statistics
FAN_IN, FAN_OUT = 500, 300
SHAPE = (FAN_OUT, FAN_IN)  # (units, units of the previous layer)


@pytest.mark.parametrize(("name", "std"), [
    ("he_normal", math.sqrt(2 / FAN_IN)),
    ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
    ("lecun_normal", math.sqrt(1 / FAN_IN)),
    ("normal", 0.05),
])
def test_normal_statistics(name, std):
    W = get_initializer(name)(SHAPE, np.random.default_rng(0))
    n = W.size
    assert abs(W.mean()) < 5 * std / math.sqrt(n)
    assert W.std() == pytest.approx(std, rel=0.01)
    assert (W < 0).mean() == pytest.approx(0.5, abs=0.01)
    # untruncated: some draws beyond 2 std (truncated normals have none)
    assert (np.abs(W) > 2 * std).mean() == pytest.approx(0.0455, abs=0.005)


@pytest.mark.parametrize(("name", "limit"), [
    ("he_uniform", math.sqrt(6 / FAN_IN)),
    ("glorot_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))),
    ("uniform", 0.05),
])
def test_uniform_statistics(name, limit):
    W = get_initializer(name)(SHAPE, np.random.default_rng(1))
    assert W.min() >= -limit and W.max() <= limit
    assert W.min() < -0.999 * limit and W.max() > 0.999 * limit
    assert W.std() == pytest.approx(limit / math.sqrt(3), rel=0.01)
    assert abs(W.mean()) < 5 * limit / math.sqrt(3 * W.size)


def test_bias_vectors_use_their_length_as_fan_in():
    b = get_initializer("he_normal")((40000,), np.random.default_rng(2))
    assert b.std() == pytest.approx(math.sqrt(2 / 40000), rel=0.02)


def test_constant_and_numbers():
    assert get_initializer(0.25).get_config() == {"name": "constant", "value": 0.25}
    np.testing.assert_array_equal(get_initializer("zeros")((2, 3), np.random.default_rng(0)),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(
        get_initializer({"name": "constant", "value": -1.5})((4,), np.random.default_rng(0)),
        np.full(4, -1.5))
    net = Network([2, 3, 1], weights=0.5, biases=-1)
    assert (net.layers[0].W == 0.5).all() and (net.layers[1].b == -1).all()


def test_config_dicts_aliases_and_parameters():
    assert get_initializer({"init": "normal", "std": 0.01}).get_config() == {
        "name": "normal", "std": 0.01, "mean": 0.0}
    assert get_initializer("xavier_uniform").name == "glorot_uniform"
    assert get_initializer("kaiming_normal").name == "he_normal"
    W = get_initializer({"name": "normal", "std": 0.01, "mean": 3.0})((200, 200),
                                                                      np.random.default_rng(0))
    assert W.mean() == pytest.approx(3.0, abs=1e-3) and W.std() == pytest.approx(0.01, rel=0.02)


# ------------------------------------------------------------------------------- errors
def test_unknown_initializer_suggests_a_name():
    with pytest.raises(UnknownNameError, match=r"unknown initializer 'he_normall' \(did you "
                                               r"mean 'he_normal'\?\); expected one of:"):
        get_initializer("he_normall")
    with pytest.raises(UnknownNameError, match="glorot_uniform"):
        Network([2, 2], weights="glorotuniform")


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(GlassnetError, match=r"initializer 'normal' takes no parameter 'stdd'; "
                                            r"it takes: std, mean"):
        get_initializer({"name": "normal", "stdd": 0.1})
    with pytest.raises(GlassnetError, match="takes no parameter 'value'; it takes: none"):
        get_initializer({"name": "zeros", "value": 1})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.1", True, None])
def test_parameter_values_must_be_finite_numbers(bad):
    with pytest.raises(GlassnetError, match=r"initializer 'normal': parameter 'std' must be a "
                                            r"finite number"):
        get_initializer({"name": "normal", "std": bad})


def test_a_single_array_for_all_layers_is_refused():
    with pytest.raises(GlassnetError, match="one array per layer"):
        Network([2, 2], weights=np.zeros((2, 2)))


@pytest.mark.parametrize("spec", [{"name": "normal", "std": -1.0},
                                  {"name": "uniform", "limit": -0.1}])
def test_negative_scale_is_refused_with_a_helpful_message(spec):
    with pytest.raises(GlassnetError, match="initializer"):
        Network([2, 2], weights=spec)


@pytest.mark.parametrize("spec", [{"init": "uniform", "limit": 1e308},
                                  {"init": "normal", "std": 1e200},
                                  {"init": "constant", "value": -1e300}])
def test_absurd_scales_are_refused_not_overflowing(spec):
    with pytest.raises(GlassnetError, match="beyond"):
        get_initializer(spec)
