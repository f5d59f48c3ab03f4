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

Numbers right or refused. A log loss is only defined where its logs are:
``check_output`` refuses, when the network is built, an output activation
whose values can leave the loss's domain (cross-entropy after a linear, tanh
or ReLU output, whose y can be ≤ 0). For the pairs that remain, E is computed
from the logits z (log-softmax, log σ(z) = −softplus(−z)), never from a
clamped y, so a saturated output still gives the true loss: sigmoid +
cross-entropy at z = −1000 gives E = 1000 and δ = −1. Without z, log 0 is
−∞ and the result is infinite: a true value, which the network and the
renderers refuse rather than print (nothing is ever clipped to a finite
stand-in).

>>> import numpy as np
>>> y, t = np.array([[0.974]]), np.array([[1.0]])
>>> float(get_loss("half_sse").value(y, t)[0])        # doctest: +ELLIPSIS
0.000338...
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, Sigmoid, Softmax
from .errors import GlassnetError, unknown_name

__all__ = ["Loss", "HalfSSE", "SSE", "MSE", "CrossEntropy", "BinaryCrossEntropy",
           "LossDomainError", "LOSSES", "get_loss"]


class LossDomainError(GlassnetError):
    """The output activation can produce values where the loss is not defined."""


def _softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^(−|z|))."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _log_sigmoid(z: np.ndarray) -> np.ndarray:
    """log σ(z) = −softplus(−z), finite and exact for every finite z (−1000 → −1000)."""
    return -_softplus(-z)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) per row: z − max − log Σ e^(z − max), finite for every finite z."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _weighted_log_sum(w: np.ndarray, log_v: np.ndarray) -> np.ndarray:
    """Σₖ wₖ log vₖ per row, with 0·log 0 = 0 (a zero target ignores its term)."""
    with np.errstate(invalid="ignore"):
        terms = np.where(w != 0, w * log_v, 0.0)
    return terms.sum(axis=1)


def _log(v: np.ndarray) -> np.ndarray:
    """log v with log 0 = −∞ and no warning: the infinite loss is refused, not clamped."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(v)


def _range_text(rng: tuple[float, float, bool, bool]) -> str:
    lo, hi, lo_in, hi_in = rng
    lo_s = "−∞" if lo == -np.inf else f"{lo:g}".replace("-", "−")
    hi_s = "∞" if hi == np.inf else f"{hi:g}".replace("-", "−")
    return f"{'[' if lo_in else '('}{lo_s}, {hi_s}{']' if hi_in else ')'}"


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

    def check_output(self, activation: Activation, units: int) -> None:
        """Refuse (``LossDomainError``) an output activation whose values can leave the domain.

        The squared-error losses are defined for every y; the log losses override this.

        >>> from glassnet.activations import get_activation
        >>> get_loss("cross_entropy").check_output(get_activation("tanh"), 3)
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        glassnet.losses.LossDomainError: loss cross_entropy takes log y, so every output ...
        """

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
    """E = −Σₖ tₖ log yₖ, for a probability vector y (a softmax output, or sigmoid units).

    With softmax the chain rule collapses to δ = y·Σₖtₖ − t, which is the
    familiar δ = y − t for targets that sum to 1 (one-hot labels); with
    sigmoid units δₖ = −tₖ(1 − yₖ) = tₖ(yₖ − 1). E is computed from the logits
    (log-softmax, log-sigmoid). Any other output activation can give y ≤ 0
    and is refused by ``check_output``.
    """

    name = "cross_entropy"
    formula = "E = −Σₖ tₖ log yₖ"
    grad_formula = "∂E/∂yₖ = −tₖ / yₖ"

    def value(self, y, t, z=None, activation=None):
        if z is not None and isinstance(activation, Softmax):
            return -np.einsum("ij,ij->i", t, _log_softmax(z))
        if z is not None and isinstance(activation, Sigmoid):
            return -np.einsum("ij,ij->i", t, _log_sigmoid(z))
        return -_weighted_log_sum(t, _log(y))

    def grad_output(self, y, t):
        out = np.zeros(np.broadcast_shapes(np.shape(y), np.shape(t)), dtype=np.result_type(y, t))
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(-t, y, out=out, where=t != 0)
        return out

    def is_canonical(self, activation):
        return isinstance(activation, (Softmax, Sigmoid))

    def fused_delta(self, activation, y, t, out=None):
        if isinstance(activation, Softmax):
            out = np.multiply(y, t.sum(axis=1, keepdims=True), out=out)
            out -= t
            return out
        if isinstance(activation, Sigmoid):  # δ = −t ∘ σ(−z)·... = t ∘ (y − 1)
            out = np.subtract(y, 1.0, out=out)
            out *= t
            out += 0.0  # −0.0 (a zero target) → 0.0
            return out
        return None

    def check_output(self, activation, units):
        lo, hi, lo_in, _ = activation.output_range
        if lo < 0 or (lo == 0 and lo_in):
            raise LossDomainError(
                f"loss {self.name} takes log y, so every output must be in (0, ∞); a "
                f"{activation.name} output layer gives values in "
                f"{_range_text(activation.output_range)}, where the loss is undefined (log of "
                f"a number ≤ 0); use softmax (or sigmoid) on the output layer, or a "
                f"squared-error loss (half_sse, sse, mse)")


class BinaryCrossEntropy(Loss):
    """E = −Σₖ [tₖ log yₖ + (1 − tₖ) log(1 − yₖ)], for sigmoid outputs (seed 000).

    With a sigmoid output δ = y − t exactly, and E is evaluated from the logit z
    as Σₖ [max(zₖ, 0) − zₖtₖ + log(1 + e^(−|zₖ|))], which never overflows. Every
    other output is refused by ``check_output``: linear, tanh and relu outputs can
    leave (0, 1), and softmax units are not independent probabilities (and a
    saturated softmax makes 1 − y, and so δ, inexact).
    """

    name = "binary_cross_entropy"
    formula = "E = −Σₖ [tₖ log yₖ + (1 − tₖ) log(1 − yₖ)]"
    grad_formula = "∂E/∂yₖ = (yₖ − tₖ) / (yₖ (1 − yₖ))"

    def value(self, y, t, z=None, activation=None):
        if z is not None and isinstance(activation, Sigmoid):
            e = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
            return e.sum(axis=1)
        return -(_weighted_log_sum(t, _log(y)) + _weighted_log_sum(1 - t, _log(1 - y)))

    def grad_output(self, y, t):
        # (y − t) / (y(1 − y)) where y(1 − y) is a normal number; elsewhere the two
        # terms −t/y + (1 − t)/(1 − y) separately (so y = t = 1 gives −1, not 0/0),
        # and ±∞ where the derivative really is infinite: refused, never clamped.
        y, t = np.asarray(y), np.asarray(t)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            denom = y * (1 - y)
            direct = (y - t) / denom
            if np.all(denom >= np.finfo(denom.dtype).tiny):
                return direct
            zeros = np.zeros_like(direct)
            left = np.divide(-t, y, out=zeros.copy(), where=t != 0)
            right = np.divide(1 - t, 1 - y, out=zeros, where=(1 - t) != 0)
            return np.where(denom >= np.finfo(denom.dtype).tiny, direct, left + right)

    def is_canonical(self, activation):
        return isinstance(activation, Sigmoid)

    def fused_delta(self, activation, y, t, out=None):
        if not isinstance(activation, Sigmoid):
            return None
        return np.subtract(y, t, out=out)

    def check_output(self, activation, units):
        lo, hi, lo_in, hi_in = activation.output_range
        if lo < 0 or hi > 1 or lo_in or hi_in:
            raise LossDomainError(
                f"loss {self.name} takes log y and log(1 − y), so every output must be in "
                f"(0, 1); a {activation.name} output layer gives values in "
                f"{_range_text(activation.output_range)}, where the loss is undefined; use "
                f"sigmoid on the output layer (or softmax with cross_entropy), or a "
                f"squared-error loss (half_sse, sse, mse)")
        if isinstance(activation, Softmax):
            raise LossDomainError(
                f"loss {self.name} treats every output as an independent probability "
                f"(sigmoid units); softmax outputs sum to 1 (a one-unit softmax is the "
                f"constant 1, where log(1 − y) = log 0); use sigmoid with {self.name}, or "
                f"softmax with cross_entropy")


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
    if not isinstance(key, str) or key not in LOSSES:  # a mapping or a list is not a name
        from .validate import describe

        raise unknown_name("loss", name if isinstance(name, str) else describe(name), LOSSES)
    return LOSSES[key]()
