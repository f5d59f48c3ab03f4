"""``glassnet check``: grade hand-computed answers against the exact solution.

Every answered number gets one verdict:

``ok``
    equal to the exact value at the precision it was written with:
    ``|answer − exact| ≤ ½ unit of its last written digit`` (``1.0000065``
    claims ±5·10⁻⁸; ``0.00034`` claims ±5·10⁻⁶; an integer ±0.5). The loader
    keeps the digits as written, also for unquoted numbers. For an updated
    parameter the digits must be able to show the update (½ unit smaller than
    the update); ``w1 = 1`` for 1.0000067 proves nothing about the update and
    is judged by the rounding rule alone (here: wrong, the update is missing).
``rounding``
    not ok, but ``|answer − exact| ≤ 25 % of the scale`` (:data:`TOLERANCE`),
    where the scale is what a hand calculation actually computes:

    * for an updated parameter (``W``, ``b``): the size of its update,
      ``|W_after − W_before|``, summed over the updates up to that answer;
      the parameter's old value is given, not computed, so only the update
      can carry rounding error;
    * for everything else (loss, z, a, outputs, δ, gradients): ``|exact|``.
``wrong``
    anything else, in particular any change of a quantity whose exact
    scale is 0 (a weight that must not move, a frozen bias).

Why 25 %: a hand calculation that carries its intermediates to 2
significant digits rounds each of them by at most 5 % (half a unit of the
second digit of a number starting with 1). Relative errors of the factors
of a product add up to first order, and the gradient of a weight behind one
hidden layer is a product of five rounded factors (∂E/∂y, f'(zᴸ), w, f'(z),
x: seed 004 writes exactly these), so 5 × 5 % = 25 % is the worst case of
2-digit hand arithmetic; more careful arithmetic (3 digits, 0.5 % per
factor) stays far inside it for any depth of exercise. On the other side,
25 % is half of the smallest factor-2 slip (a forgotten or extra ½ makes
the update or value 50 % too small or 100 % too large) and an eighth of a
sign error (200 %), so those are always ``wrong``.

Seed 004 1(a): b1 = 2.0000065 against 1.0000067 is 150 000 times its update
(wrong); w1 = 1.0000065 against 1.00000666 is 2.4 % of its update
(rounding); w7 = 1.00005 against 1.0000559 is 10.6 % (rounding: the seed
rounded ∂E/∂w7 to −0.0005).

>>> judge(1.0000065, "1.0000065", 1.0000066641, scale=6.6641e-06)
('rounding', 0.024...)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .numbers import half_unit
from .rule import TOLERANCE

__all__ = ["TOLERANCE", "Verdict", "CheckReport", "judge", "check_solution", "RULE"]

RULE = ("ok: within half a unit of the answer's last written digit; rounding: off by at most "
        f"{TOLERANCE:.0%} of the scale (the parameter's update for W and b, the exact value "
        "otherwise), which 2-significant-digit hand arithmetic can explain (5% per rounded "
        "factor, 5 factors); wrong: anything else, including every sign error and factor-2 "
        "slip (at least 50% off)")


@dataclass
class Verdict:
    """One answered number and its verdict."""

    path: str
    name: str
    label: str
    update: int | None
    given: str
    given_value: float
    exact: float
    error: float
    half_unit: float
    scale: float
    scale_kind: str
    verdict: str
    note: str | None = None

    @property
    def relative_error(self) -> float | None:
        if self.scale_kind == "class" or self.scale == 0:
            return None
        return self.error / self.scale

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "name": self.name, "label": self.label,
            "update": self.update, "given": self.given, "given_value": self.given_value,
            "exact": self.exact, "error": self.error, "half_unit": self.half_unit,
            "scale": self.scale, "scale_kind": self.scale_kind,
            "relative_error": self.relative_error, "verdict": self.verdict, "note": self.note,
        }


def judge(value: float, text: str, exact: float, scale: float,
          update: bool = False) -> tuple[str, float | None]:
    """The verdict for one number, and its error relative to the scale (None if scale is 0).

    ``update=True`` for an updated parameter (``scale`` is then its update): its written
    digits only count if they can show the update, i.e. half a unit of the last digit is
    smaller than the update; otherwise the answer is judged by the rounding rule alone.

    >>> judge(2.0000065, "2.0000065", 1.0000066641, scale=6.6641e-06, update=True)[0]
    'wrong'
    >>> judge(1.00006, "1.00006", 1.0000634711, scale=6.34711e-05, update=True)[0]
    'ok'
    >>> judge(1, "1", 1.0000066641, scale=6.6641e-06, update=True)[0]   # no update shown
    'wrong'
    """
    error = abs(value - exact)
    slack = 8 * np.finfo(float).eps * max(abs(value), abs(exact), 1e-300)
    rel = None if scale == 0 else error / scale
    if error <= slack:
        return "ok", rel
    u = half_unit(text)
    resolves = not update or u < scale
    if resolves and error <= u + slack:
        return "ok", rel
    if scale > 0 and error <= TOLERANCE * scale + slack:
        return "rounding", rel
    return "wrong", rel


@dataclass
class CheckReport:
    """All verdicts of one check; ``exit_status`` is 0 when nothing is wrong, 1 otherwise."""

    verdicts: list[Verdict]
    title: str = ""
    source: str = ""

    @property
    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "rounding": 0, "wrong": 0}
        for v in self.verdicts:
            out[v.verdict] += 1
        return out

    @property
    def ok(self) -> bool:
        return self.counts["wrong"] == 0

    @property
    def exit_status(self) -> int:
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "glassnet.check/1",
            "source": self.source,
            "rule": {"tolerance": TOLERANCE, "text": RULE},
            "verdicts": [v.to_dict() for v in self.verdicts],
            "counts": self.counts,
            "exit_status": self.exit_status,
        }

    def to_json(self) -> str:
        from .render_json import dumps_compact

        return dumps_compact(self.to_dict()) + "\n"

    def to_text(self) -> str:
        lines = []
        head = f"{self.title} ({self.source})" if self.source else self.title
        lines.append(head)
        lines.append("=" * len(head))
        lines.append("ok        within half a unit of the last written digit")
        lines.append(f"rounding  off by at most {TOLERANCE:.0%} of the scale: the update for a "
                     f"parameter (W, b), the exact value otherwise")
        lines.append("wrong     anything else (every sign error and factor-2 slip is wrong)")
        lines.append("")
        if not self.verdicts:
            lines.append("no answers to check (add an 'answers' section to the exercise)")
        rows = [("answer", "given", "exact", "error", "how far", "verdict")]
        for v in self.verdicts:
            rows.append((v.label, v.given, _exact(v.exact), _short(v.error) if v.error else "0",
                         _scale_text(v), v.verdict))
        widths = [max(len(r[k]) for r in rows) for k in range(6)]
        for k, r in enumerate(rows):
            line = "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            lines.append(line)
            if k > 0 and self.verdicts[k - 1].note:
                lines.append(" " * (widths[0] + 2) + "↳ " + self.verdicts[k - 1].note)
        c = self.counts
        lines.append("")
        lines.append(f"{c['ok']} ok, {c['rounding']} rounding, {c['wrong']} wrong: exit status "
                     f"{self.exit_status}")
        return "\n".join(lines) + "\n"


def _exact(x: float) -> str:
    s = f"{x:.12g}"
    return "0" if float(s) == 0 else s


def _short(x: float) -> str:
    return f"{x:.3g}"


def _scale_text(v: Verdict) -> str:
    if v.scale_kind == "class":
        return "class"
    what = "update" if v.scale_kind == "update" else "value"
    if v.verdict == "ok":
        return f"within ±{v.half_unit:.2g} (as written)"
    if v.scale == 0:
        return f"(exact {what} is 0)"
    rel = v.error / v.scale
    if rel < 10:
        return f"{rel:.1%} of the {what}"
    return f"{rel:.3g}× the {what}"


# ------------------------------------------------------------------------------ names
def _unit_label(sym: str, l: int | None, idx: tuple[int, ...]) -> tuple[str, str]:
    """(ASCII name, Unicode label) for a quantity, 0-based indices, 1-based layer."""
    from .formula import Style, Sym

    ascii_idx = ",".join(str(i + 1) for i in idx)
    text_sym = {"W": "w", "grad_W": "w", "b": "b", "grad_b": "b", "z": "z", "a": "a",
                "deltas": "δ", "outputs": "y"}[sym]
    label = Sym(text_sym, text_sym, tuple(i + 1 for i in idx), l).render(Style("text"))
    if sym.startswith("grad_"):
        label = f"∂E/∂{label}"
    base = {"W": "W", "b": "b", "grad_W": "dE/dW", "grad_b": "dE/db", "z": "z", "a": "a",
            "deltas": "delta", "outputs": "y"}[sym]
    name = f"{base}{'' if l is None else l}[{ascii_idx}]"
    return name, label


def walk_answers(nested: Any, prefix: tuple[int, ...] = ()) -> Any:
    """Yield (index tuple, Answer) for every non-null leaf of a nested answers list."""
    if nested is None:
        return
    if isinstance(nested, list):
        for i, v in enumerate(nested):
            yield from walk_answers(v, prefix + (i,))
        return
    yield prefix, nested


# ------------------------------------------------------------------------------ check
def check_solution(sol: Any, answers: dict[str, Any] | None = None) -> CheckReport:
    """Judge ``answers`` (default: the exercise's own) against the solution."""
    ex = sol.exercise
    answers = ex.answers if answers is None else answers
    verdicts: list[Verdict] = []
    report = CheckReport(verdicts, title=f"glassnet check: {ex.name}", source=ex.source)
    if not answers:
        return report
    n_up = len(sol.updates)
    # cumulative absolute movement of every parameter, update by update
    moves_W, moves_b = [], []
    acc_W = [np.zeros_like(W) for W in sol.initial_W]
    acc_b = None if sol.initial_b is None else [np.zeros_like(b) for b in sol.initial_b]
    for up in sol.updates:
        acc_W = [a + np.abs(lt.W_after - lt.W) for a, lt in zip(acc_W, up.layers, strict=True)]
        moves_W.append(acc_W)
        if acc_b is not None:
            acc_b = [a + np.abs(lt.b_after - lt.b) for a, lt in zip(acc_b, up.layers, strict=True)]
            moves_b.append(acc_b)

    def add_update(entry: dict[str, Any], u: int, final: bool) -> None:
        up = sol.updates[u]
        prefix = "" if n_up == 1 or final else f"update {u + 1}: "
        many = len(up.samples) > 1
        for key, nested in entry.items():
            if key == "loss":
                ans = nested
                if ans is None:
                    continue
                _add(verdicts, ans, float(up.loss), abs(float(up.loss)), "value",
                     "loss", prefix + "E", u, None, None)
                continue
            for idx, ans in walk_answers(nested):
                if key == "outputs":
                    s, k = idx
                    exact = float(up.layers[-1].a[s, k])
                    name, label = _unit_label("outputs", None, (k,))
                    kind, scale = "value", abs(exact)
                    before = None
                elif key in ("z", "a", "deltas"):
                    l, s, i = idx
                    arr = {"z": "z", "a": "a", "deltas": "delta"}[key]
                    exact = float(getattr(up.layers[l], arr)[s, i])
                    name, label = _unit_label(key, l + 1, (i,))
                    kind, scale, before = "value", abs(exact), None
                else:
                    l = idx[0]
                    rest = idx[1:]
                    lt = up.layers[l]
                    name, label = _unit_label(key, l + 1, rest)
                    if key in ("grad_W", "grad_b"):
                        exact = float(getattr(lt, key)[rest])
                        kind, scale, before = "value", abs(exact), None
                    else:
                        if final:
                            exact = float((sol.final_W if key == "W" else sol.final_b)[l][rest])
                            start = (sol.initial_W if key == "W" else sol.initial_b)[l][rest]
                        else:
                            exact = float((lt.W_after if key == "W" else lt.b_after)[rest])
                            start = (sol.initial_W if key == "W" else sol.initial_b)[l][rest]
                        moves = moves_W if key == "W" else moves_b
                        scale = float(moves[n_up - 1 if final else u][l][rest])
                        kind, before = "update", float(start)
                    s = None
                if key in ("outputs", "z", "a", "deltas") and many:
                    label += f" [sample {up.samples[idx[-2] if key != 'outputs' else idx[0]] + 1}]"
                _add(verdicts, ans, exact, scale, kind, name, prefix + label, u, before, key)

    # ``values`` and ``formulas`` (answers by name) are graded by check version 2 only
    top = {k: v for k, v in answers.items() if k not in ("updates", "query", "values",
                                                          "formulas")}
    if top:
        add_update(top, n_up - 1, final=True)
    for u, entry in enumerate(answers.get("updates") or []):
        entry = {k: v for k, v in (entry or {}).items() if k != "values"}
        if entry:
            add_update(entry, u, final=False)
    for q, entry in enumerate(answers.get("query") or []):
        if not entry:
            continue
        res = sol.queries[q]
        for k, ans in enumerate(entry.get("output") or []):
            if ans is None:
                continue
            exact = float(res.output[k])
            _add(verdicts, ans, exact, abs(exact), "value", f"query{q + 1}.y[{k + 1}]",
                 f"query {q + 1}: y{_sub(k + 1)}", None, None, "output")
        if "class" in entry:
            ans = entry["class"]
            good = int(ans.value) == res.cls
            verdicts.append(Verdict(ans.path, f"query{q + 1}.class", f"query {q + 1}: class",
                                    None, ans.text, ans.value, float(res.cls),
                                    abs(ans.value - res.cls), 0.5, 0.0, "class",
                                    "ok" if good else "wrong",
                                    None if good else f"the largest output is number "
                                                      f"{res.cls + 1} ({res.class_rule})"))
    return report


def _sub(k: int) -> str:
    from .formula import subscript

    return subscript(k)


def _add(verdicts: list[Verdict], ans: Any, exact: float, scale: float, kind: str,
         name: str, label: str, u: int | None, before: float | None, key: str | None) -> None:
    verdict, _ = judge(ans.value, ans.text, exact, scale, update=kind == "update")
    note = _diagnose(ans.value, ans.text, exact, scale, kind, before, verdict)
    verdicts.append(Verdict(ans.path, name, label, u, ans.text, ans.value, exact,
                            abs(ans.value - exact), half_unit(ans.text), scale, kind, verdict,
                            note))


def _diagnose(value: float, text: str, exact: float, scale: float, kind: str,
              before: float | None, verdict: str) -> str | None:
    """A hint about what went wrong (or why an ok answer proves little)."""
    u = half_unit(text)
    if verdict == "ok":
        return None
    coarse = kind == "update" and 0 < scale <= u
    if verdict == "rounding":
        return (f"written to ±{u:.2g}, too coarse to show the update ({scale:.3g}); judged "
                f"by the rounding rule") if coarse else None
    tol = TOLERANCE
    if kind == "update" and before is not None:
        exact_step = exact - before
        given_step = value - before
        if scale == 0:
            return "this parameter does not change in this exercise"
        if exact_step != 0:
            r = given_step / exact_step
            if abs(given_step) <= u:
                return ("the answer is the old value (to the digits written): the update is "
                        "missing" + (f"; write it to better than ±{scale:.2g}" if coarse else ""))
            if abs(r + 1) <= tol:
                return "the update has the wrong sign (w + η·∂E/∂w instead of w − η·∂E/∂w?)"
            if abs(r - 2) <= 2 * tol:
                return "the update is twice the exact one (a missing ½, or a 2 counted twice?)"
            if abs(r - 0.5) <= 0.5 * tol:
                return "the update is half the exact one (an extra ½?)"
    elif exact != 0:
        r = value / exact
        if abs(r + 1) <= tol:
            return "the sign is wrong"
        if abs(r - 2) <= 2 * tol:
            return "twice the exact value (a missing ½, or a 2 counted twice?)"
        if abs(r - 0.5) <= 0.5 * tol:
            return "half the exact value (an extra ½?)"
    diff = value - exact
    if diff != 0:
        k = round(math.log10(abs(diff)))
        d = diff / 10.0 ** k
        digit = round(d)
        if 1 <= abs(digit) <= 9 and abs(d - digit) * 10.0 ** k <= tol * scale + u:
            power = f"10^{k}" if k not in (0, 1) else ("" if k == 0 else "10")
            amount = f"{abs(digit)}" + (f"·{power}" if power else "")
            return (f"off by {amount} plus a rounding slip: a copying slip in one digit?"
                    if scale else f"off by {amount}: a copying slip in one digit?")
    return None
