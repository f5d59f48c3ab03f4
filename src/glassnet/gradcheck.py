"""Gradient checking: analytic gradients against central finite differences.

Why: a backpropagation bug (a missing ½, a transposed matrix, scikit-learn's
forgotten 1/K in #8349) still trains, just worse; only a comparison with
the definition of the derivative catches it. For every parameter θ,

    ∂E/∂θ ≈ (E(θ + h) − E(θ − h)) / 2h,

computed in float64 on a copy of the network (the original is untouched).
The error for each entry is ``|analytic − numeric| / max(|analytic|,
|numeric|, floor)``: relative for normal-sized gradients, absolute-ish below
``floor``, where the finite difference itself is only accurate to about
1e-10. The report keeps the worst entry of every tensor.

>>> import numpy as np
>>> from glassnet import Network
>>> net = Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=1)
>>> X = np.random.default_rng(0).normal(size=(5, 3)); T = np.eye(2)[[0, 1, 1, 0, 1]]
>>> report = gradient_check(net, X, T)
>>> report.ok(1e-6), sorted(report.errors)
(True, ['W1', 'W2', 'b1', 'b2'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GradCheckReport", "gradient_check"]


@dataclass(frozen=True)
class GradCheckReport:
    """Worst error per parameter tensor, with where it happened and the two values."""

    errors: dict[str, float]
    worst_index: dict[str, tuple[int, ...]]
    analytic: dict[str, np.ndarray]
    numeric: dict[str, np.ndarray]

    @property
    def max_error(self) -> float:
        return max(self.errors.values())

    def ok(self, tol: float = 1e-6) -> bool:
        return self.max_error <= tol

    def __str__(self) -> str:
        lines = [f"{'tensor':<8}{'worst error':>14}  at"]
        for name, err in self.errors.items():
            idx = self.worst_index[name]
            a, n = self.analytic[name][idx], self.numeric[name][idx]
            lines.append(f"{name:<8}{err:>14.3e}  {list(idx)} analytic {a:.10g} numeric {n:.10g}")
        return "\n".join(lines)


def gradient_check(net: Any, X: Any, T: Any, *, h: float = 1e-5,
                   floor: float = 1e-4) -> GradCheckReport:
    """Compare ``net``'s backpropagated gradients with central differences on (X, T).

    Biases are checked whether or not they are updated. Costs two forward
    passes per parameter: meant for small networks.
    """
    net64 = net.copy(dtype="float64")
    X = net64._as_batch(X, net64.n_inputs, "input X", "layer 1")
    T = net64._as_batch(T, net64.n_outputs, "targets T", "output layer")
    net64._forward(X)
    net64._backward(T)
    tensors: list[tuple[str, np.ndarray, np.ndarray]] = []
    for l, layer in enumerate(net64.layers, start=1):
        tensors.append((f"W{l}", layer.W, layer.grad_W.copy()))
        if layer.b is not None:
            tensors.append((f"b{l}", layer.b, layer.grad_b.copy()))

    def loss() -> float:
        net64._forward(X)
        out = net64.layers[-1]
        losses = net64.loss.value(out.a, T, out.z, out.activation)
        return float(losses.sum() if net64.reduction == "sum" else losses.mean())

    floor = floor * max(1.0, abs(loss()))  # FD rounding error scales with |E|
    errors, where, analytic, numeric = {}, {}, {}, {}
    for name, param, grad in tensors:
        num = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            old = param[idx]
            param[idx] = old + h
            e_plus = loss()
            param[idx] = old - h
            e_minus = loss()
            param[idx] = old
            num[idx] = (e_plus - e_minus) / (2 * h)
        err = np.abs(grad - num) / np.maximum(np.maximum(np.abs(grad), np.abs(num)), floor)
        worst = np.unravel_index(int(np.argmax(err)), err.shape)
        errors[name] = float(err[worst])
        where[name] = tuple(int(i) for i in worst)
        analytic[name], numeric[name] = grad, num
    return GradCheckReport(errors, where, analytic, numeric)
