"""Activations: values and derivatives against closed forms and finite differences, stability.

About the floating-point checks: overflow, division by zero and invalid
operations must never happen (``np.errstate(over=, divide=, invalid="raise")``
and warnings turned into errors). *Underflow* is allowed: e^(−1000) rounding
to 0 is the correctly rounded result that a stable sigmoid or softmax relies
on, and NumPy ignores underflow by default for that reason.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from glassnet import GlassnetError, UnknownNameError, get_activation
from glassnet.activations import ACTIVATIONS, LeakyReLU, Softmax

ELEMENTWISE = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
DTYPES = [np.float32, np.float64]


def closed_form(name: str, z: np.ndarray) -> np.ndarray:
    """Textbook formulas, evaluated in float64 on moderate z (no stability tricks needed)."""
    z = z.astype(np.float64)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "linear":
        return z
    if name == "softmax":
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)
    raise AssertionError(name)


def closed_form_derivative(name: str, z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    return {
        "sigmoid": lambda: np.exp(-z) / (1.0 + np.exp(-z)) ** 2,
        "tanh": lambda: 1.0 / np.cosh(z) ** 2,
        "relu": lambda: (z > 0).astype(float),
        "leaky_relu": lambda: np.where(z > 0, 1.0, 0.01),
        "linear": lambda: np.ones_like(z),
    }[name]()


def moderate_z(dtype=np.float64, shape=(7, 5), seed=0) -> np.ndarray:
    z = np.random.default_rng(seed).uniform(-6, 6, size=shape)
    z[np.abs(z) < 1e-3] = 0.5  # keep finite differences away from relu's kink
    return z.astype(dtype)


def test_every_activation_is_registered():
    assert set(ACTIVATIONS) == set(ELEMENTWISE) | {"softmax"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_forward_matches_closed_form(name, dtype):
    z = moderate_z(dtype)
    a = get_activation(name).forward(z)
    assert a.dtype == dtype and a.shape == z.shape
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(a, closed_form(name, z), rtol=rtol, atol=rtol * 1e-3)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_closed_form_and_finite_differences(name):
    act = get_activation(name)
    z = moderate_z()
    a = act.forward(z)
    d = act.derivative(z, a)
    np.testing.assert_allclose(d, closed_form_derivative(name, z), rtol=1e-12, atol=1e-15)
    h = 1e-6
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    np.testing.assert_allclose(d, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_is_grad_times_derivative(name, dtype):
    act = get_activation(name)
    z = moderate_z(dtype)
    a = act.forward(z)
    g = np.random.default_rng(1).normal(size=z.shape).astype(dtype)
    out = act.backward(z, a, g)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, g * act.derivative(z, a), rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_kink_derivative_at_zero_is_the_left_slope(name):
    """f'(0) is taken as the left slope (0 for relu, α for leaky_relu), as PyTorch does."""
    act = get_activation(name)
    z = np.array([[-1.0, 0.0, 1.0]])
    d = act.derivative(z, act.forward(z))
    left = 0.0 if name == "relu" else 0.01
    np.testing.assert_array_equal(d, [[left, left, 1.0]])
    np.testing.assert_array_equal(act.backward(z, act.forward(z), np.full_like(z, 3.0)),
                                  [[3 * left, 3 * left, 3.0]])


def test_leaky_relu_alpha_is_used_and_validated():
    act = get_activation({"name": "leaky_relu", "alpha": 0.2})
    z = np.array([[-2.0, 3.0]])
    np.testing.assert_allclose(act.forward(z), [[-0.4, 3.0]])
    np.testing.assert_allclose(act.derivative(z, act.forward(z)), [[0.2, 1.0]])
    assert act.get_config() == {"name": "leaky_relu", "alpha": 0.2}
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(GlassnetError, match="alpha"):
            LeakyReLU(bad)


# ------------------------------------------------------------------------------ softmax
def explicit_jacobian(a_row: np.ndarray) -> np.ndarray:
    """J[i, j] = ∂a_i/∂z_j = a_i (1[i = j] − a_j), built element by element."""
    K = len(a_row)
    J = np.empty((K, K))
    for i in range(K):
        for j in range(K):
            J[i, j] = a_row[i] * ((1.0 if i == j else 0.0) - a_row[j])
    return J


def test_softmax_rows_sum_to_one_and_are_shift_invariant():
    sm = get_activation("softmax")
    z = np.random.default_rng(2).normal(scale=30, size=(50, 7))
    a = sm.forward(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-14)
    assert (a >= 0).all()
    np.testing.assert_allclose(sm.forward(z + 123.0), a, rtol=1e-12, atol=1e-300)


def test_softmax_backward_is_jacobian_transpose_times_g():
    sm = get_activation("softmax")
    rng = np.random.default_rng(3)
    z, g = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    a = sm.forward(z)
    out = sm.backward(z, a, g)
    for n in range(len(z)):
        J = explicit_jacobian(a[n])
        np.testing.assert_allclose(out[n], J.T @ g[n], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(sm.jacobian(a[n])[0], J, rtol=1e-14, atol=1e-16)


def test_softmax_jacobian_matches_finite_differences():
    sm = get_activation("softmax")
    z = np.random.default_rng(4).normal(size=(1, 5))
    a = sm.forward(z)
    h = 1e-6
    numeric = np.empty((5, 5))
    for j in range(5):
        dz = np.zeros_like(z)
        dz[0, j] = h
        numeric[:, j] = ((sm.forward(z + dz) - sm.forward(z - dz)) / (2 * h))[0]
    np.testing.assert_allclose(sm.jacobian(a)[0], numeric, rtol=1e-7, atol=1e-10)


def test_softmax_has_no_elementwise_derivative():
    sm = get_activation("softmax")
    assert not sm.elementwise
    with pytest.raises(TypeError, match="Jacobian"):
        sm.derivative(np.zeros((1, 2)), np.full((1, 2), 0.5))


# ---------------------------------------------------------------------------- stability
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_extreme_inputs_no_warning_no_nan(name, dtype):
    act = get_activation(name)
    z = np.array([[-1000.0, 1000.0, 0.0], [1000.0, -1000.0, 3.0], [-1000.0, -999.0, -1000.0]],
                 dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            a = act.forward(z)
            d = act.backward(z, a, np.ones_like(z))
            if act.elementwise:
                act.derivative(z, a)
    assert a.dtype == dtype and d.dtype == dtype
    assert np.isfinite(a).all() and np.isfinite(d).all()


def test_extreme_values_are_the_limits():
    z = np.array([[-1000.0, 1000.0]])
    np.testing.assert_array_equal(get_activation("sigmoid").forward(z), [[0.0, 1.0]])
    np.testing.assert_array_equal(get_activation("tanh").forward(z), [[-1.0, 1.0]])
    np.testing.assert_array_equal(get_activation("softmax").forward(
        np.array([[1000.0, 0.0, -1000.0]])), [[1.0, 0.0, 0.0]])
    # softmax of two equal huge logits: exactly one half each, not nan (inf/inf)
    np.testing.assert_array_equal(get_activation("softmax").forward(
        np.array([[1000.0, 1000.0]], dtype=np.float32)), [[0.5, 0.5]])


@pytest.mark.parametrize("z", [-30.0, -100.0, -700.0])
def test_sigmoid_keeps_full_relative_precision_on_the_left_tail(z):
    """1/(1 + e^(−z)) loses nothing here, but 1 − σ(−z) would be 0: check the stable form."""
    expected = np.exp(z) / (1.0 + np.exp(z))  # exact to rounding for z << 0
    got = float(get_activation("sigmoid").forward(np.array([z]))[0])
    assert got == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_out_buffer_is_filled_and_returned(name, dtype):
    act = get_activation(name)
    z = moderate_z(dtype, seed=5)
    expected = act.forward(z)
    buf = np.empty_like(z)
    got = act.forward(z, out=buf)
    assert got is buf
    np.testing.assert_array_equal(buf, expected)
    g = np.random.default_rng(6).normal(size=z.shape).astype(dtype)
    expected_d = act.backward(z, expected, g.copy())
    dbuf = np.empty_like(z)
    assert act.backward(z, expected, g, out=dbuf) is dbuf
    np.testing.assert_allclose(dbuf, expected_d, rtol=1e-6)
    # in place, as the network does for hidden layers (out is the incoming gradient)
    g2 = g.copy()
    np.testing.assert_allclose(act.backward(z, expected, g2, out=g2), expected_d, rtol=1e-6)


# ------------------------------------------------------------------------------ lookup
@pytest.mark.parametrize(("alias", "name"), [("identity", "linear"), ("logistic", "sigmoid"),
                                              ("leakyrelu", "leaky_relu")])
def test_aliases(alias, name):
    assert get_activation(alias) == get_activation(name)


def test_lookup_passes_instances_through_and_compares_by_config():
    inst = Softmax()
    assert get_activation(inst) is inst
    assert get_activation("tanh") == get_activation({"name": "tanh"})
    assert get_activation("leaky_relu") != get_activation({"name": "leaky_relu", "alpha": 0.2})


def test_unknown_activation_suggests_a_name():
    with pytest.raises(UnknownNameError, match=r"did you mean 'sigmoid'\?") as info:
        get_activation("sigmod")
    assert "expected one of:" in str(info.value) and "softmax" in str(info.value)
    assert isinstance(info.value, GlassnetError)


def test_bad_activation_parameters_raise_glassnet_error():
    with pytest.raises(GlassnetError, match="tanh.*bad parameters"):
        get_activation({"name": "tanh", "alpha": 1})
