"""Activation functions, each paired with its derivative.

Why objects and not bare functions: backpropagation needs f and f' together,
and the derivative is cheapest (and what textbooks write) in terms of the
*output* a = f(z): σ'(z) = a(1 − a), tanh'(z) = 1 − a². Each activation
therefore offers

* ``forward(z, out)``             a = f(z), numerically stable for any finite z;
* ``backward(z, a, grad_a, out)`` ∂E/∂z given ∂E/∂a: the element-wise product
  grad_a ∘ f'(z) for element-wise functions, the Jacobian-vector product for
  softmax (whose outputs all depend on every input);
* ``derivative(z, a)``            f'(z) element-wise (not for softmax);
* ``formula`` / ``derivative_formula``: the text a worked solution prints.

All functions accept an ``out`` array so the training loop can reuse buffers,
and none of them emits an overflow warning for inputs like ±1000.

>>> import numpy as np
>>> get_activation("sigmoid").forward(np.array([0.0, 1000.0, -1000.0]))
array([0.5, 1. , 0. ])
"""

from __future__ import annotations

import numpy as np

from .errors import unknown_name

__all__ = [
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Linear",
    "Softmax",
    "ACTIVATIONS",
    "get_activation",
]


_ZEROS: dict[tuple, np.ndarray] = {}
_ZEROS_MAX_SIZE = 1 << 18  # cache zeros for batch-sized arrays only (at most 2 MB each)
#: log of the smallest normal number: below it σ(z) ≈ e^z is subnormal
_LOG_TINY = {np.dtype(t): float(np.log(np.finfo(t).tiny)) for t in (np.float32, np.float64)}


def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of zeros, cached per (shape, dtype): the training loop
    asks for the same few shapes again and again."""
    key = (shape, dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        if len(_ZEROS) >= 8:  # a new set of shapes: start again
            _ZEROS.clear()
        zeros = np.zeros(shape, dtype)
        zeros.flags.writeable = False
        _ZEROS[key] = zeros
    return zeros


class Activation:
    """Base class: subclasses set ``name`` and implement ``forward`` and ``derivative``."""

    name: str = ""
    formula: str = ""
    derivative_formula: str = ""
    #: True when f acts on each unit separately (every activation but softmax).
    elementwise: bool = True
    #: The values f can take, as (low, high, low_included, high_included): what a
    #: loss checks before it takes log a or log(1 − a) (see ``Loss.check_output``).
    output_range: tuple[float, float, bool, bool] = (-np.inf, np.inf, False, False)

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """f'(z), element-wise; ``a`` is f(z), from which most derivatives are cheapest."""
        raise NotImplementedError

    def backward(
        self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """∂E/∂z = ∂E/∂a ∘ f'(z) (chain rule through an element-wise function)."""
        return np.multiply(grad_a, self.derivative(z, a), out=out)

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Activation) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(self.name)


class Sigmoid(Activation):
    """The logistic function σ(z) = 1 / (1 + e^(−z)).

    Computed as ``1/(1+e)`` with ``e = exp(−z)`` (one exp per value) when no
    σ(z) of the array can be subnormal; otherwise as ``e/(1+e)`` with
    ``e = exp(−|z|)``, whose exponent is never positive. Either way: no
    overflow warning for z = −1000, full precision on both tails.
    """

    name = "sigmoid"
    formula = "σ(z) = 1 / (1 + e^(−z))"
    output_range = (0.0, 1.0, False, False)
    derivative_formula = "σ'(z) = a·(1 − a)"

    def forward(self, z, out=None):
        z = np.asarray(z)
        if z.dtype.kind != "f":
            z = z.astype(np.float64)
        lowest = _LOG_TINY.get(z.dtype)
        if lowest is not None and z.size and np.minimum.reduce(z, axis=None) > lowest:
            # The fast form 1 / (1 + e^(−z)): four in-place passes, one exp. Every
            # z is above log(smallest normal number) (−87.3 in float32, −708.4 in
            # float64), so e^(−z) cannot overflow and σ(z) is a normal number,
            # exact to a few ulps.
            a = np.negative(z, out=out)
            np.exp(a, out=a)
            a += 1.0
            return np.reciprocal(a, out=a)
        # Otherwise (far negative z, NaN, other dtypes) e/(1 + e) with e = e^(−|z|),
        # whose exponent is never positive: no overflow, and the subnormal tail kept.
        e = np.exp(-np.abs(z))
        num = np.where(z >= 0, 1.0, e).astype(e.dtype, copy=False)
        np.add(e, 1.0, out=e)
        return np.divide(num, e, out=out)

    def derivative(self, z, a):
        return a * (1.0 - a)

    def backward(self, z, a, grad_a, out=None):
        out = np.multiply(grad_a, a, out=out)
        out *= 1.0 - a
        return out


class Tanh(Activation):
    """Hyperbolic tangent; ``np.tanh`` is already stable for any finite z."""

    name = "tanh"
    formula = "tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))"
    output_range = (-1.0, 1.0, False, False)
    derivative_formula = "tanh'(z) = 1 − a²"

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1.0 - a * a

    def backward(self, z, a, grad_a, out=None):
        d = a * a
        np.subtract(1.0, d, out=d)
        return np.multiply(grad_a, d, out=out)


class ReLU(Activation):
    """Rectified linear unit max(0, z); f'(0) is taken as 0 (as PyTorch and Keras do)."""

    name = "relu"
    formula = "relu(z) = max(0, z)"
    output_range = (0.0, np.inf, True, False)
    derivative_formula = "relu'(z) = 1 if z > 0 else 0"

    def forward(self, z, out=None):
        if isinstance(z, np.ndarray) and z.dtype.kind == "f" and z.size <= _ZEROS_MAX_SIZE:
            # NumPy's maximum is several times faster against an array of zeros than
            # against the scalar 0 (which misses its vectorised loop).
            return np.maximum(z, _zeros(z.shape, z.dtype), out=out)
        return np.maximum(z, 0.0, out=out)

    def derivative(self, z, a):
        return (z > 0).astype(a.dtype)

    def backward(self, z, a, grad_a, out=None):
        # a > 0 exactly where z > 0, so δ = ∂E/∂a · [a > 0].
        if out is None:
            return np.where(a > 0, grad_a, 0.0).astype(grad_a.dtype, copy=False)
        # Multiplying by the mask is several times faster than assigning zeros
        # through a boolean index; + 0.0 turns the −0.0 of (negative)·0 into 0.0.
        # (Only a NaN or infinite ∂E/∂a where a ≤ 0, i.e. a diverged network,
        # gives NaN here instead of 0.)
        np.multiply(grad_a, np.greater(a, 0), out=out)
        out += 0.0
        return out


class LeakyReLU(Activation):
    """max(αz, z) with a small slope α (default 0.01) for negative z."""

    name = "leaky_relu"
    derivative_formula = "f'(z) = 1 if z > 0 else α"

    def __init__(self, alpha: float = 0.01):
        from .validate import Real, validate

        # a number, not a bool, a list or text; finite and >= 0 (a slope of 1e308 overflows)
        self.alpha = validate(alpha, Real(0, 1e6), "leaky_relu alpha")

    @property
    def formula(self) -> str:  # type: ignore[override]
        return f"f(z) = z if z > 0 else {self.alpha:g}·z"

    @property
    def output_range(self) -> tuple[float, float, bool, bool]:  # type: ignore[override]
        return (0.0, np.inf, True, False) if self.alpha == 0 else (-np.inf, np.inf, False, False)

    def forward(self, z, out=None):
        a = np.where(z > 0, z, z * self.alpha)
        if out is None:
            return a
        np.copyto(out, a)
        return out

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.alpha).astype(a.dtype, copy=False)

    def get_config(self) -> dict:
        return {"name": self.name, "alpha": self.alpha}

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"


class Linear(Activation):
    """The identity f(z) = z, for regression outputs (seed 002)."""

    name = "linear"
    formula = "f(z) = z"
    derivative_formula = "f'(z) = 1"

    def forward(self, z, out=None):
        if out is None:
            return z.copy()
        if out is not z:
            np.copyto(out, z)
        return out

    def derivative(self, z, a):
        return np.ones_like(a)

    def backward(self, z, a, grad_a, out=None):
        if out is None:
            return grad_a.copy()
        if out is not grad_a:
            np.copyto(out, grad_a)
        return out


class Softmax(Activation):
    """softmax(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), over each row (one sample per row).

    Stable: the row maximum is subtracted before exponentiating. Its Jacobian
    ∂aᵢ/∂zⱼ = aᵢ(δᵢⱼ − aⱼ) is never formed; ``backward`` applies it to a
    vector directly: ∂E/∂zⱼ = aⱼ (gⱼ − Σᵢ gᵢ aᵢ). When softmax meets
    cross-entropy the network uses the fused δ = y − t instead.
    """

    name = "softmax"
    formula = "softmax(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ)"
    derivative_formula = "∂aᵢ/∂zⱼ = aᵢ·(1[i=j] − aⱼ)"
    elementwise = False
    #: (0, 1) for two or more units; a softmax over one unit is the constant 1
    output_range = (0.0, 1.0, False, False)

    def forward(self, z, out=None):
        out = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        return out

    def derivative(self, z, a):
        raise TypeError("softmax is not element-wise: use backward() (a Jacobian-vector product)")

    def jacobian(self, a: np.ndarray) -> np.ndarray:
        """The full Jacobian ∂a/∂z for each row: shape (N, K, K). For display only."""
        a = np.atleast_2d(a)
        return a[:, :, None] * (np.eye(a.shape[1], dtype=a.dtype)[None] - a[:, None, :])

    def backward(self, z, a, grad_a, out=None):
        s = np.sum(grad_a * a, axis=-1, keepdims=True)
        out = np.subtract(grad_a, s, out=out)
        out *= a
        return out


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Sigmoid, Tanh, ReLU, LeakyReLU, Linear, Softmax)
}
_ALIASES = {"identity": "linear", "logistic": "sigmoid", "leakyrelu": "leaky_relu"}


def _kind(value: object) -> str:
    """What a non-name is, for the error message (never its whole text)."""
    from .validate import describe

    return describe(value)


def get_activation(spec: str | dict | Activation) -> Activation:
    """Look an activation up by name (or config dict), or pass an instance through.

    >>> get_activation("tanh")
    Tanh()
    >>> get_activation({"name": "leaky_relu", "alpha": 0.2})
    LeakyReLU(alpha=0.2)
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None)
    else:
        name, params = spec, {}
    key = _ALIASES.get(name, name) if isinstance(name, str) else name
    if not isinstance(key, str) or key not in ACTIVATIONS:  # a mapping is not a name
        raise unknown_name("activation", name if isinstance(name, str) else _kind(name),
                           ACTIVATIONS)
    try:
        return ACTIVATIONS[key](**params)
    except TypeError as exc:
        from .errors import GlassnetError

        raise GlassnetError(f"activation {key!r}: bad parameters {params}: {exc}") from None
