"""The worked solution of an exercise: the engine's own trace, kept for rendering.

:func:`solve` builds a float64 :class:`~glassnet.network.Network` from the
exercise, lets :func:`~glassnet.trace.run_updates` train it (recording one
:class:`~glassnet.trace.Update` per weight change), and runs the query points
through the trained network. Every number a renderer prints comes from
these records (or from the engine's own activation and loss objects, for
the f'(z) and ∂E/∂y factors it displays); nothing is recomputed by a second
implementation.

In a Jupyter notebook a :class:`Solution` displays itself as Markdown with
LaTeX (``_repr_markdown_``).

>>> from glassnet.exercise import parse_exercise, solve
>>> sol = solve(parse_exercise({
...     "network": {"layers": [2, 3, 1], "activation": "sigmoid", "weights": 1, "biases": 1},
...     "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
...     "samples": [{"x": [1, 0], "t": [1]}]}))
>>> round(sol.updates[0].loss, 9), round(float(sol.final_b[0][0]), 7)
(0.000325667, 1.0000067)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import GlassnetError
from .loader import Exercise, load_exercise

__all__ = ["Solution", "QueryResult", "solve", "explain"]


@dataclass(frozen=True)
class QueryResult:
    """A query point run forward through the trained network: z and a of every layer."""

    x: np.ndarray
    z: tuple[np.ndarray, ...]
    a: tuple[np.ndarray, ...]
    output: np.ndarray
    cls: int
    class_rule: str


class Solution:
    """An exercise and the engine's record of solving it.

    Attributes: ``exercise``; ``initial_W`` / ``initial_b`` (parameters
    before the first update; ``initial_b`` is None without biases);
    ``updates`` (the engine's :class:`~glassnet.trace.Update` list);
    ``final_W`` / ``final_b``; ``queries`` (:class:`QueryResult` list);
    ``conventions`` (the network's own statement of its conventions);
    ``activations`` and ``loss`` (the engine objects, for their formulas).
    """

    def __init__(self, exercise: Exercise, network: Any, initial_W: list[np.ndarray],
                 initial_b: list[np.ndarray] | None, updates: list[Any],
                 queries: list[QueryResult]):
        self.exercise = exercise
        self.initial_W = initial_W
        self.initial_b = initial_b
        self.updates = updates
        self.queries = queries
        self.conventions: dict[str, str] = network.conventions()
        self.activations = [layer.activation for layer in network.layers]
        self.loss = network.loss
        self.fused_output_delta: bool = network.fused_output_delta
        self.final_W = [np.array(layer.W) for layer in network.layers]
        self.final_b = (None if initial_b is None
                        else [np.array(layer.b) for layer in network.layers])
        self.network = network

    # ------------------------------------------------------------------ info
    @property
    def layers(self) -> list[int]:
        return self.exercise.layers

    @property
    def n_layers(self) -> int:
        """Number of non-input layers (L)."""
        return len(self.exercise.layers) - 1

    @property
    def has_biases(self) -> bool:
        return self.initial_b is not None

    def W_before(self, u: int) -> list[np.ndarray]:
        return [lt.W for lt in self.updates[u].layers]

    def __repr__(self) -> str:
        return (f"Solution({self.exercise.name!r}, layers={self.layers}, "
                f"updates={len(self.updates)})")

    # ------------------------------------------------------------- renderers
    def to_text(self, decimals: int | None = None) -> str:
        """The worked solution for a terminal (conventions first, every formula substituted)."""
        from .render_text import render_text

        return render_text(self, decimals=decimals)

    def to_markdown(self, decimals: int | None = None) -> str:
        """Markdown with LaTeX matrices in seed 003's notation."""
        from .render_markdown import render_markdown

        return render_markdown(self, decimals=decimals)

    def to_dict(self) -> dict[str, Any]:
        """The ``glassnet.explain/1`` JSON object as plain Python (full float64 precision)."""
        from .render_json import solution_dict

        return solution_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        from .render_json import render_json

        return render_json(self, indent=indent)

    def to_svg(self, update: int = 0, decimals: int | None = None) -> str:
        """A picture of the network for one update (0-based): weights before → after, δ."""
        from .picture import render_svg

        return render_svg(self, update=update, decimals=decimals)

    def to_html(self, decimals: int | None = None) -> str:
        """A self-contained HTML page (opens offline): formulas, pictures, parameters."""
        from .html import render_html

        return render_html(self, decimals=decimals)

    def chain(self, parameter: str) -> Any:
        """The chain rule for one parameter (``"W1[1,2]"``, ``"b2[1]"``) along every path."""
        from .chain import chain_rule

        return chain_rule(self, parameter)

    def check(self, answers: dict[str, Any] | None = None) -> Any:
        """Verdicts (ok / rounding / wrong) for the exercise's ``answers``."""
        from .check import check_solution

        return check_solution(self, answers)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def _resolve(spec: Any, shapes: list[tuple[int, ...]]) -> Any:
    """Initializer dicts become explicit arrays drawn with their own seed; the rest passes."""
    if isinstance(spec, dict):
        from ..initializers import get_initializer

        params = {k: v for k, v in spec.items() if k not in ("init", "seed")}
        init = get_initializer({"init": spec["init"], **params})
        rng = np.random.default_rng(spec["seed"])
        return [init(shape, rng, np.float64) for shape in shapes]
    return spec


def solve(exercise: Exercise) -> Solution:
    """Train the exercise's network with the engine and keep every update's trace."""
    from ..network import Network
    from ..trace import run_updates

    sizes = exercise.layers
    w_shapes = [(sizes[l + 1], sizes[l]) for l in range(len(sizes) - 1)]
    b_shapes = [(sizes[l + 1],) for l in range(len(sizes) - 1)]
    acts = exercise.activations
    with np.errstate(all="ignore"):
        net = Network(
            sizes, acts if len(acts) > 1 else acts[0], exercise.loss,
            weights=_resolve(exercise.weights, w_shapes),
            biases=None if exercise.biases is None else _resolve(exercise.biases, b_shapes),
            update_biases=exercise.update_biases, dtype="float64",
        )
        initial_W = [layer.W.copy() for layer in net.layers]
        initial_b = None if not net.has_biases else [layer.b.copy() for layer in net.layers]
        updates = run_updates(net, exercise.X, exercise.T, lr=exercise.learning_rate,
                              mode=exercise.mode, epochs=exercise.epochs)
        queries = [] if exercise.query is None else _run_queries(net, exercise.query)
    _check_finite(exercise, updates, queries)
    return Solution(exercise, net, initial_W, initial_b, updates, queries)


def _run_queries(net: Any, Q: np.ndarray) -> list[QueryResult]:
    net.forward(Q)
    zs = [np.array(layer.z) for layer in net.layers]
    as_ = [np.array(layer.a) for layer in net.layers]
    out_act = net.layers[-1].activation.name
    results = []
    for q in range(len(Q)):
        y = as_[-1][q]
        if y.shape[0] == 1 and out_act == "sigmoid":
            cls, rule = int(y[0] >= 0.5), "1 if y ≥ 0.5, else 0"
        else:
            cls, rule = int(np.argmax(y)), "index of the largest output"
        results.append(QueryResult(x=Q[q].copy(), z=tuple(z[q] for z in zs),
                                   a=tuple(a[q] for a in as_), output=y.copy(), cls=cls,
                                   class_rule=rule))
    return results


def _check_finite(exercise: Exercise, updates: list[Any], queries: list[QueryResult]) -> None:
    """Refuse to render an overflowed computation (inf/NaN) rather than print nonsense."""
    src = f"{exercise.source}: " if exercise.source else ""
    for u, up in enumerate(updates):
        if not np.isfinite(up.loss) or (up.losses is not None
                                        and not np.isfinite(up.losses).all()):
            raise GlassnetError(f"{src}the loss of update {u + 1} is not finite (the numbers "
                                f"overflow float64); use smaller weights or inputs")
        for l, lt in enumerate(up.layers, start=1):
            for name in ("z", "a", "delta", "grad_W", "grad_b", "W_after", "b_after"):
                arr = getattr(lt, name)
                if arr is not None and not np.isfinite(arr).all():
                    raise GlassnetError(f"{src}update {u + 1}, layer {l}: {name} is not finite "
                                        f"(the numbers overflow float64); use smaller weights, "
                                        f"inputs or learning rate")
    for q, res in enumerate(queries):
        if not all(np.isfinite(a).all() for a in res.a + res.z):
            raise GlassnetError(f"{src}query {q + 1}: the output is not finite (the numbers "
                                f"overflow float64)")


def explain(path: str) -> Solution:
    """Load an exercise file and solve it: ``explain("seed004_1a.yaml").to_text()``."""
    return solve(load_exercise(path))
