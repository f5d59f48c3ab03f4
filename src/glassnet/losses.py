"""Loss functions, with their conventions spelled out.

The seed documents disagree on what "squared error" means (½Σ or Σ, sum or
mean over the outputs), so each convention is its own named loss and states
its formula. A loss gives, for every sample (row):

* ``value(y, t, z, activation)``  E for each sample, shape (N,);
* ``grad_output(y, t)``            ∂E/∂y, shape (N, K);
* ``fused_delta(activation, y, t)`` the canonical shortcut δ = ∂E/∂z = y − t
  for softmax + cross-entropy and sigmoid + binary cross-entropy, or ``None``
  when the pair has no shortcut and the general chain rule
  δ = ∂E/∂y ∘ f'(z) (or softmax's Jacobian-vector product) applies.

How a batch is reduced (sum or mean over samples) is the network's
``reduction`` setting, not the loss's: the same loss serves seed 003's summed
batch update and Keras' averaged mini-batch.

Logs are never taken of a 0: with the output activation's ``z`` at hand the
canonical pairs are evaluated from logits (log-softmax, softplus), and
otherwise y is clipped to the smallest positive normal number.

>>> import numpy as np
>>> y, t = np.array([[0.974]]), np.array([[1.0]])
>>> float(get_loss("half_sse").value(y, t)[0])        # doctest: +ELLIPSIS
0.000338...
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, Sigmoid, Softmax
from .errors import unknown_name

__all__ = ["Loss", "HalfSSE", "SSE", "MSE", "CrossEntropy", "BinaryCrossEntropy",
           "LOSSES", "get_loss"]


def _safe_log(y: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(y, np.finfo(y.dtype).tiny))


class Loss:
    """Base class. Subclasses set ``name`` and ``formula`` and implement the methods."""

    name: str = ""
    formula: str = ""
    #: what ``grad_output`` is, for a worked solution
    grad_formula: str = ""

    def value(self, y, t, z=None, activation: Activation | None = None) -> np.ndarray:
        raise NotImplementedError

    def grad_output(self, y, t) -> np.ndarray:
        raise NotImplementedError

    def fused_delta(self, activation: Activation, y, t, out=None) -> np.ndarray | None:
        """δ = ∂E/∂z computed directly, or None when this pairing has no shortcut."""
        return None

    def is_canonical(self, activation: Activation) -> bool:
        """True when ``fused_delta`` applies to this output activation."""
        return False

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class HalfSSE(Loss):
    """E = ½ Σₖ (yₖ − tₖ)²: the ½ cancels the 2 of the derivative (seeds 001, 003, 004)."""

    name = "half_sse"
    formula = "E = ½ Σₖ (yₖ − tₖ)²"
    grad_formula = "∂E/∂yₖ = yₖ − tₖ"

    def value(self, y, t, z=None, activation=None):
        d = y - t
        return 0.5 * np.einsum("ij,ij->i", d, d)

    def grad_output(self, y, t):
        return y - t


class SSE(Loss):
    """E = Σₖ (yₖ − tₖ)², without the ½ (seed 002's regression network)."""

    name = "sse"
    formula = "E = Σₖ (yₖ − tₖ)²"
    grad_formula = "∂E/∂yₖ = 2 (yₖ − tₖ)"

    def value(self, y, t, z=None, activation=None):
        d = y - t
        return np.einsum("ij,ij->i", d, d)

    def grad_output(self, y, t):
        return 2.0 * (y - t)


class MSE(Loss):
    """E = (1/K) Σₖ (yₖ − tₖ)², the mean over the K outputs (Keras, PyTorch).

    Its gradient is 2(y − t)/K: scikit-learn's issue #8349 is the multi-output
    gradient missing that 1/K, which the finite-difference tests rule out here.
    """

    name = "mse"
    formula = "E = (1/K) Σₖ (yₖ − tₖ)²"
    grad_formula = "∂E/∂yₖ = 2 (yₖ − tₖ) / K"

    def value(self, y, t, z=None, activation=None):
        d = y - t
        return np.einsum("ij,ij->i", d, d) / y.shape[1]

    def grad_output(self, y, t):
        return (2.0 / y.shape[1]) * (y - t)


class CrossEntropy(Loss):
    """E = −Σₖ tₖ log yₖ, for a probability vector y (normally a softmax output).

    With softmax the chain rule collapses to δ = y·Σₖtₖ − t, which is the
    familiar δ = y − t for targets that sum to 1 (one-hot labels).
    """

    name = "cross_entropy"
    formula = "E = −Σₖ tₖ log yₖ"
    grad_formula = "∂E/∂yₖ = −tₖ / yₖ"

    def value(self, y, t, z=None, activation=None):
        if z is not None and isinstance(activation, Softmax):
            m = z.max(axis=1, keepdims=True)
            log_y = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        else:
            log_y = _safe_log(y)
        return -np.einsum("ij,ij->i", t, log_y)

    def grad_output(self, y, t):
        return -t / np.maximum(y, np.finfo(y.dtype).tiny)

    def is_canonical(self, activation):
        return isinstance(activation, Softmax)

    def fused_delta(self, activation, y, t, out=None):
        if not isinstance(activation, Softmax):
            return None
        out = np.multiply(y, t.sum(axis=1, keepdims=True), out=out)
        out -= t
        return out


class BinaryCrossEntropy(Loss):
    """E = −Σₖ [tₖ log yₖ + (1 − tₖ) log(1 − yₖ)], for sigmoid outputs (seed 000).

    With a sigmoid output δ = y − t exactly, and E is evaluated from the logit z
    as Σₖ [max(zₖ, 0) − zₖtₖ + log(1 + e^(−|zₖ|))], which never overflows.
    """

    name = "binary_cross_entropy"
    formula = "E = −Σₖ [tₖ log yₖ + (1 − tₖ) log(1 − yₖ)]"
    grad_formula = "∂E/∂yₖ = (yₖ − tₖ) / (yₖ (1 − yₖ))"

    def value(self, y, t, z=None, activation=None):
        if z is not None and isinstance(activation, Sigmoid):
            e = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
            return e.sum(axis=1)
        return -(t * _safe_log(y) + (1 - t) * _safe_log(1 - y)).sum(axis=1)

    def grad_output(self, y, t):
        tiny = np.finfo(y.dtype).tiny
        return (y - t) / np.maximum(y * (1 - y), tiny)

    def is_canonical(self, activation):
        return isinstance(activation, Sigmoid)

    def fused_delta(self, activation, y, t, out=None):
        if not isinstance(activation, Sigmoid):
            return None
        return np.subtract(y, t, out=out)


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (HalfSSE, SSE, MSE, CrossEntropy, BinaryCrossEntropy)
}
_ALIASES = {
    "categorical_crossentropy": "cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
    "bce": "binary_cross_entropy",
    "ce": "cross_entropy",
}


def get_loss(spec: str | dict | Loss) -> Loss:
    """Look a loss up by name (or config dict), or pass an instance through.

    >>> get_loss("cross_entropy").formula
    'E = −Σₖ tₖ log yₖ'
    """
    if isinstance(spec, Loss):
        return spec
    name = spec.get("name") if isinstance(spec, dict) else spec
    key = _ALIASES.get(name, name) if isinstance(name, str) else name
    if key not in LOSSES:
        raise unknown_name("loss", name, LOSSES)
    return LOSSES[key]()
