"""Follow-through: every answer recomputed from the student's own earlier answers, by the engine.

A teacher marks error carried forward: if your a₁ was wrong but your z₂ is
right *for your a₁*, z₂ gets credit. glassnet does it by running the exercise
through the engine once with an *equation tap* (``Network.tap``) that, right
after the engine computed a quantity the student answered, records the
engine's value (computed from the student's earlier answers, which were
substituted before) and then puts the student's own number in its place. So
every later equation of that same engine pass (z from the student's a of the
layer below, a from their z, δ from their a and the δ above, gradients from
their δ and a, new weights from their gradients, the next update from their
new weights) works on the student's numbers. There is no second
implementation of the forward or backward pass: it is the engine's pass.

A quantity is a :class:`Q`: update ``u``, kind ``qty`` (``loss``, ``z``, ``a``,
``delta``, ``dW``, ``db``, ``W``, ``b``: W and b are the values *after* the
update), layer ``l`` (0-based, non-input layers), sample row ``s`` in the
update, unit ``i``, and ``j`` (the input unit of a weight).

>>> from glassnet.exercise import parse_exercise
>>> ex = parse_exercise({
...     "network": {"layers": [1, 1], "activation": "linear", "weights": [[[2.0]]],
...                 "biases": 0.0},
...     "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
...     "samples": [{"x": [1], "t": [0]}]})
>>> tap = FollowThrough({Q(0, "a", 0, 0, 0): 3.0, Q(0, "dW", 0, 0, 0): 3.0,
...                     Q(0, "W", 0, 0, 0): 1.75})
>>> run_engine(ex, tap)
>>> tap.seen[Q(0, "dW", 0, 0, 0)]   # from the student's a = 3 (exact a = 2)
3.0
>>> round(tap.seen[Q(0, "W", 0, 0, 0)], 12)   # 2 − 0.1 · 3, from the student's gradient
1.7
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Q", "FollowThrough", "run_engine", "build_network", "QTYS", "parents",
           "nearest_answers"]

#: the kinds of quantity, in the order the engine computes them within an update
QTYS = ("z", "a", "loss", "delta", "dW", "db", "W", "b")


class Q(NamedTuple):
    """One quantity of an exercise (0-based indices; see the module docstring)."""

    u: int
    qty: str
    l: int = 0
    s: int = 0
    i: int = 0
    j: int = 0

    @property
    def index(self) -> tuple[int, ...]:
        """Where the quantity sits in its engine array."""
        if self.qty in ("z", "a", "delta"):
            return (self.s, self.i)
        if self.qty in ("dW", "W"):
            return (self.i, self.j)
        return (self.i,)


class FollowThrough:
    """An equation tap: record the engine's value of every answered quantity, then substitute
    the student's number. ``seen`` maps each answered :class:`Q` to the engine's value computed
    from the student's earlier answers; ``order`` lists them as the engine computed them.

    ``misconception`` (a :class:`~glassnet.misconceptions.MisconceptionTap`) is switched on
    first, so a misconception's values can also be recomputed from the student's answers.
    """

    def __init__(self, given: Mapping[Q, float], misconception: Any = None):
        self.given = dict(given)
        self.misconception = misconception
        self._index: dict[tuple[int, str, int], list[tuple[Q, tuple[int, ...], float]]] = \
            defaultdict(list)
        for q, value in self.given.items():
            self._index[(q.u, q.qty, q.l)].append((q, q.index, float(value)))
        self.seen: dict[Q, float] = {}
        self.order: list[Q] = []
        self.u = 0
        if misconception is not None and hasattr(misconception, "own_updated_weights"):
            misconception.own_updated_weights = self._own_updated_weights

    def _own_updated_weights(self, l: int, W_new: np.ndarray) -> None:
        """The student's answers for the weights of layer l after this update, written in."""
        for _, idx, value in self._index.get((self.u, "W", l), ()):
            W_new[idx] = value

    def _swap(self, qty: str, l: int, arr: np.ndarray | None) -> None:
        entries = self._index.get((self.u, qty, l))
        if not entries or arr is None:
            return
        for q, idx, value in entries:
            if idx[0] >= arr.shape[0]:
                continue
            if q not in self.seen:
                self.order.append(q)
            self.seen[q] = float(arr[idx])
            arr[idx] = value

    # ---- the hooks the engine calls (see Network._forward / _backward)
    def z(self, net: Any, l: int, z: np.ndarray) -> None:
        if self.misconception is not None:
            self.misconception.z(net, l, z)
        self._swap("z", l, z)

    def a(self, net: Any, l: int, a: np.ndarray) -> None:
        if self.misconception is not None:
            self.misconception.a(net, l, a)
        self._swap("a", l, a)

    def output_delta(self, net: Any, T: np.ndarray, delta: np.ndarray, loss: float) -> float:
        if self.misconception is not None:
            loss = self.misconception.output_delta(net, T, delta, loss)
        for q, _, _ in self._index.get((self.u, "loss", 0), ()):
            if q not in self.seen:
                self.order.append(q)
            self.seen[q] = float(loss)
        self._swap("delta", len(net.layers) - 1, delta)
        return loss

    def gradients(self, net: Any, l: int) -> None:
        if self.misconception is not None:
            self.misconception.gradients(net, l)
        layer = net.layers[l]
        self._swap("dW", l, layer.grad_W)
        self._swap("db", l, layer.grad_b)

    def hidden_delta(self, net: Any, l: int) -> None:
        if self.misconception is not None:
            self.misconception.hidden_delta(net, l)
        self._swap("delta", l, net.layers[l].delta)

    def after_step(self, net: Any) -> None:
        """Called by the optimizer after each update: the new parameters, then the next update."""
        for l, layer in enumerate(net.layers):
            self._swap("W", l, layer.W)
            self._swap("b", l, layer.b)
        self.u += 1


class _TapSGD:
    """Plain SGD W ← W − lr·∂E/∂W through the engine's own optimizer; tells the tap after each
    step. A misconception may flip the sign of lr or change it (see ``Misconception.step_lr``)."""

    def __init__(self, lr: float, tap: Any, misconception: Any = None):
        from ..optimizers import SGD

        self.lr = lr
        step_lr = lr if misconception is None else misconception.step_lr(lr)
        self._sign = -1.0 if step_lr < 0 else 1.0
        self._sgd = SGD(lr=abs(step_lr))
        self._tap = tap

    def step(self, net: Any) -> None:
        if self._sign < 0:  # w + η·∂E/∂w: the engine's step on the negated gradient
            for _, _, grad in net.parameters():
                np.negative(grad, out=grad)
        self._sgd.step(net)
        if self._tap is not None and hasattr(self._tap, "after_step"):
            self._tap.after_step(net)


def build_network(exercise: Any, update_biases: bool | None = None) -> Any:
    """The float64 engine network of an exercise, as :func:`glassnet.exercise.solve` builds it."""
    from ..exercise.solution import _resolve
    from ..network import Network

    sizes = exercise.layers
    w_shapes = [(sizes[l + 1], sizes[l]) for l in range(len(sizes) - 1)]
    b_shapes = [(sizes[l + 1],) for l in range(len(sizes) - 1)]
    acts = exercise.activations
    return Network(
        sizes, acts if len(acts) > 1 else acts[0], exercise.loss,
        weights=_resolve(exercise.weights, w_shapes),
        biases=None if exercise.biases is None else _resolve(exercise.biases, b_shapes),
        update_biases=exercise.update_biases if update_biases is None else update_biases,
        dtype="float64",
    )


def run_engine(exercise: Any, tap: Any = None, misconception: Any = None) -> None:
    """Run the exercise's updates through the engine with ``tap`` (and a misconception) on.

    With a :class:`FollowThrough` tap that carries a misconception, pass the same
    :class:`~glassnet.misconceptions.Misconception` as ``misconception`` so that its update
    rule and conventions apply too.
    """
    from ..trace import run_updates

    opts = {} if misconception is None else misconception.run_options(exercise)
    net = build_network(exercise, opts.get("update_biases"))
    net.tap = tap
    opt = _TapSGD(exercise.learning_rate, tap, misconception)
    with np.errstate(all="ignore"):
        run_updates(net, exercise.X, exercise.T, lr=exercise.learning_rate,
                    mode=opts.get("mode", exercise.mode), epochs=exercise.epochs, optimizer=opt)


# ------------------------------------------------------------------ what depends on what
def parents(exercise: Any, q: Q) -> list[Q]:
    """The quantities the engine's equation for ``q`` reads (a dense MLP's dependency graph).

    z from the a of the layer below (and the parameters before the update: the previous
    update's W, b), a from z (a softmax row from the whole row), the loss and the output δ
    from the output a and z, a hidden δ from the δ above, its own z and a (and the weights
    above), gradients from δ and the a below, new parameters from the gradient and the
    parameter before.
    """
    from ..activations import get_activation

    sizes = exercise.layers
    L = len(sizes) - 1
    S = exercise.samples_per_update
    u, qty, l, s, i, j = q
    prev = u - 1
    biases = exercise.biases is not None
    if qty == "z":
        out = [Q(u, "a", l - 1, s, k) for k in range(sizes[l])] if l > 0 else []
        if prev >= 0:
            out += [Q(prev, "W", l, 0, i, k) for k in range(sizes[l])]
            out += [Q(prev, "b", l, 0, i)] if biases else []
        return out
    if qty == "a":
        acts = exercise.activations
        act = get_activation(acts[l] if len(acts) > 1 else acts[0])
        if not act.elementwise:
            return [Q(u, "z", l, s, k) for k in range(sizes[l + 1])]
        return [Q(u, "z", l, s, i)]
    if qty == "loss":
        return [Q(u, kind, L - 1, r, k) for r in range(S) for k in range(sizes[L])
                for kind in ("a", "z")]
    if qty == "delta":
        if l == L - 1:
            return [Q(u, kind, l, s, k) for k in range(sizes[L]) for kind in ("a", "z")]
        out = [Q(u, "delta", l + 1, s, k) for k in range(sizes[l + 2])]
        out += [Q(u, "z", l, s, i), Q(u, "a", l, s, i)]
        if prev >= 0:
            out += [Q(prev, "W", l + 1, 0, k, i) for k in range(sizes[l + 2])]
        return out
    if qty == "dW":
        out = [Q(u, "delta", l, r, i) for r in range(S)]
        return out + ([Q(u, "a", l - 1, r, j) for r in range(S)] if l > 0 else [])
    if qty == "db":
        return [Q(u, "delta", l, r, i) for r in range(S)]
    if qty == "W":
        return [Q(u, "dW", l, 0, i, j)] + ([Q(prev, "W", l, 0, i, j)] if prev >= 0 else [])
    if qty == "b":
        out = [Q(u, "db", l, 0, i)] if exercise.update_biases else []
        return out + ([Q(prev, "b", l, 0, i)] if prev >= 0 else [])
    return []


def nearest_answers(exercise: Any, answered: set[Q] | dict[Q, Any]) -> dict[Q, set[Q]]:
    """For every answered quantity, the answered quantities it is computed from: its nearest
    answered ancestors in the dependency graph (the search stops at an answered quantity,
    whose own value is what the engine's pass substitutes)."""
    answered = set(answered)
    memo: dict[Q, frozenset[Q]] = {}

    def through(q: Q) -> frozenset[Q]:
        """Answered ancestors reached from q's parents (q itself not answered or the start)."""
        if q in memo:
            return memo[q]
        found: set[Q] = set()
        stack = list(parents(exercise, q))
        seen: set[Q] = set()
        while stack:
            p = stack.pop()
            if p in seen:
                continue
            seen.add(p)
            if p in answered:
                found.add(p)
            elif p in memo:
                found |= memo[p]
            else:
                stack.extend(parents(exercise, p))
        memo[q] = frozenset(found)
        return memo[q]

    return {q: set(through(q)) for q in answered}
