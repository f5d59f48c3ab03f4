"""Grading a formula a student wrote: equivalent or not, and if not, which factor differs.

``check_formula(exercise, "w7", "(a4 - y)*a4*(1 - a4)*a1")`` reads the
student's plain-text maths in the exercise's notation (seed 004's numbered
names here), replaces every name by the quantity it denotes, and compares it
with the derived formula by the same symbolic proof as ``glassnet derive``
(forward definitions substituted, activation values as fresh variables, the
difference reduced to 0). Equivalent rewritings, such as ``a4*(1-a4)*(a4-y)*a1``
or ``σ(z4)(1 − σ(z4))`` for a4(1 − a4), are accepted. A wrong formula is
compared with the classic slips, each built from the correct one:

* ``missing_fprime``: an activation's derivative f' left out;
* ``sign``: the formula's negative (t − a for a − t);
* ``missing_sum``: a hidden δ with one term of Σₖ wₖⱼ δₖ only (seed 002's
  "correct class");
* ``swapped_indices``: wⱼₖ for wₖⱼ in the sum, or δⱼ aᵢ for δᵢ aⱼ (seed 001);
* ``factor``: right up to a constant factor (a lost ½, an extra 2, a 1/K);
* ``other``: none of these.

LaTeX (``\\frac{\\partial E}{\\partial w_7} = …`` right-hand sides such as
``(a_4 - y) \\cdot a_4 (1 - a_4) \\cdot a_1``) is read for the common subset:
``\\frac``, ``\\cdot``, ``\\times``, ``\\left( \\right)``, Greek letters,
``\\sigma``, ``\\exp``, ``\\log``, superscripts and subscripts. (SymPy's own
``parse_latex`` needs the antlr4 or lark package, which glassnet does not
install.) Sums written with Σ are not read: write the terms out.

>>> from glassnet.exercise import load_exercise
>>> ex = load_exercise("examples/exercises/seed004_1b.yaml")
>>> v = check_formula(ex, "w7", "(a4 - y)*a4*(1 - a4)*a1")
>>> v.equivalent, v.name
(True, 'dW_2_1_1')
>>> check_formula(ex, "w7", "(a4 - y)*a1").differs
'missing_fprime'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..errors import GlassnetError
from .expressions import Gradients
from .notation import Notation, notation_for
from .spec import NetSpec, spec_from_exercise

__all__ = ["FormulaVerdict", "check_formula", "DIFFERS", "to_canonical_text"]

DIFFERS = ("missing_fprime", "sign", "missing_sum", "swapped_indices", "factor", "other")

_NOTES = {
    "missing_fprime": "the derivative of the activation, f'(z), is missing from a δ",
    "sign": "the sign is reversed (a − t and t − a are negatives of each other)",
    "missing_sum": "a hidden unit feeds every unit of the next layer: its δ needs the sum "
                   "Σₖ wₖⱼ δₖ over all of them, not one term",
    "swapped_indices": "the indices of a weight are swapped (wⱼₖ instead of wₖⱼ, or δ and the "
                       "input exchanged)",
    "factor": "right up to a constant factor",
    "other": "not equal to the derivative, and not one of the usual slips",
}


@dataclass
class FormulaVerdict:
    """The verdict on one formula: ``equivalent``, and if not, ``differs`` and a ``note``."""

    name: str
    given: str
    expected: str
    equivalent: bool
    differs: str | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "given": self.given, "expected": self.expected,
                "equivalent": self.equivalent, "differs": self.differs, "note": self.note}


# ----------------------------------------------------------------- the quantity
def _quantity(notation: Notation, spec: NetSpec, name: str) -> str:
    """``dW_l_i_j``, ``db_l_i`` or ``delta_l_i`` for a name in any accepted spelling."""
    text = name.strip()
    canon = notation.canonical_name(text)
    if canon is None:
        raise GlassnetError(f"formulas.{name}: unknown quantity; expected dW_l_i_j, db_l_i, "
                            f"delta_l_i or a name of the exercise's notation (such as "
                            f"{notation.display_name('W_1_1_1')})")
    if canon.startswith(("W_", "b_")):
        canon = "d" + canon
    if canon.startswith("db_") and not spec.has_biases:
        raise GlassnetError(f"formulas.{name}: this network has no biases")
    if not canon.startswith(("dW_", "db_", "delta_")):
        raise GlassnetError(f"formulas.{name}: a formula answer is for a gradient (dW_l_i_j, "
                            f"db_l_i) or a δ (delta_l_i), not for {canon}")
    return canon


class _Variant(Gradients):
    """The derived formulas with one classic slip built in (for naming a wrong answer)."""

    def __init__(self, spec: NetSpec, *, drop_fprime: int | None = None,
                 single: tuple[int, int] | None = None, transposed: int | None = None):
        super().__init__(spec, textbook=True)
        self.drop_fprime, self.single, self.transposed = drop_fprime, single, transposed

    def fprime(self, layer: int, i: int) -> str | None:
        if self.drop_fprime == layer:
            return None
        return super().fprime(layer, i)

    def output_delta(self, k: int) -> str:
        if self.drop_fprime == self.spec.L and self.spec.activations[-1] == "softmax":
            return self.dE_da(k)
        return super().output_delta(k)

    def delta(self, layer: int, i: int) -> str:
        L = self.spec.L
        if layer < L and (self.single is not None or self.transposed is not None):
            ks = range(1, self.spec.sizes[layer + 1] + 1)
            if self.single is not None and self.single[0] == layer:
                ks = [self.single[1]]
            terms = []
            for k in ks:
                w = f"W_{layer + 1}_{k}_{i}"
                if self.transposed == layer + 1 and i <= self.spec.sizes[layer + 1] and \
                        k <= self.spec.sizes[layer]:
                    w = f"W_{layer + 1}_{i}_{k}"
                from .expressions import prod

                terms.append(prod(w, self.delta(layer + 1, k)))
            from .expressions import prod

            return prod(self.fprime(layer, i), "(" + " + ".join(terms) + ")")
        return super().delta(layer, i)


def _expected_text(g: Gradients, quantity: str) -> str:
    parts = quantity.split("_")
    nums = [int(p) for p in parts[1:]]
    if parts[0] == "delta":
        return g.delta(nums[0], nums[1])
    if parts[0] == "dW":
        return g.gradient(f"W_{nums[0]}_{nums[1]}_{nums[2]}")
    return g.gradient(f"b_{nums[0]}_{nums[1]}")


def _variants(spec: NetSpec, quantity: str) -> list[tuple[str, str]]:
    """(slip id, formula text) for every classic slip that changes this quantity's formula."""
    parts = quantity.split("_")
    nums = [int(p) for p in parts[1:]]
    layer = nums[0]
    out: list[tuple[str, str]] = []
    for l in range(layer, spec.L + 1):
        if spec.activations[l - 1] != "linear":
            try:
                out.append(("missing_fprime",
                            _expected_text(_Variant(spec, drop_fprime=l), quantity)))
            except GlassnetError:
                pass
    for l in range(layer, spec.L):
        for k in range(1, spec.sizes[l + 1] + 1):
            if spec.sizes[l + 1] > 1:
                out.append(("missing_sum", _expected_text(_Variant(spec, single=(l, k)),
                                                          quantity)))
        out.append(("swapped_indices", _expected_text(_Variant(spec, transposed=l + 1),
                                                      quantity)))
    if parts[0] == "dW":
        l, i, j = nums
        if j <= spec.sizes[l] and i <= spec.sizes[l - 1] and i != j:
            g = Gradients(spec, textbook=True)
            from .expressions import prod

            out.append(("swapped_indices", prod(g.delta(l, j), g.a(l - 1, i))))
    return out


# ------------------------------------------------------------ reading the text
_NAME = re.compile(r"[^\W\d_][\w]*(?:(?:\^\{?[\(\[]?[\w]+[\)\]]?\}?)|(?:_\{?[\(\[]?[\d,]+"
                   r"[\)\]]?\}?)|(?:\[[\d,\s]+\]))*'?", re.UNICODE)
_FUNCTIONS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "sigma": "sigma",
              "σ": "sigma", "sig": "sigma", "step": "step", "sigmoid": "sigma"}
_LATEX_SIMPLE = [
    (r"\\left|\\right|\\,|\\;|\\!|\\big|\\Big", ""), (r"\\cdot|\\times|·|×|∙|⋅", "*"),
    (r"\\exp", "exp"), (r"\\log|\\ln", "log"), (r"\\tanh", "tanh"), (r"\\sigma", "σ"),
    (r"\\delta", "δ"), (r"\\gamma", "γ"), (r"\\eta", "η"), (r"\\alpha", "α"), (r"\\mu", "μ"),
    (r"\\varphi|\\phi", "φ"), (r"\\hat\{y\}", "ŷ"), (r"\\mathrm\{([^}]*)\}", r"\1"),
]


def _latex_to_text(text: str) -> str:
    s = text
    for _ in range(8):  # \frac{a}{b} -> ((a)/(b)), innermost first
        new = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", s)
        if new == s:
            break
        s = new
    for pattern, repl in _LATEX_SIMPLE:
        s = re.sub(pattern, repl, s)
    s = re.sub(r"e\^\{([^{}]*)\}", r"exp(\1)", s)
    s = re.sub(r"\^\{(\d+)\}", r"^\1", s)
    if "\\" in s:
        bad = re.search(r"\\[A-Za-z]+", s)
        raise GlassnetError(f"cannot read the LaTeX command {bad.group(0) if bad else s!r}; "
                            f"write the formula as plain text, e.g. (a2 - t)*a2*(1 - a2)*a1")
    return s


def to_canonical_text(notation: Notation, text: str) -> str:
    """The student's text with every name replaced by its canonical name (SymPy syntax)."""
    s = text.strip()
    if "\\" in s:
        s = _latex_to_text(s)
    s = _unicode_scripts(s.replace("−", "-").replace("·", "*").replace("×", "*")
                         .replace("∙", "*"))
    if "Σ" in s or re.search(r"\bsum\b", s):
        raise GlassnetError("sums (Σ, sum) are not read in formula answers: write the terms out, "
                            "e.g. w5*d3 + w6*d4")
    out, pos = [], 0
    while pos < len(s):
        m = _NAME.match(s, pos)
        if not m or m.start() != pos:
            out.append(s[pos])
            pos += 1
            continue
        token = m.group(0)
        if token in _FUNCTIONS:
            out.append(_FUNCTIONS[token])
            pos += len(token)
            continue
        # the longest prefix that names a quantity ("a2^2" is a2 squared)
        for end in range(len(token), 0, -1):
            piece = token[:end]
            canon = notation.canonical_name(piece)
            if canon is not None and not canon.startswith(("dW_", "db_")) and canon != "loss":
                out.append(f" {canon} ")
                pos += end
                break
        else:
            if token in ("e", "pi"):  # e^(−z4), the constants
                out.append({"e": "E", "pi": "pi"}[token])
                pos += len(token)
                continue
            raise GlassnetError(f"unknown name {token!r} in the formula; the exercise's notation "
                                f"names quantities like {notation.display_name('a_1_1')}, "
                                f"{notation.display_name('W_1_1_1')}, "
                                f"{notation.display_name('t_1')}")
    return "".join(out).replace("^", "**")


def _unicode_scripts(s: str) -> str:
    """``w₁₁⁽²⁾`` → ``w_11^(2)``, ``a²`` → ``a^2``: sub- and superscript digits as plain text."""
    out, mode = [], ""
    for ch in s:
        if ch in "₀₁₂₃₄₅₆₇₈₉":
            out.append(("" if mode == "sub" else "_") + "0123456789"["₀₁₂₃₄₅₆₇₈₉".index(ch)])
            mode = "sub"
        elif ch in "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾":
            out.append(("" if mode == "sup" else "^") + "0123456789()"[
                "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾".index(ch)])
            mode = "sup"
        else:
            out.append(ch)
            mode = ""
    return "".join(out)


def _parse(inst: Any, text: str) -> Any:
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication,
        parse_expr,
        standard_transformations,
    )

    from .proof import _GLOBALS

    try:
        expr = parse_expr(text, local_dict=inst.locals, global_dict=_GLOBALS(),
                          transformations=standard_transformations + (implicit_multiplication,
                                                                      convert_xor))
    except Exception as exc:  # noqa: BLE001 - SymPy raises many types for bad syntax
        raise GlassnetError(f"cannot read the formula {text.strip()!r}: "
                            f"{type(exc).__name__}") from None
    sp = inst.sp
    if not isinstance(expr, sp.Expr):
        raise GlassnetError(f"cannot read the formula {text.strip()!r}: not an expression")
    if expr.has(sp.Float):
        expr = sp.nsimplify(expr, rational=True)
    return expr


def check_formula(exercise: Any, name: str, text: str, notation: Notation | None = None
                  ) -> FormulaVerdict:
    """Grade ``text``, a student's formula for quantity ``name`` (``dW_l_i_j``, ``db_l_i``,
    ``delta_l_i`` or a name of the exercise's notation, e.g. ``w7``), by symbolic comparison.

    ``text`` uses the exercise's notation (or ``notation``); it may use δ names of
    other units (their derived δ is substituted). Raises
    :class:`~glassnet.errors.GlassnetError` for a name or text it cannot read.
    """
    from .proof import _is_zero, instance, spec_key

    if not isinstance(text, str) or not text.strip():
        raise GlassnetError(f"formulas.{name}: expected the formula as text, got {text!r}")
    if len(text) > 5000:
        raise GlassnetError(f"formulas.{name}: a formula of more than 5000 characters")
    spec = spec_from_exercise(exercise) if not isinstance(exercise, NetSpec) else exercise
    notation = (notation or notation_for(exercise)).bind(spec.sizes)
    quantity = _quantity(notation, spec, name)
    canonical_text = to_canonical_text(notation, text)
    inst = instance(spec_key(spec))
    sp = inst.sp
    student = _parse(inst, canonical_text)
    g = Gradients(spec, textbook=True)
    deltas = {}
    for sym in student.free_symbols:
        if sym.name.startswith("delta_"):
            l, i = (int(p) for p in sym.name.split("_")[1:])
            deltas[sym] = inst.parse(g.delta(l, i))
    student = student.xreplace(deltas).xreplace(inst.forward)
    expected_text = _expected_text(g, quantity)
    expected = inst.parse(expected_text)
    sum_one = spec.loss == "cross_entropy"
    extra = inst.sum_to_one() if sum_one else None
    shown = _in_notation(notation, expected_text)
    if _is_zero(sp, student - expected, extra, inst.method) or _equal_through_exp(
            inst, canonical_text, expected_text, extra,
            {f"delta_{l}_{i}": g.delta(l, i) for l in range(1, spec.L + 1)
             for i in range(1, spec.sizes[l] + 1)}):
        return FormulaVerdict(quantity, text, shown, True, None, "equivalent to the derivative")
    differs = "other"
    if _is_zero(sp, student + expected, extra, inst.method):
        differs = "sign"
    else:
        for slip, variant in _variants(spec, quantity):
            if _is_zero(sp, student - inst.parse(variant), extra, inst.method):
                differs = slip
                break
        else:
            ratio = _constant_ratio(sp, student, expected, extra)
            if ratio is not None:
                differs = "factor"
                return FormulaVerdict(quantity, text, shown, False, differs,
                                      f"{_NOTES['factor']}: yours is {ratio} times the "
                                      f"derivative")
    return FormulaVerdict(quantity, text, shown, False, differs, _NOTES[differs])


def _equal_through_exp(inst: Any, canonical_text: str, expected_text: str, extra: Any,
                       deltas_text: dict[str, str]) -> bool:
    """A formula written with e^(…) (σ' = e^(−z)/(1 + e^(−z))²): compare in the local
    quantities (each a = σ(z) or tanh(z) of its own z, the z's free), writing σ and tanh
    through exp, every e^(z) a fresh variable: sound (equal here means equal), and fast."""
    sp = inst.sp
    if "exp" not in canonical_text and not re.search(r"\bE\b", canonical_text):
        return False
    from .proof import _functions

    sig = _functions()["sig"]
    spec = inst.spec
    local: dict[Any, Any] = {}
    exps: dict[Any, Any] = {}
    for l in range(1, spec.L + 1):
        act = spec.activations[l - 1]
        for i in range(1, spec.sizes[l] + 1):
            z = inst.symbols[f"z_{l}_{i}"]
            a = inst.symbols[f"a_{l}_{i}"]
            u = sp.Symbol(f"u_{l}_{i}", positive=True)
            exps[sp.exp(z)] = u
            if act == "sigmoid":
                local[a] = 1 / (1 + 1 / u)
            elif act == "tanh":
                local[a] = (u - 1 / u) / (u + 1 / u)

    def prepare(text: str) -> Any:
        expr = _parse(inst, text)
        subs = {sym: _parse(inst, deltas_text[sym.name]) for sym in expr.free_symbols
                if sym.name in deltas_text}
        expr = expr.xreplace(subs)
        expr = expr.replace(sig, lambda arg: 1 / (1 + sp.exp(-arg))).rewrite(sp.exp)
        expr = expr.xreplace(local)
        for e, u in exps.items():
            expr = expr.subs(e, u)
        return expr

    try:
        diff = prepare(canonical_text) - prepare(expected_text)
        if extra:
            diff = diff.xreplace(extra)
        if diff.has(sp.exp) or diff.atoms(sp.Function):
            return False
        num, _ = sp.fraction(sp.together(diff))
        return sp.expand(num) == 0
    except GlassnetError:
        return False


def _constant_ratio(sp: Any, student: Any, expected: Any, extra: Any) -> Any:
    atoms = {f: sp.Dummy() for f in (student.atoms(sp.Function) | expected.atoms(sp.Function))}
    s, e = student.xreplace(atoms), expected.xreplace(atoms)
    if extra:
        s, e = s.subs(extra), e.subs(extra)
    if e == 0:
        return None
    r = sp.cancel(sp.together(s / e))
    if r.is_number and r != 0 and r != 1:
        return r
    return None


def _in_notation(notation: Notation, canonical: str) -> str:
    """A canonical expression with every name in the notation's typeable spelling."""
    return re.sub(r"\b(?:W|b|z|a|delta|x|t)(?:_\d+)+\b",
                  lambda m: notation.display_name(m.group(0)), canonical)
