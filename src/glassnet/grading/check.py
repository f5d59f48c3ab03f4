"""``glassnet check`` version 2: grade a sheet of answers as a teacher would.

Every answered number gets one verdict (grading.md):

``ok``
    equal to the exact value within the precision it was written with, and
    written finely enough to show it (its first significant digit; for a
    parameter, the first significant digit of its update).
``carried``
    not the exact value, but the value the engine computes from the student's
    own earlier answers, one of which was ``wrong`` (error carried forward).
``rounding``
    off by no more than the rounding of the digits the student wrote (its own
    last digit, plus the rounding of the earlier answers it was computed from,
    propagated to first order through the engine's equations); for a value
    that depends on no earlier answer, within the hand-precision model
    (25 % of its scale; see :mod:`glassnet.grading.rounding`).
``wrong``
    anything else; named by the mistake catalogue when a misconception of
    :mod:`glassnet.misconceptions` produces it.

Every verdict says why: ``accepted`` (the interval that would have been
accepted), ``basis`` (what the interval came from), ``mistake`` and ``note``.

>>> from glassnet.exercise import parse_exercise
>>> ex = parse_exercise({
...     "network": {"layers": [2, 1], "activation": "sigmoid", "weights": [[[0.5, -0.25]]],
...                 "biases": 0.1},
...     "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
...     "samples": [{"x": [1, 0], "t": [1]}],
...     "answers": {"values": {"a_1_1": "0.9", "delta_1_1": "-0.009", "W_1_1_1": "0.5009"}}})
>>> report = check_answers(ex)
>>> [(v.name, v.verdict) for v in report.verdicts]
[('a_1_1', 'wrong'), ('delta_1_1', 'carried'), ('W_1_1_1', 'carried')]
>>> report.exit_status
1
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import GlassnetError
from .answers import AnswerSheet, Given, resolve
from .followthrough import FollowThrough, Q, nearest_answers, run_engine
from .rounding import (
    HAND_STEP,
    HAND_TOLERANCE,
    SLACK,
    carried_rounding,
    cut_off_range,
    half_unit,
    hand_tolerance,
    propagate,
    resolution,
    resolves,
    unit,
)

__all__ = ["Verdict2", "CheckReport2", "check_answers", "VERDICTS", "FORMAT"]

VERDICTS = ("ok", "carried", "rounding", "wrong")
#: the rounding of at most this many answers is propagated (one engine pass each, ~1 ms)
MAX_PROPAGATED = 5000
FORMAT = "glassnet.check/2"

LEGEND = (
    ("ok", "equal to the exact value at the digits you wrote"),
    ("carried", "right from your own earlier answers, one of which was wrong"),
    ("rounding", "off only by what the rounding of your digits explains"),
    ("wrong", "anything else (named when a classic mistake produces it)"),
)


@dataclass
class Verdict2:
    """One answered number and why it got its verdict (see the module docstring).

    ``name`` is the canonical name (``W_2_1_1``), ``label`` adds the update (and the
    notation's name), ``symbol`` is the textbook symbol (w₁₁⁽²⁾), ``given`` the number as
    written, ``exact`` the engine's value, ``recomputed`` the engine's value from the
    student's own earlier answers, ``accepted`` [lo, hi], ``depends_on`` the names of the
    earlier answers it was recomputed from.
    """

    name: str
    label: str
    symbol: str
    path: str
    update: int
    given: str
    given_value: float
    exact: float | None
    verdict: str
    accepted: list[float] | None
    basis: str
    mistake: str | None = None
    note: str | None = None
    recomputed: float | None = None
    depends_on: list[str] = field(default_factory=list)
    kind: str = "number"
    #: the sample (1-based, in the update) of a z, a or δ; None for everything else
    sample: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "symbol": self.symbol, "path": self.path,
            "update": self.update, "sample": self.sample, "kind": self.kind,
            "given": self.given,
            "given_value": self.given_value, "exact": self.exact,
            "recomputed": self.recomputed, "verdict": self.verdict,
            "accepted": self.accepted, "basis": self.basis, "mistake": self.mistake,
            "note": self.note, "depends_on": list(self.depends_on),
        }


@dataclass
class CheckReport2:
    """All verdicts of one check (version 2). ``exit_status``: 0 when nothing is wrong, else 1."""

    verdicts: list[Verdict2]
    title: str = ""
    source: str = ""
    answers_source: str = ""
    student: str | None = None
    variant: str | None = None
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for v in self.verdicts:
            out[v.verdict] += 1
        return out

    def mistakes(self) -> dict[str, int]:
        """How often each catalogue id was named."""
        out: dict[str, int] = {}
        for v in self.verdicts:
            if v.mistake:
                out[v.mistake] = out.get(v.mistake, 0) + 1
        return out

    @property
    def exit_status(self) -> int:
        return 1 if any(v.verdict == "wrong" for v in self.verdicts) else 0

    def to_dict(self) -> dict[str, Any]:
        """The ``glassnet.check/2`` object (plain Python; no NaN or infinity anywhere)."""
        return _finite({
            "format": FORMAT, "source": self.source, "answers": self.answers_source or None,
            "student": self.student, "variant": self.variant,
            "verdicts": [v.to_dict() for v in self.verdicts], "counts": self.counts(),
            "mistakes": self.mistakes(), "notes": list(self.notes),
            "exit_status": self.exit_status,
        })

    def to_json(self) -> str:
        import json

        return json.dumps(_finite(self.to_dict()), allow_nan=False, ensure_ascii=False,
                          indent=2) + "\n"

    # ------------------------------------------------------------------- text
    def _head(self) -> str:
        head = self.title or "glassnet check"
        if self.source:
            head += f" ({self.source})"
        who = [f"student {self.student}"] if self.student else []
        if self.variant:
            who.append(f"variant {self.variant}")
        if self.answers_source:
            who.append(f"answers {self.answers_source}")
        return head + (": " + ", ".join(who) if who else "")

    def to_text(self) -> str:
        head = self._head()
        lines = [head, "=" * min(len(head), 100)]
        lines += [f"{v:<9} {text}" for v, text in LEGEND]
        lines.append("")
        if not self.verdicts:
            lines.append("no answers to check")
        rows = [("answer", "name", "given", "exact", "verdict", "accepted")]
        if not self.verdicts:
            rows = []
        for v in self.verdicts:
            rows.append((v.symbol, v.label, v.given, _num(v.exact), v.verdict,
                         _interval(v.accepted)))
        widths = [max((len(r[k]) for r in rows), default=0) for k in range(6)]
        for k, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
            if k == 0:
                continue
            v = self.verdicts[k - 1]
            pad = " " * (widths[0] + 2)
            if v.verdict != "ok":
                lines.append(f"{pad}why: {v.basis}")
            if v.mistake:
                lines.append(f"{pad}mistake [{v.mistake}]: {v.note}")
            elif v.note and v.verdict != "ok":
                lines.append(f"{pad}note: {v.note}")
        for note in self.notes:
            lines.append(f"note: {note}")
        c = self.counts()
        lines.append("")
        lines.append(f"{c['ok']} ok, {c['carried']} carried, {c['rounding']} rounding, "
                     f"{c['wrong']} wrong: exit status {self.exit_status}")
        return "\n".join(lines) + "\n"

    # -------------------------------------------------------------- notebooks
    def to_markdown(self) -> str:
        """A Markdown table (what a notebook shows)."""
        c = self.counts()
        out = [f"**{_md(self._head())}**", "",
               "| answer | name | given | exact | verdict | accepted | why |",
               "|---|---|---|---|---|---|---|"]
        for v in self.verdicts:
            why = "" if v.verdict == "ok" else v.basis
            if v.mistake:
                why += f" — mistake `{v.mistake}`: {v.note}"
            elif v.note and v.verdict != "ok":
                why += f" — {v.note}"
            verdict = f"**{v.verdict}**" if v.verdict == "wrong" else v.verdict
            out.append(f"| {_md(v.symbol)} | `{v.label}` | {_md(v.given)} | {_num(v.exact)} | "
                       f"{verdict} | {_interval(v.accepted)} | {_md(why)} |")
        out += ["", f"{c['ok']} ok, {c['carried']} carried, {c['rounding']} rounding, "
                    f"{c['wrong']} wrong: exit status {self.exit_status}"]
        return "\n".join(out) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        from html import escape

        c = self.counts()
        colour = {"ok": "#1a7f37", "carried": "#0969da", "rounding": "#9a6700",
                  "wrong": "#cf222e"}
        rows = []
        for v in self.verdicts:
            why = "" if v.verdict == "ok" else v.basis
            if v.mistake:
                why += f" — mistake {v.mistake}: {v.note}"
            elif v.note and v.verdict != "ok":
                why += f" — {v.note}"
            rows.append(
                f"<tr><td>{escape(v.symbol)}</td><td><code>{escape(v.label)}</code></td>"
                f"<td>{escape(v.given)}</td><td>{escape(_num(v.exact))}</td>"
                f"<td style=\"color:{colour[v.verdict]}\"><b>{v.verdict}</b></td>"
                f"<td>{escape(_interval(v.accepted))}</td><td>{escape(why)}</td></tr>")
        return (f"<p><b>{escape(self._head())}</b></p><table><thead><tr><th>answer</th>"
                "<th>name</th><th>given</th><th>exact</th><th>verdict</th><th>accepted</th>"
                "<th>why</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
                f"<p>{c['ok']} ok, {c['carried']} carried, {c['rounding']} rounding, "
                f"{c['wrong']} wrong: exit status {self.exit_status}</p>")

    def __repr__(self) -> str:
        c = self.counts()
        return (f"CheckReport2({self.source or self.title!r}: {c['ok']} ok, {c['carried']} "
                f"carried, {c['rounding']} rounding, {c['wrong']} wrong)")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _num(x: float | None) -> str:
    if x is None:
        return ""
    s = f"{x:.9g}"
    return "0" if float(s) == 0 else s


def _interval(iv: list[float] | None) -> str:
    """[lo, hi] with enough digits to tell lo from hi (at least 3 significant digits)."""
    if iv is None:
        return ""
    lo, hi = iv
    width = abs(hi - lo)
    size = max(abs(lo), abs(hi))
    digits = 3
    if width > 0 and size > 0:
        digits = max(3, min(15, math.ceil(math.log10(size / width)) + 1))
    return f"[{lo:.{digits}g}, {hi:.{digits}g}]"


def _finite(obj: Any) -> Any:
    """No NaN or infinity in any output: a non-finite float becomes null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _g(x: float) -> str:
    """A recomputed value with 10 significant digits (enough to see any update)."""
    s = f"{x:.10g}"
    return "0" if float(s) == 0 else s


# --------------------------------------------------------------------------- checking
def _exercise_and_answers(exercise: Any, answers: Any) -> tuple[Any, Any, Any, AnswerSheet | None]:
    from ..exercise.loader import Exercise, _answers, _Checker, load_exercise
    from ..exercise.solution import Solution

    if isinstance(exercise, Solution):
        sol, ex = exercise, exercise.exercise
    else:
        ex = exercise if isinstance(exercise, Exercise) else load_exercise(os.fspath(exercise))
        sol = None
    sheet = None
    if answers is None:
        validated = ex.answers
    elif isinstance(answers, AnswerSheet):
        sheet = answers
        validated = _answers(_Checker(answers.source), answers.answers, ex)
    elif isinstance(answers, Mapping):
        validated = _answers(_Checker(""), answers, ex)
    else:
        raise GlassnetError(f"answers must be an AnswerSheet, a mapping or None, got "
                            f"{type(answers).__name__}")
    return ex, sol, validated or {}, sheet


def _exact(sol: Any, q: Q) -> tuple[float, float | None]:
    """The engine's exact value of q, and the parameter's value before the update (W, b)."""
    up = sol.updates[q.u]
    if q.qty == "loss":
        return float(up.loss), None
    lt = up.layers[q.l]
    arr = {"z": lt.z, "a": lt.a, "delta": lt.delta, "dW": lt.grad_W, "db": lt.grad_b,
           "W": lt.W_after, "b": lt.b_after}[q.qty]
    value = float(arr[q.index])
    if q.qty in ("W", "b"):
        return value, float((lt.W if q.qty == "W" else lt.b)[q.index])
    return value, None


def _symbol(q: Q, many: bool) -> str:
    from ..exercise.check import _unit_label

    if q.qty == "loss":
        return "E"
    key = {"z": "z", "a": "a", "delta": "deltas", "dW": "grad_W", "db": "grad_b", "W": "W",
           "b": "b"}[q.qty]
    idx = (q.i, q.j) if q.qty in ("W", "dW") else (q.i,)
    label = _unit_label(key, q.l + 1, idx)[1]
    if q.qty in ("W", "b"):
        label += "′"
    return label


def check_answers(exercise: Any, answers: Any = None) -> CheckReport2:
    """Grade ``answers`` (an :class:`AnswerSheet`, a raw ``answers`` mapping, or None for the
    exercise's own section) against ``exercise`` (an Exercise, a Solution, or a file path).

    Raises a GlassnetError (naming the file and key) for answers that do not fit the
    exercise, before any grading work.
    """
    from ..exercise.solution import solve

    ex, sol, validated, sheet = _exercise_and_answers(exercise, answers)
    givens = resolve(ex, validated, sheet.source if sheet else None)  # bad names: before work
    if sol is None:
        sol = solve(ex)
    report = CheckReport2([], title=f"glassnet check: {ex.name}", source=ex.source,
                          answers_source=sheet.source if sheet else "",
                          student=sheet.student if sheet else None,
                          variant=sheet.variant if sheet else None)
    given_map = {g.q: g.answer.value for g in givens}
    by_q: dict[Q, Given] = {g.q: g for g in givens}

    base = FollowThrough(given_map)
    run_engine(ex, base)
    rho = {g.q: carried_rounding(g.answer.value, g.answer.text) for g in givens}
    depends = nearest_answers(ex, given_map)
    used = set().union(*depends.values()) if depends else set()
    if len(used) <= MAX_PROPAGATED:
        allowance = propagate(ex, given_map, rho, base.seen, used)
    else:  # one engine pass per answer: bounded, and said so
        allowance = {}
        report.notes.append(f"{len(used)} answers feed later ones; the rounding of more than "
                            f"{MAX_PROPAGATED} is not propagated (each later answer gets half a "
                            f"unit of its own last digit)")
    order = list(base.order) + [g.q for g in givens if g.q not in base.seen]
    many = ex.samples_per_update > 1
    table: Any = None

    verdict_of: dict[Q, str] = {}
    depth_memo: dict[Q, int] = {}
    for q in order:
        g = by_q[q]
        v = _judge(ex, sol, g, base.seen.get(q), allowance.get(q, 0.0),
                   sorted(depends.get(q, ()), key=order.index), verdict_of, by_q, given_map,
                   many, depth_memo)
        if v.verdict == "wrong":
            if table is None:
                from .mistakes import misconceived_values

                table = misconceived_values(ex, given_map)
            _name_it(v, g, table, allowance.get(q, 0.0), bool(v.depends_on), _exact(sol, q))
        verdict_of[q] = v.verdict
        report.verdicts.append(v)
    report.verdicts += _query_verdicts(sol, validated)
    _formula_verdicts(ex, validated, report)
    return report


def _judge(ex: Any, sol: Any, g: Given, recomputed: float | None, allowance: float,
           deps: list[Q], verdict_of: Mapping[Q, str], by_q: Mapping[Q, Given],
           given_map: Mapping[Q, float], many: bool, depth_memo: dict[Q, int]) -> Verdict2:
    """One verdict. Every rule is an interval of values for the digits written; the verdict is
    the first rule whose interval holds the answer, and ``accepted`` is that interval (for a
    ``wrong`` answer, the interval of the rule it failed), so the two never disagree."""
    q, text, value = g.q, g.answer.text, g.answer.value
    exact, before = _exact(sol, q)
    r = exact if recomputed is None else recomputed
    u = half_unit(text)
    tiny = SLACK * max(abs(value), abs(exact), abs(r), 1e-300)
    param = q.qty in ("W", "b")
    what = "update" if param else "value"
    # the student's own value before this update (their answer for the previous update, if any)
    before_student = before
    if param and q.u > 0:
        before_student = given_map.get(q._replace(u=q.u - 1), before)
    dep_names = [by_q[k].label for k in deps]
    dep_text = ", ".join(f"{by_q[k].label} = {by_q[k].answer.text} ({verdict_of.get(k, '?')})"
                         for k in deps)
    base = dict(name=g.name, label=g.label, symbol=_symbol(q, many), path=g.answer.path,
                update=q.u + 1, given=text, given_value=value, exact=exact,
                recomputed=None if not deps else r, depends_on=dep_names,
                sample=q.s + 1 if q.qty in ("z", "a", "delta") else None)

    def around(centre: float, half: float) -> list[float]:
        return [centre - half - tiny, centre + half + tiny]

    def inside(iv: list[float]) -> bool:
        return iv[0] <= value <= iv[1]

    def verdict(kind: str, iv: list[float], basis: str) -> Verdict2:
        return Verdict2(**base, verdict=kind, accepted=iv, basis=basis)

    # ok: within half a unit of the last digit, but never wider than the coarsest digit that
    # can show the value (or the update): "0" for −0.0765 is judged to ±0.005, not ±0.5
    res = resolution(exact, before if param else None)
    u_ok = min(u, res)
    shows = u <= res * (1 + 1e-9)
    ok_iv = around(exact, u_ok)
    if inside(ok_iv):
        return verdict("ok", ok_iv, f"equal to the exact value at the digits written "
                                    f"(±{u_ok:.2g})")
    err = abs(value - exact)
    if not shows:
        # too coarse to tell the value from zero (from no update): proves nothing, so neither
        # carried nor rounding can accept it (grading.md)
        shown = f"{exact - before if param else exact:.4g}"
        return verdict("wrong", ok_iv,
                       f"written to ±{u:.2g}: too coarse to tell the {what} {shown} from "
                       f"{'no update' if param else 'zero'}, so it proves nothing (it needs "
                       + ("digits finer than the update)" if param else
                          f"digits to ±{res:.2g} or finer)"))
    if deps:
        # follow-through: around the value recomputed from the student's own earlier answers,
        # again at most as wide as the coarsest digit that shows it
        res_r = resolution(r, before_student if param else None)
        u_r = min(u, res_r)
        A = u_r + allowance
        carried_iv = around(r, A)
        fine = u <= res_r * (1 + 1e-9)
        if fine:  # cut off after the last digit (seed 004 writes 1.000006552 as 1.0000065)
            cut_lo, cut_hi = cut_off_range(text, r, allowance)
            carried_iv = [min(carried_iv[0], cut_lo - tiny), max(carried_iv[1], cut_hi + tiny)]
        near_iv = around(exact, u + allowance)
        digits = (f"half a unit of your last digit ({u:.2g}, or cut off there)"
                  if fine else
                  f"half a unit of the first digit that shows it ({res_r:.2g}; your digits are "
                  f"coarser)")
        allowed = digits + (f" + the rounding of your earlier answers ({allowance:.2g})"
                            if allowance else "")
        if inside(carried_iv):
            if inside(near_iv):
                return verdict("rounding", [min(carried_iv[0], near_iv[0]),
                                            max(carried_iv[1], near_iv[1])],
                               f"recomputed from your {dep_text}: {_g(r)}; equal to it within "
                               f"{allowed}, and to the exact value within the rounding of "
                               f"your digits")
            bad = any(verdict_of.get(k) in ("wrong", "carried") for k in deps)
            why = ("right from your own earlier answers" if bad else
                   "explained by the rounding of your earlier answers")
            return verdict("carried" if bad else "rounding", carried_iv,
                           f"recomputed from your {dep_text}: {_g(r)}, within {allowed}: "
                           f"{why}")
        if inside(near_iv):
            return verdict("rounding", near_iv,
                           f"within half a unit of your last digit ({u:.2g}) + the rounding "
                           f"of your earlier answers ({allowance:.2g}) of the exact value")
        return verdict("wrong", carried_iv,
                       f"recomputed from your {dep_text}: {_g(r)}; yours is "
                       f"{_g(abs(value - r))} away, more than {_down(A)} ({allowed})")
    scale = abs(exact - before) if param else abs(exact)
    rel = hand_tolerance(ex, q, depth_memo)
    steps = round(rel / HAND_STEP)
    model = (f"hand precision allows {rel:.0%} of the {what} ({scale:.3g}): 5 % for each of "
             f"the {steps} computed step{'s' if steps > 1 else ''} from the given numbers"
             if rel < HAND_TOLERANCE else
             f"hand precision allows {rel:.0%} of the {what} ({scale:.3g})")
    tol = rel * scale
    hand_iv = around(exact, tol)
    if inside(hand_iv):
        return verdict("rounding", hand_iv,
                       f"no earlier answer of yours it depends on: {model}; yours is off by "
                       f"{_pct(err / scale)}")
    if scale == 0:
        return verdict("wrong", ok_iv, f"the exact {what} is 0, and only your digits "
                                       f"(±{u:.2g}) could excuse a change")
    widest = ok_iv if u_ok > tol else hand_iv
    return verdict("wrong", widest,
                   f"no earlier answer of yours it depends on; off by {_g(err)} "
                   f"({_pct(err / scale)} of the {what}), more than {_down(max(u_ok, tol))}: "
                   f"{model}, and your digits allow ±{u_ok:.2g}")


def _down(x: float) -> str:
    """x with 3 significant digits, rounded down: "more than" it stays true of x's excess."""
    if x <= 0 or not math.isfinite(x):
        return _g(x)
    from decimal import ROUND_FLOOR, Decimal

    d = Decimal(x)  # exact: no 10**e that underflows for subnormal x
    step = Decimal(1).scaleb(d.adjusted() - 2)
    return f"{float(d.quantize(step, rounding=ROUND_FLOOR)):.3g}"


def _pct(x: float) -> str:
    """A fraction as a percentage, 3 significant digits (0.0441 → 4.41%)."""
    return f"{100 * x:.3g}%"


def _name_it(v: Verdict2, g: Given, table: Any, allowance: float, has_deps: bool,
             exact_before: tuple[float, float | None]) -> None:
    """Fill ``mistake`` and ``note`` of a wrong verdict."""
    from ..exercise.check import _diagnose
    from .mistakes import name_mistake

    exact, before = exact_before
    tolerance = unit(g.answer.text) + allowance
    hit = name_mistake(g.q, g.answer.value, tolerance, exact,
                       v.recomputed if v.recomputed is not None else exact, table, before,
                       relative=0.02 if has_deps else 0.10,
                       coarse=not resolves(g.answer.text, exact, before))
    if hit is not None:
        m, x = hit
        v.mistake = m.id
        v.note = f"{m.description} (that gives {_g(x)})"
        return
    scale = abs(exact - before) if before is not None else abs(exact)
    if not resolves(g.answer.text, exact, before):
        v.note = ("write the digits you computed: this answer is too coarse to show the "
                  + ("update" if before is not None else "value"))
        return
    v.note = _diagnose(g.answer.value, g.answer.text, exact, scale,
                       "update" if before is not None else "value", before, "wrong")


def _query_verdicts(sol: Any, answers: Mapping[str, Any]) -> list[Verdict2]:
    """Query outputs and classes: judged against the trained network (hand-precision model)."""
    out: list[Verdict2] = []
    n_up = len(sol.updates)
    for qn, entry in enumerate(answers.get("query") or []):
        if not entry:
            continue
        res = sol.queries[qn]
        for k, ans in enumerate(entry.get("output") or []):
            if ans is None:
                continue
            exact = float(res.output[k])
            u = half_unit(ans.text)
            err = abs(ans.value - exact)
            tol = HAND_TOLERANCE * abs(exact)
            ok = err <= u + SLACK * max(abs(exact), 1e-300) and resolves(ans.text, exact)
            verdict = "ok" if ok else ("rounding" if err <= tol else "wrong")
            out.append(Verdict2(
                name=f"query_{qn + 1}_y_{k + 1}", label=f"query {qn + 1}: y_{k + 1}",
                symbol=f"y{k + 1}", path=ans.path, update=n_up, given=ans.text,
                given_value=ans.value, exact=exact, verdict=verdict,
                accepted=[exact - (u if ok else tol), exact + (u if ok else tol)],
                basis=("equal to the exact value at the digits written" if ok else
                       f"hand precision allows {HAND_TOLERANCE:.0%} of the value")))
        if "class" in entry:
            ans = entry["class"]
            good = int(ans.value) == res.cls
            out.append(Verdict2(
                name=f"query_{qn + 1}_class", label=f"query {qn + 1}: class", symbol="class",
                path=ans.path, update=n_up, given=ans.text, given_value=ans.value,
                exact=float(res.cls), verdict="ok" if good else "wrong",
                accepted=[float(res.cls), float(res.cls)],
                basis=f"the class is {res.class_rule}",
                note=None if good else f"the largest output is number {res.cls + 1}"))
    return out


def _formula_verdicts(ex: Any, answers: Mapping[str, Any], report: CheckReport2) -> None:
    formulas = answers.get("formulas") or {}
    if not formulas:
        return
    try:
        from ..derive.formula_check import check_formula
    except ImportError:
        report.notes.append("formula answers were not checked: this glassnet has no "
                            "glassnet.derive.formula_check")
        return
    from ..misconceptions import IDS

    for name, text in formulas.items():
        try:
            res = check_formula(ex, name, text)
        except GlassnetError as exc:  # the student's formula cannot be read: their answer
            equivalent, note, differs, canonical = False, f"could not read it: {exc}", None, name
        else:
            equivalent = bool(getattr(res, "equivalent", False))
            note = getattr(res, "note", None)
            differs = getattr(res, "differs", None)
            canonical = getattr(res, "name", None) or name
        report.verdicts.append(Verdict2(
            name=canonical, label=f"formula {name}", symbol=name,
            path=f"answers.formulas.{name}", update=1, given=text, given_value=math.nan,
            exact=None, verdict="ok" if equivalent else "wrong", accepted=None,
            basis="equivalent to the engine's equation (checked symbolically)" if equivalent
            else "not equivalent to the engine's equation (checked symbolically)",
            mistake=differs if differs in IDS else None,
            note=None if equivalent else (note if differs in IDS or not differs
                                          else f"{note} ({differs})"),
            kind="formula"))
