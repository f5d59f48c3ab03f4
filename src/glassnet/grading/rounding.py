"""Rounding: what the digits a student wrote allow, propagated through the engine's equations.

Three rules, each small:

* **Written precision.** ``1.0000065`` claims ±5·10⁻⁸ (half a unit of its
  last digit, :func:`half_unit`). Equal to the exact value within that is
  ``ok``, provided the digits can *show* the value: at least its first
  significant digit, and for a parameter after an update, digits finer than
  the update (:func:`resolves`). ``0`` for −0.0765 or
  ``1`` for 1.0000067 proves nothing.
* **Follow-through allowance.** A value recomputed from the student's earlier
  answers may differ from what the student wrote by half a unit of its last
  digit, or be cut off there (:func:`cut_off`: seed 004 writes 1.000006552 as
  1.0000065), plus the
  rounding of those earlier answers, propagated to first order through the
  engine's own equations: the engine's pass is re-run with each earlier
  answer moved by its own rounding ρ, and ∑ |∂v/∂answer|·ρ is added up
  (:func:`propagate`). The rounding ρ of an answer is half a unit of its last
  digit, at most 5 % of the number (a written number holds at least two
  significant digits of what the student carried), and 0 for a written 0.
* **Hand precision** (:func:`hand_tolerance`), for a value that depends on no
  earlier answer: the student's intermediate numbers are unknown, so a model
  decides. Hand arithmetic carrying 2 significant digits rounds each computed
  step by at most 5 % (:data:`HAND_STEP`), and relative errors add up along a
  chain; a value k steps from the exercise's given numbers (z of layer 1 is
  one step, its a two, ..., the loss and the output δ of a 2-layer network
  five) may be off by 5 % per step of its scale (the value, or for a parameter
  the size of its update), at most 25 % (:data:`HAND_TOLERANCE`, version 1's
  rule: a gradient behind one hidden layer multiplies five rounded factors,
  ∂E/∂y, f'(zᴸ), w, f'(z), x). 25 % is half the smallest factor-2 slip and an
  eighth of a sign error.

>>> half_unit("1.0000065"), unit("0.027")
(5e-08, 0.001)
>>> resolves("0", -0.0765), resolves("-0.08", -0.0765), resolves("1", 1.0000067, before=1.0)
(False, True, False)
>>> resolves("1", 0.96), resolves("1", 0.525)   # 0.96 rounds to 1 at one significant digit
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..exercise.numbers import half_unit
from ..exercise.rule import TOLERANCE
from .followthrough import FollowThrough, Q, parents, run_engine

__all__ = ["half_unit", "unit", "resolves", "carried_rounding", "propagate", "HAND_TOLERANCE",
           "HAND_STEP", "HAND_MODEL", "SLACK", "ZERO", "steps_from_data", "hand_tolerance",
           "cut_off", "cut_off_range", "resolution"]

#: the hand-precision model: 5 % per computed step, at most 25 % of the scale (docs/check.md)
HAND_STEP = 0.05
HAND_TOLERANCE = TOLERANCE
HAND_MODEL = ("hand precision (no earlier answer to recompute from): 5 % of the {scale} per "
              "computed step from the given numbers, at most 25 %")
#: relative float64 noise ignored in every comparison
SLACK = 8 * 2.220446049250313e-16
#: a value (or update) this small relative to max(1, |value|) is float64 noise around 0
ZERO = 1e-12


def unit(text: str) -> float:
    """One unit of the last written digit (``"0.027"`` → 0.001)."""
    return 2.0 * half_unit(text)


def _leading_half_unit(x: float) -> float:
    """Half a unit of the first significant digit of x (0.0765 → 0.005)."""
    return 0.5 * 10.0 ** math.floor(math.log10(abs(x)))


def resolution(value: float, before: float | None = None) -> float:
    """The coarsest half unit of a last digit that still shows ``value`` (or its change).

    :func:`resolves` is ``half_unit(text) <= resolution(...)``; check version 2 also uses it
    as a value rule, so that the interval it reports and its verdict are one computation: a
    number written to ±u is judged within ``min(u, resolution)`` of the value, and a number
    written coarser than that can never fall inside it (``"0"`` for −0.0765: ±0.005; ``"1"``
    for 1.0000067 after 1: less than the update, 6.7·10⁻⁶). ``inf`` for a value (update) of 0.

    >>> resolution(-0.0765), resolution(0.96), resolution(0.0)
    (0.005, 0.5, inf)
    """
    change = value if before is None else value - before
    if not math.isfinite(change) or abs(change) <= ZERO * max(1.0, abs(value)):
        return math.inf
    if before is not None:  # strictly finer than the update: "1" must not show 1 → 1.0000067
        return abs(change) * (1 - 1e-6)
    lead = _leading_half_unit(change)
    # rounding to one significant digit may carry into the next decade (0.96 → 1): allowed
    return max(lead, _leading_half_unit(float(f"{change:.1g}")))


def resolves(text: str, value: float, before: float | None = None) -> bool:
    """True when ``text``'s digits can show ``value`` (or its change from ``before``).

    A value: when half a unit of the last written digit is at most half a unit of its first
    significant digit (``0.08`` or ``0.077`` for −0.0765, not ``0`` or ``0.1``). A parameter
    after an update (``before`` given): when half a unit of the last digit is smaller than the
    update, as in version 1 (``1.00001`` shows an update of 6.7·10⁻⁶, ``1`` does not). A value
    (or update) of exactly 0 is shown by any digits.
    """
    change = value if before is None else value - before
    if not math.isfinite(change) or abs(change) <= ZERO * max(1.0, abs(value)):
        return True  # 0, or float64's rounding noise around 0 (an exact zero computed as 1e-17)
    if before is not None:  # a parameter: its digits must be finer than its update (v1)
        return half_unit(text) < abs(change)
    lead = _leading_half_unit(change)
    # rounding to one significant digit may carry into the next decade (0.96 → 1): allowed
    lead = max(lead, _leading_half_unit(float(f"{change:.1g}")))
    return half_unit(text) <= lead * (1 + 1e-9)


def cut_off(value: float, text: str, recomputed: float, allowance: float = 0.0) -> bool:
    """True when ``text`` is ``recomputed`` (± ``allowance``) cut off after its last digit.

    >>> cut_off(1.0000065, "1.0000065", 1.000006552), cut_off(0.6, "0.6", 0.5308)
    (True, False)
    """
    lo, hi = cut_off_range(text, recomputed, allowance)
    tiny = 1e-9 * unit(text)
    return lo - tiny <= value <= hi + tiny


def cut_off_range(text: str, recomputed: float, allowance: float = 0.0) -> tuple[float, float]:
    """[lo, hi]: ``recomputed`` ± ``allowance`` cut off after the last digit of ``text``."""
    step = unit(text)

    def trunc(x: float) -> float:
        units = abs(x) / step
        if not math.isfinite(units) or units > 2.0**52:
            return x  # beyond float precision at this digit: cutting off changes nothing
        return math.copysign(math.floor(units + 1e-9) * step, x)

    lo, hi = sorted((trunc(recomputed - allowance), trunc(recomputed + allowance)))
    return lo, hi


def carried_rounding(value: float, text: str) -> float:
    """ρ: how far the number the student carried may be from what they wrote."""
    if value == 0:
        return 0.0
    return min(half_unit(text), 0.05 * abs(value))


def propagate(exercise: Any, given: Mapping[Q, float], rho: Mapping[Q, float],
              base: Mapping[Q, float], used: set[Q] | None = None) -> dict[Q, float]:
    """First-order propagation of each answer's rounding ρ to the answers computed from it.

    For every answer k with ρₖ > 0 (and, if given, in ``used``: the answers some other answer
    is computed from), the engine's pass with the student's answers substituted is re-run
    with k moved by ρₖ; the change of the recomputed value of every later answer v gives
    ∂v/∂k. Returns allowance[v] = Σₖ |∂v/∂k|·ρₖ.
    """
    allowance: dict[Q, float] = {q: 0.0 for q in base}
    for k, value in given.items():
        h = rho.get(k, 0.0)
        if h <= 0 or (used is not None and k not in used):
            continue
        moved = dict(given)
        moved[k] = value + h
        tap = FollowThrough(moved)
        run_engine(exercise, tap)
        for v, r in tap.seen.items():
            if v == k or v not in base:
                continue
            d = (r - base[v]) / h
            if math.isfinite(d):
                allowance[v] += abs(d) * h
    return allowance


def steps_from_data(exercise: Any, q: Q, memo: dict[Q, int] | None = None) -> int:
    """How many computed steps lie between the exercise's given numbers and q (at most 5).

    z of layer 1 in the first update is 1 step (from x, W and b), its a is 2, z of layer 2
    is 3, and so on along the longest chain of the engine's equations. Everything in a later
    update starts from updated parameters (a gradient: 5 steps or more), so it is 5.
    """
    cap = round(HAND_TOLERANCE / HAND_STEP)
    if q.u > 0:
        return cap
    memo = {} if memo is None else memo

    def depth(node: Q) -> int:
        if node not in memo:
            ps = parents(exercise, node)
            memo[node] = min(cap, 1 + max((depth(p) for p in ps), default=0))
        return memo[node]

    return depth(q)


def hand_tolerance(exercise: Any, q: Q, memo: dict[Q, int] | None = None) -> float:
    """The hand-precision model's relative tolerance for q: 5 % per step, at most 25 %."""
    return HAND_STEP * steps_from_data(exercise, q, memo)
