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

**Kinks.** relu and leaky_relu have a corner at z = 0, where the derivative
jumps: when θ ± h moves some unit's z across 0 for some sample, the central
difference averages two slopes and disagrees with a *correct* gradient (with
3000 samples a 3-4-2 relu network has units within 1e-5 of 0 for almost every
first-layer weight). The check watches the sign pattern of every piecewise-
linear layer's z: an entry whose step crosses a kink is re-checked with h/10,
then h/100 (a central difference's rounding error grows like 1/h, so its
floor grows by the same factor); when even h/100 crosses, the entry is
**skipped**, counted in ``report.skipped`` and never reported as an error. A
wrong gradient is still caught on every entry whose step stays on one piece.

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

__all__ = ["GradCheckReport", "gradient_check", "estimate_seconds", "KINKED_ACTIVATIONS",
           "RECHECK_STEPS"]

#: piecewise-linear activations: their derivative jumps where z crosses 0
KINKED_ACTIVATIONS = frozenset({"relu", "leaky_relu"})
#: an entry whose step h crosses a kink is re-checked with h/10, then h/100, then skipped
RECHECK_STEPS = (10.0, 100.0)

#: rough costs on a laptop core, for refusing hopeless work up front (not a promise):
#: Python/NumPy overhead per layer of a forward pass, and float64 multiply-adds per second
_SECONDS_PER_LAYER = 2e-5
_FLOPS = 1e9


@dataclass(frozen=True)
class GradCheckReport:
    """Worst error per parameter tensor, with where it happened and the two values.

    ``checked`` counts the entries compared per tensor (all of them unless sampled);
    ``numeric`` is NaN where an entry was not compared. ``skipped`` counts the entries
    whose every step (h, h/10, h/100) moved some unit's z across a relu/leaky_relu kink,
    ``rechecked`` those compared with a smaller step for that reason. ``interrupted`` is
    True when Ctrl-C stopped the check: the report covers what was checked before.
    """

    errors: dict[str, float]
    worst_index: dict[str, tuple[int, ...]]
    analytic: dict[str, np.ndarray]
    numeric: dict[str, np.ndarray]
    checked: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False
    skipped: dict[str, int] = field(default_factory=dict)
    rechecked: dict[str, int] = field(default_factory=dict)

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    @property
    def n_rechecked(self) -> int:
        return sum(self.rechecked.values())

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
        return self.n_checked + self.n_skipped < self.n_parameters

    def ok(self, tol: float = 1e-6) -> bool:
        return bool(self.errors) and self.max_error <= tol

    def __str__(self) -> str:
        lines = [f"{'tensor':<8}{'worst error':>14}  at"]
        for name in self.sizes:
            checked, size = self.checked.get(name, 0), self.sizes[name]
            skipped, rechecked = self.skipped.get(name, 0), self.rechecked.get(name, 0)
            notes = [] if checked + skipped == size else [f"{checked} of {size} entries"]
            if rechecked:
                notes.append(f"{rechecked} with a smaller step")
            if skipped:
                notes.append(f"{skipped} skipped")
            note = f"  ({', '.join(notes)})" if notes else ""
            if name not in self.errors:
                if skipped:
                    lines.append(f"{name:<8}{'-':>14}  every entry tried crosses a kink{note}")
                continue
            idx = self.worst_index[name]
            a, n = self.analytic[name][idx], self.numeric[name][idx]
            lines.append(f"{name:<8}{self.errors[name]:>14.3e}  {list(idx)} analytic {a:.10g} "
                         f"numeric {n:.10g}{note}")
        if self.n_rechecked:
            lines.append(f"rechecked: {self.n_rechecked} parameters with a smaller step "
                         f"(h/10 or h/100): with h, some unit's z crossed a relu kink "
                         f"(changed sign) for some sample")
        if self.n_skipped:
            lines.append(f"skipped: {self.n_skipped} parameters: the step crosses a kink "
                         f"(some unit's z changes sign for some sample, even with h/100); "
                         f"not counted as errors")
        if self.interrupted:
            lines.append(f"interrupted: {self.n_checked} of {self.n_parameters} parameters "
                         f"checked before Ctrl-C")
        elif self.sampled:
            lines.append(f"checked {self.n_checked + self.n_skipped} of {self.n_parameters} "
                         f"parameters (a seeded uniform sample)")
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

    Biases are checked whether or not they are updated. An entry whose step moves a
    relu/leaky_relu unit's z across 0 for some sample is re-checked with h/10 and h/100,
    then skipped (``report.skipped``), never reported as an error. ``max_checks`` samples that
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
    layer_of: list[int] = []  # 0-based layer of each tensor
    net64._forward(X)
    net64._backward(T)
    for l, layer in enumerate(net64.layers, start=1):
        tensors.append((f"W{l}", layer.W, layer.grad_W.copy()))
        layer_of.append(l - 1)
        if layer.b is not None:
            tensors.append((f"b{l}", layer.b, layer.grad_b.copy()))
            layer_of.append(l - 1)
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

    kinked = [l for l, layer in enumerate(net64.layers)
              if layer.activation.name in KINKED_ACTIVATIONS]

    def loss() -> float:
        net64._forward(X)
        out = net64.layers[-1]
        losses = net64.loss.value(out.a, T, out.z, out.activation)
        return float(losses.sum() if net64.reduction == "sum" else losses.mean())

    def sides(first: int) -> list[np.ndarray]:
        """Which side of its kink every relu-like unit of layer ≥ first is on, per sample."""
        return [net64.layers[l].z > 0 for l in kinked if l >= first]

    e0 = loss()
    base = sides(0)
    floor = floor * max(1.0, abs(e0))  # FD rounding error scales with |E|
    bar = _progress_bar(n_checks) if progress else None
    numerics = [np.full(param.shape, np.nan) for _, param, _ in tensors]
    floors = [np.full(param.shape, floor) for _, param, _ in tensors]
    done, skipped, rechecked = [0] * len(tensors), [0] * len(tensors), [0] * len(tensors)
    steps = (h, *(h / d for d in RECHECK_STEPS))
    interrupted = False
    try:
        for t, ((_, param, _), idx) in enumerate(zip(tensors, chosen, strict=True)):
            first = layer_of[t]  # a parameter of layer l moves z of layers l, l+1, ...
            before = [s for l, s in zip(kinked, base, strict=True) if l >= first]

            for k in idx:
                where = np.unravel_index(int(k), param.shape)  # row-major numbering
                old = param[where]
                for r, step in enumerate(steps):
                    param[where] = old + step
                    e_plus = loss()
                    same = _same(sides(first), before)
                    param[where] = old - step
                    e_minus = loss()
                    same = same and _same(sides(first), before)
                    param[where] = old
                    if same:
                        numerics[t][where] = (e_plus - e_minus) / (2 * step)
                        floors[t][where] = floor * (h / step)  # rounding error grows as 1/step
                        done[t] += 1
                        rechecked[t] += int(r > 0)
                        break
                else:  # every step crossed a kink: the difference says nothing about it
                    skipped[t] += 1
                if bar is not None:
                    bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    errors, where_worst, analytic, numeric, checked, sizes = {}, {}, {}, {}, {}, {}
    n_skipped, n_rechecked = {}, {}
    for t, (name, param, grad) in enumerate(tensors):
        sizes[name] = int(param.size)
        checked[name] = done[t]
        n_skipped[name], n_rechecked[name] = skipped[t], rechecked[t]
        analytic[name], numeric[name] = grad, numerics[t]
        if done[t] == 0:
            continue
        num = numerics[t]
        with np.errstate(invalid="ignore"):
            err = np.abs(grad - num) / np.maximum(np.maximum(np.abs(grad), np.abs(num)),
                                                  floors[t])
        err = np.where(np.isnan(num), -1.0, err)  # unchecked entries never the worst
        worst = np.unravel_index(int(np.argmax(err)), err.shape)
        errors[name] = float(err[worst])
        where_worst[name] = tuple(int(i) for i in worst)
    if interrupted and not errors:
        raise KeyboardInterrupt
    return GradCheckReport(errors, where_worst, analytic, numeric, checked, sizes, interrupted,
                           n_skipped, n_rechecked)


def _same(now: list[np.ndarray], before: list[np.ndarray]) -> bool:
    """True when no relu-like unit changed sides of its kink (for any sample)."""
    return all(np.array_equal(a, b) for a, b in zip(now, before, strict=True))


def _progress_bar(total: int) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc="gradcheck", unit="param", file=sys.stderr, delay=0.5,
                leave=False, mininterval=0.25)
