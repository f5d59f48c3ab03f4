"""The mistake catalogue: name a wrong answer by the misconception that produces it.

For every variant of :data:`glassnet.misconceptions.CATALOGUE` that can change
the exercise, the engine runs the exercise twice with that misconception
switched on: once from the exercise's own numbers (the values a student with
that misconception gets from scratch), and once with the student's earlier
answers substituted (the value that misconception gives *from the student's
own numbers*, so a mistake late in the sheet is named even after earlier
slips). A ``wrong`` answer that equals one of these values within the
rounding its digits allow, while the correct value is outside it, is named
by the misconception's catalogue id; the closest one wins.

>>> from glassnet.exercise import parse_exercise
>>> ex = parse_exercise({
...     "network": {"layers": [1, 1], "activation": "sigmoid", "weights": [[[0.0]]],
...                 "biases": 0.0},
...     "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
...     "samples": [{"x": [1], "t": [1]}]})
>>> from glassnet.grading.followthrough import Q
>>> table = misconceived_values(ex, {Q(0, "delta", 0, 0, 0): -0.125})
>>> table["missing_fprime/output"][0][Q(0, "delta", 0, 0, 0)]   # y − t, no σ'(z)
-0.5
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..misconceptions import Misconception, MisconceptionTap, applicable, get_misconception
from .followthrough import FollowThrough, Q, run_engine

__all__ = ["misconceived_values", "name_mistake"]

_ALL_QTYS = ("z", "a", "loss", "delta", "dW", "db", "W", "b")
#: named first when two misconceptions give the same value (lower first)
PREFERRED = {"batch_sum_mean": 0}


class _RecordAll(FollowThrough):
    """A follow-through tap that also records every quantity nobody answered (for the
    from-scratch values of a misconception)."""

    def __init__(self, wanted: list[Q], misconception: Any = None):
        super().__init__({}, misconception)
        self._wanted: dict[tuple[int, str, int], list[tuple[Q, tuple[int, ...]]]] = {}
        for q in wanted:
            self._wanted.setdefault((q.u, q.qty, q.l), []).append((q, q.index))

    def _swap(self, qty: str, l: int, arr: Any) -> None:
        for q, idx in self._wanted.get((self.u, qty, l), ()):
            if arr is not None and idx[0] < arr.shape[0]:
                self.seen[q] = float(arr[idx])

    def output_delta(self, net: Any, T: Any, delta: Any, loss: float) -> float:
        loss = super().output_delta(net, T, delta, loss)
        for q, _ in self._wanted.get((self.u, "loss", 0), ()):
            self.seen[q] = float(loss)
        return loss


def misconceived_values(exercise: Any, given: Mapping[Q, float]
                        ) -> dict[str, tuple[dict[Q, float], dict[Q, float]]]:
    """For each applicable variant key: (values from scratch, values from the student's
    earlier answers), for every answered quantity."""
    wanted = list(given)
    out: dict[str, tuple[dict[Q, float], dict[Q, float]]] = {}
    for m in applicable(exercise):
        scratch = _RecordAll(wanted, MisconceptionTap(m, exercise.learning_rate))
        run_engine(exercise, scratch, m)
        follow = FollowThrough(given, MisconceptionTap(m, exercise.learning_rate))
        run_engine(exercise, follow, m)
        out[m.key] = (scratch.seen, follow.seen)
    return out


def name_mistake(q: Q, given: float, tolerance: float, exact: float, recomputed: float,
                 table: Mapping[str, tuple[dict[Q, float], dict[Q, float]]],
                 before: float | None = None, relative: float = 0.02, coarse: bool = False
                 ) -> tuple[Misconception, float] | None:
    """The misconception whose value of ``q`` equals ``given`` within ``tolerance`` (plus
    ``relative`` × that value's scale, for the student's unwritten intermediates: 2 % when
    the value was recomputed from earlier answers, 10 % when it depends on none), while the correct
    values (``exact``, and ``recomputed`` from the student's answers) are outside it;
    the closest, with its value, or None. An answer written too ``coarse``-ly to show its
    value is named only by a misconception that gives exactly the number written (the old
    value of a parameter that was not updated, say)."""
    # first from the student's own earlier answers (with η = 0.5, "η left out" and "the ½
    # forgotten" give the same new weight from scratch, but only one of them fits a sheet
    # whose gradient is right), then from scratch
    # where two misconceptions give the same number (a 2-sample batch: "summed where it is
    # averaged" is exactly "a factor 2"), the one about this exercise's own rule is named
    ordered = sorted(table.items(), key=lambda kv: PREFERRED.get(kv[0].split("/")[0], 1))
    for which in (1, 0):
        best: tuple[float, Misconception, float] | None = None
        for key, pair in ordered:
            x = pair[which].get(q)
            if x is None:
                continue
            scale = abs(x - before) if before is not None else abs(x)
            tol = tolerance + relative * scale
            dist = abs(given - x)
            noise = 8 * 2.2e-16 * max(abs(x), 1.0)
            if dist <= noise and min(abs(x - exact), abs(x - recomputed)) > 1e3 * noise:
                return get_misconception(key), x   # exactly the misconception's number
            if coarse or abs(x - exact) <= tol or abs(x - recomputed) <= tol:
                continue  # this misconception does not change this value (enough to tell)
            if dist <= tol and (best is None or
                                dist / max(tol, 1e-300) < best[0] * (1 - 1e-9) - 1e-12):
                best = (dist / max(tol, 1e-300), get_misconception(key), x)
        if best is not None:
            return best[1], best[2]
    return None
