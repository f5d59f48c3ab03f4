"""Tiny formula trees that print in three notations: terminal text, LaTeX and HTML.

A worked solution is a list of equations such as
``z₁⁽¹⁾ = w₁₁⁽¹⁾x₁ + w₁₂⁽¹⁾x₂ + b₁⁽¹⁾ = 0.5·1 + (−0.25)·0 + 0.1 = 0.6``: symbols,
then the same formula with the numbers substituted, then the result. The
builders describe each equation once as a tree; :class:`Style` decides how a
number is rounded and which notation is written, and the tree takes care of
parentheses (a negative factor is always parenthesised, as hand-written
answer keys do).

>>> eq = Eq(Sym("z", "z", (1,), 1), Sum([("+", Prod([Num(0.5), Num(1)])),
...                                        ("+", Prod([Num(-0.25), Num(0)])),
...                                        ("+", Num(0.1))]), Num(0.6))
>>> eq.render(Style("text"))
'z₁⁽¹⁾ = 0.5·1 + (−0.25)·0 + 0.1 = 0.6'
>>> eq.render(Style("latex"))
'z^{[1]}_{1} = 0.5 \\\\cdot 1 + (-0.25) \\\\cdot 0 + 0.1 = 0.6'
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence
from dataclasses import dataclass, field

from .numbers import number_parts

__all__ = ["Style", "Expr", "Num", "Sym", "Sum", "Prod", "Call", "Pow", "Frac", "Raw",
           "Deriv", "Eq", "Sigma", "Bracket", "subscript", "superscript"]

SUM, PROD, ATOM = 1, 2, 3

_SUB = str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾")


def subscript(s: object) -> str:
    return str(s).translate(_SUB)


def superscript(s: object) -> str:
    return str(s).replace("−", "-").translate(_SUP)


@dataclass(frozen=True)
class Style:
    """How to print: ``target`` is "text", "latex" or "html"; ``decimals`` as ``--decimals``."""

    target: str = "text"
    decimals: int | None = None


class Expr:
    prec = ATOM

    def render(self, st: Style) -> str:
        raise NotImplementedError

    def negative(self, st: Style) -> bool:
        """True when the printed form starts with a minus sign."""
        return False

    def wrapped(self, st: Style, when: bool) -> str:
        s = self.render(st)
        if not when:
            return s
        if st.target == "latex":
            return rf"\left({s}\right)" if self.prec < ATOM else f"({s})"
        return f"({s})"


def _minus(st: Style) -> str:
    return "-" if st.target == "latex" else ("&minus;" if st.target == "html" else "−")


@dataclass
class Num(Expr):
    """A number, rounded per the style (``min_decimals`` to show a parameter's update)."""

    value: float
    min_decimals: int | None = None

    def parts(self, st: Style) -> tuple[str, int | None]:
        return number_parts(self.value, decimals=st.decimals, min_decimals=self.min_decimals)

    def negative(self, st: Style) -> bool:
        return self.parts(st)[0].startswith("-")

    def render(self, st: Style) -> str:
        mant, exp = self.parts(st)
        mant = mant.replace("-", _minus(st))
        if exp is None:
            return mant
        if st.target == "latex":
            return rf"{mant} \times 10^{{{exp}}}"
        if st.target == "html":
            return f"{mant}·10<sup>{str(exp).replace('-', '&minus;')}</sup>"
        return f"{mant}·10{superscript(exp)}"


@dataclass
class Sym(Expr):
    """A symbol: ``Sym("w", "w", (1, 2), 1)`` is w₁₂⁽¹⁾ (text) and w^{[1]}_{12} (LaTeX).

    ``layer`` None prints no layer mark (``latex_layer`` still marks it in LaTeX, so the
    input x₁ is x^{[0]}_{1} there); indices are printed as given (1-based).
    """

    text: str
    latex: str
    sub: tuple[object, ...] = ()
    layer: int | str | None = None
    latex_layer: int | str | None = None

    def _sub(self) -> str:
        parts = [str(s) for s in self.sub]
        return ("," if any(len(p) > 1 for p in parts) else "").join(parts)

    def render(self, st: Style) -> str:
        sub = self._sub()
        if st.target == "latex":
            out = self.latex
            layer = self.layer if self.layer is not None else self.latex_layer
            if layer is not None:
                out += f"^{{[{layer}]}}"
            if sub:
                out += f"_{{{sub}}}"
            return out
        if st.target == "html":
            out = _html.escape(self.text)
            if sub:
                out += f"<sub>{sub}</sub>"
            if self.layer is not None:
                out += f"<sup>({self.layer})</sup>"
            return out
        out = self.text + subscript(sub)
        if self.layer is not None:
            out += superscript(f"({self.layer})")
        return out


@dataclass
class Raw(Expr):
    """Literal text with its LaTeX (and optionally HTML) form."""

    text: str
    latex: str | None = None
    html_text: str | None = None
    prec: int = ATOM

    def render(self, st: Style) -> str:
        if st.target == "latex":
            return self.latex if self.latex is not None else self.text
        if st.target == "html":
            return self.html_text if self.html_text is not None else _html.escape(self.text)
        return self.text


@dataclass
class Sum(Expr):
    """Terms joined by + and − (``items`` are (op, term) pairs; a leading "−" negates)."""

    items: Sequence[tuple[str, Expr]]
    prec = SUM

    def negative(self, st: Style) -> bool:
        if not self.items:
            return False
        op, first = self.items[0]
        return op == "-" or (op == "+" and first.negative(st) and first.prec >= PROD)

    def render(self, st: Style) -> str:
        if not self.items:
            return "0"
        out = []
        for k, (op, term) in enumerate(self.items):
            first = k == 0
            needs = term.prec < PROD if op == "+" else term.prec <= SUM
            if not first or op == "-":
                needs = needs or (term.negative(st) and term.prec == ATOM)
            s = term.wrapped(st, needs)
            if first:
                out.append(f"{_minus(st)}{s}" if op == "-" else s)
            else:
                sign = "+" if op == "+" else _minus(st)
                out.append(f" {sign} {s}")
        return "".join(out)


@dataclass
class Prod(Expr):
    """Factors joined by a product sign (· in text, \\cdot in LaTeX; ``op="∘"`` for Hadamard)."""

    factors: Sequence[Expr]
    op: str = "·"
    prec = PROD

    def negative(self, st: Style) -> bool:
        return bool(self.factors) and len(self.factors) == 1 and self.factors[0].negative(st)

    def render(self, st: Style) -> str:
        if len(self.factors) == 1:
            return self.factors[0].render(st)
        op = self.op
        if st.target == "latex":
            op = {"·": r" \cdot ", "∘": r" \circ ", "×": r" \times ", "": " "}.get(op, op)
        elif op == "∘" or op == "×":
            op = f" {op} "
        parts = [f.wrapped(st, f.prec < PROD or f.negative(st)) for f in self.factors]
        return op.join(parts)


@dataclass
class Call(Expr):
    """f(arg): ``Call("σ", r"\\sigma", arg)``; ``exp`` prints as e^{arg} in LaTeX."""

    name: str
    latex: str
    arg: Expr

    def render(self, st: Style) -> str:
        if st.target == "latex":
            if self.latex == "e^":
                return f"e^{{{self.arg.render(st)}}}"
            return f"{self.latex}\\left({self.arg.render(st)}\\right)"
        name = _html.escape(self.name) if st.target == "html" else self.name
        return f"{name}({self.arg.render(st)})"


@dataclass
class Pow(Expr):
    """base², with parentheses around anything but a plain number or an unmarked symbol."""

    base: Expr
    exponent: int

    def render(self, st: Style) -> str:
        marked = isinstance(self.base, Sym) and self.base.layer is not None
        b = self.base.wrapped(st, self.base.prec < ATOM or self.base.negative(st) or marked)
        if st.target == "latex":
            return f"{b}^{{{self.exponent}}}"
        if st.target == "html":
            return f"{b}<sup>{self.exponent}</sup>"
        return b + superscript(self.exponent)


@dataclass
class Bracket(Expr):
    """[inner]: square brackets (to tell a loss's outer grouping from round parentheses)."""

    inner: Expr

    def render(self, st: Style) -> str:
        if st.target == "latex":
            return rf"\left[{self.inner.render(st)}\right]"
        return f"[{self.inner.render(st)}]"


@dataclass
class Sigma(Expr):
    """Σₛ term: a sum over the samples of an update, written symbolically."""

    term: Expr
    index: str = "s"
    prec = PROD

    def render(self, st: Style) -> str:
        t = self.term.wrapped(st, self.term.prec < PROD)
        if st.target == "latex":
            return rf"\sum_{{{self.index}}} {t}"
        if st.target == "html":
            return f"&Sigma;<sub>{self.index}</sub>&#8202;{t}"
        return f"Σ{subscript(self.index)} {t}"


@dataclass
class Frac(Expr):
    num: Expr
    den: Expr
    prec = PROD

    def render(self, st: Style) -> str:
        if st.target == "latex":
            return rf"\frac{{{self.num.render(st)}}}{{{self.den.render(st)}}}"
        n = self.num.wrapped(st, self.num.prec < ATOM or self.num.negative(st))
        d = self.den.wrapped(st, (self.den.prec < ATOM and not isinstance(self.den, Sigma))
                             or self.den.negative(st))
        return f"{n}/{d}"


@dataclass
class Deriv(Expr):
    """∂num/∂den."""

    num: Expr
    den: Expr

    def render(self, st: Style) -> str:
        if st.target == "latex":
            return rf"\frac{{\partial {self.num.render(st)}}}{{\partial {self.den.render(st)}}}"
        return f"∂{self.num.render(st)}/∂{self.den.render(st)}"


@dataclass
class Eq:
    """``lhs = rhs₁ = rhs₂ = ...``; ``op`` replaces the first "=" (e.g. "←" for an update)."""

    lhs: Expr
    rhs: list[Expr] = field(default_factory=list)
    op: str = "="

    def __init__(self, lhs: Expr, *rhs: Expr, op: str = "="):
        self.lhs = lhs
        self.rhs = [r for r in rhs if r is not None]
        self.op = op

    def render(self, st: Style) -> str:
        parts = [self.lhs.render(st)]
        for k, r in enumerate(self.rhs):
            op = self.op if k == 0 else "="
            if st.target == "latex":
                op = {"←": r"\leftarrow", "≈": r"\approx"}.get(op, op)
            elif st.target == "html":
                op = {"←": "&larr;"}.get(op, op)
            parts.append(f" {op} {r.render(st)}")
        return "".join(parts)
