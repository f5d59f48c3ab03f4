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

Each checked entry costs two forward passes, so a large network is checked
on a **sample**: with ``max_checks=N`` at most N entries are drawn uniformly
without replacement from all parameters by ``numpy.random.default_rng(seed)``
(plus one entry of any tensor the draw missed, so every tensor is checked);
``glassnet gradcheck`` checks at most 200 by default (``--checks``). Work
whose estimated time exceeds ``max_seconds`` is refused before it starts
(a 5000-layer network, a huge batch), and Ctrl-C returns the report of what
was checked so far (``report.interrupted``).

>>> import numpy as np
>>> from glassnet import Network
>>> net = Network([3, 4, 2], ["tanh", "softmax"], "cross_entropy", seed=1)
>>> X = np.random.default_rng(0).normal(size=(5, 3)); T = np.eye(2)[[0, 1, 1, 0, 1]]
>>> report = gradient_check(net, X, T)
>>> report.ok(1e-6), sorted(report.errors)
(True, ['W1', 'W2', 'b1', 'b2'])
>>> big = Network([50, 40, 10], "tanh", "half_sse", seed=1)
>>> report = gradient_check(big, np.ones((2, 50)), np.zeros((2, 10)), max_checks=30, seed=0)
>>> report.n_checked, report.n_parameters, report.ok(1e-6)  # 30 drawn + 1 per missed bias
(32, 2450, True)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import GlassnetError

__all__ = ["GradCheckReport", "gradient_check", "estimate_seconds"]

#: rough costs on a laptop core, for refusing hopeless work up front (not a promise):
#: Python/NumPy overhead per layer of a forward pass, and float64 multiply-adds per second
_SECONDS_PER_LAYER = 2e-5
_FLOPS = 1e9


@dataclass(frozen=True)
class GradCheckReport:
    """Worst error per parameter tensor, with where it happened and the two values.

    ``checked`` counts the entries compared per tensor (all of them unless sampled);
    ``numeric`` is NaN where an entry was not checked. ``interrupted`` is True when
    Ctrl-C stopped the check: the report covers what was checked before.
    """

    errors: dict[str, float]
    worst_index: dict[str, tuple[int, ...]]
    analytic: dict[str, np.ndarray]
    numeric: dict[str, np.ndarray]
    checked: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def max_error(self) -> float:
        return max(self.errors.values()) if self.errors else 0.0

    @property
    def n_checked(self) -> int:
        return sum(self.checked.values())

    @property
    def n_parameters(self) -> int:
        return sum(self.sizes.values())

    @property
    def sampled(self) -> bool:
        return self.n_checked < self.n_parameters

    def ok(self, tol: float = 1e-6) -> bool:
        return bool(self.errors) and self.max_error <= tol

    def __str__(self) -> str:
        lines = [f"{'tensor':<8}{'worst error':>14}  at"]
        for name, err in self.errors.items():
            idx = self.worst_index[name]
            a, n = self.analytic[name][idx], self.numeric[name][idx]
            note = "" if self.checked.get(name, 0) == self.sizes.get(name, 0) else \
                f"  ({self.checked[name]} of {self.sizes[name]} entries)"
            lines.append(f"{name:<8}{err:>14.3e}  {list(idx)} analytic {a:.10g} numeric "
                         f"{n:.10g}{note}")
        if self.interrupted:
            lines.append(f"interrupted: {self.n_checked} of {self.n_parameters} parameters "
                         f"checked before Ctrl-C")
        elif self.sampled:
            lines.append(f"checked {self.n_checked} of {self.n_parameters} parameters "
                         f"(a seeded uniform sample)")
        return "\n".join(lines)


def estimate_seconds(net: Any, n_samples: int, n_checks: int) -> float:
    """A rough estimate of the seconds a check takes: two forward passes per entry."""
    flops = 2.0 * n_samples * sum(layer.W.size for layer in net.layers)
    per_forward = len(net.layers) * _SECONDS_PER_LAYER + flops / _FLOPS
    return (2 * n_checks + 2) * per_forward


def _choose(sizes: list[int], max_checks: int | None, seed: int) -> list[np.ndarray]:
    """Flat indices to check in each tensor: all of them, or a seeded uniform sample."""
    total = sum(sizes)
    if max_checks is None or total <= max_checks:
        return [np.arange(n) for n in sizes]
    rng = np.random.default_rng(seed)
    flat = np.sort(rng.choice(total, size=max_checks, replace=False))
    starts = np.cumsum([0] + sizes)
    chosen = []
    for t, n in enumerate(sizes):
        idx = flat[(flat >= starts[t]) & (flat < starts[t + 1])] - starts[t]
        if idx.size == 0:  # every tensor gets at least one entry
            idx = np.array([int(rng.integers(n))])
        chosen.append(idx)
    return chosen


def gradient_check(net: Any, X: Any, T: Any, *, h: float = 1e-5, floor: float = 1e-4,
                   max_checks: int | None = None, seed: int = 0, progress: bool = False,
                   max_seconds: float | None = 600.0) -> GradCheckReport:
    """Compare ``net``'s backpropagated gradients with central differences on (X, T).

    Biases are checked whether or not they are updated. ``max_checks`` samples that
    many entries (seeded by ``seed``) instead of checking every one; ``progress``
    shows a tqdm bar on stderr (it appears after half a second); work estimated to
    take more than ``max_seconds`` is refused before it starts.
    """
    from .validate import Integer, Real, validate

    h = validate(h, Real(0, 1, lo_closed=False), "gradient_check h")
    floor = validate(floor, Real(0, None), "gradient_check floor")
    max_checks = validate(max_checks, [None, Integer(1, 10**9)], "gradient_check max_checks")
    seed = validate(seed, Integer(0, 2**63 - 1), "gradient_check seed")
    net64 = net.copy(dtype="float64")
    X = net64._as_batch(X, net64.n_inputs, "input X", "layer 1")
    T = net64._as_batch(T, net64.n_outputs, "targets T", "output layer")
    tensors: list[tuple[str, np.ndarray, np.ndarray]] = []
    net64._forward(X)
    net64._backward(T)
    for l, layer in enumerate(net64.layers, start=1):
        tensors.append((f"W{l}", layer.W, layer.grad_W.copy()))
        if layer.b is not None:
            tensors.append((f"b{l}", layer.b, layer.grad_b.copy()))
    chosen = _choose([p.size for _, p, _ in tensors], max_checks, seed)
    n_checks = sum(len(c) for c in chosen)
    if max_seconds is not None:
        eta = estimate_seconds(net64, len(X), n_checks)
        if eta > max_seconds:
            raise GlassnetError(
                f"gradient check: {n_checks} parameters × 2 forward passes of a "
                f"{len(net64.layers)}-layer network on {len(X)} samples would take about "
                f"{eta:.0f} s (more than {max_seconds:g} s); check a sample (max_checks, "
                f"--checks), fewer samples or a smaller network")

    def loss() -> float:
        net64._forward(X)
        out = net64.layers[-1]
        losses = net64.loss.value(out.a, T, out.z, out.activation)
        return float(losses.sum() if net64.reduction == "sum" else losses.mean())

    floor = floor * max(1.0, abs(loss()))  # FD rounding error scales with |E|
    bar = _progress_bar(n_checks) if progress else None
    numerics = [np.full(param.shape, np.nan) for _, param, _ in tensors]
    done = [0] * len(tensors)
    interrupted = False
    try:
        for t, ((_, param, _), idx) in enumerate(zip(tensors, chosen, strict=True)):
            for k in idx:
                where = np.unravel_index(int(k), param.shape)  # row-major numbering
                old = param[where]
                param[where] = old + h
                e_plus = loss()
                param[where] = old - h
                e_minus = loss()
                param[where] = old
                numerics[t][where] = (e_plus - e_minus) / (2 * h)
                done[t] += 1
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    errors, where_worst, analytic, numeric, checked, sizes = {}, {}, {}, {}, {}, {}
    for t, (name, param, grad) in enumerate(tensors):
        sizes[name] = int(param.size)
        checked[name] = done[t]
        analytic[name], numeric[name] = grad, numerics[t]
        if done[t] == 0:
            continue
        num = numerics[t]
        with np.errstate(invalid="ignore"):
            err = np.abs(grad - num) / np.maximum(np.maximum(np.abs(grad), np.abs(num)), floor)
        err = np.where(np.isnan(num), -1.0, err)  # unchecked entries never the worst
        worst = np.unravel_index(int(np.argmax(err)), err.shape)
        errors[name] = float(err[worst])
        where_worst[name] = tuple(int(i) for i in worst)
    if interrupted and not errors:
        raise KeyboardInterrupt
    return GradCheckReport(errors, where_worst, analytic, numeric, checked, sizes, interrupted)


def _progress_bar(total: int) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc="gradcheck", unit="param", file=sys.stderr, delay=0.5,
                leave=False, mininterval=0.25)
