"""The derivation as a document: a list of steps, each a list of lines (formulas or words).

A line's formula is a tree of :mod:`glassnet.exercise.formula` nodes whose
leaves are the reader's symbols (:class:`~glassnet.derive.notation.NSym`), so
one tree prints as terminal text and as LaTeX. The same builders, given a
provider of *numbers* from the engine's trace instead of symbols, write each
formula's instance with the exercise's numbers: formula and instance cannot
drift apart.

Sections: definitions; the output layer (∂E/∂a · ∂a/∂z · ∂z/∂w, every factor
derived from its definition, the softmax sum, the canonical cancellations);
every hidden layer (sum over paths); biases; the update and batch rules; the
vectorised form; optionally one parameter's chain along every path; the
verification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..exercise.formula import (
    Bracket,
    Call,
    Deriv,
    Eq,
    Expr,
    Frac,
    Num,
    Pow,
    Prod,
    Raw,
    Sigma,
    Style,
    Sum,
)
from .notation import Notation, NSym
from .spec import NetSpec

__all__ = ["Line", "Step", "build_steps", "Symbols", "Numbers"]

ONE = Num(1)
#: instances shown per layer before "…" (every one is still in the JSON gradients)
MAX_INSTANCES = 12


@dataclass
class Line:
    """One line: a formula (``eq``) with a reason, or a sentence (``words``)."""

    eq: Any = None
    because: str = ""
    words: str = ""
    kind: str = "formula"  # formula | instance | words

    def render(self, st: Style) -> str:
        return self.eq.render(st) if self.eq is not None else ""


@dataclass
class Step:
    id: str
    title: str
    lines: list[Line] = field(default_factory=list)

    def add(self, eq: Any = None, because: str = "", kind: str = "formula") -> None:
        self.lines.append(Line(eq=eq, because=because, kind=kind))

    def say(self, words: str) -> None:
        self.lines.append(Line(words=words, kind="words"))

    def to_dict(self) -> dict[str, Any]:
        lines = []
        for ln in self.lines:
            if ln.kind == "words":
                lines.append({"kind": "words", "text": ln.words})
            else:
                item = {"kind": ln.kind, "text": ln.render(Style("text")),
                        "latex": ln.render(Style("latex"))}
                if ln.because:
                    item["because"] = ln.because
                lines.append(item)
        return {"id": self.id, "title": self.title, "lines": lines}


def txt(e: Expr) -> str:
    """A symbol or formula as terminal text, for the words of a note."""
    return e.render(Style("text"))


def S(*items: tuple[str, Expr]) -> Sum:
    return Sum(list(items))


def P(*factors: Expr | None) -> Expr:
    kept = [f for f in factors if f is not None]
    return kept[0] if len(kept) == 1 else Prod(kept)


def sigma(term: Expr, index: str, size: int) -> Expr:
    """Σ over a layer's units, or the one term when the layer has a single unit."""
    return term if size == 1 else Sigma(term, index)


def one_minus(a: Expr) -> Sum:
    return S(("+", ONE), ("-", a))


# --------------------------------------------------------------------- providers
class Symbols:
    """Leaves as the notation's symbols (indices may be letters)."""

    def __init__(self, notation: Notation, spec: NetSpec):
        self.n, self.spec = notation, spec

    def _u(self, l: int, i: Any) -> Any:
        """An index letter of a one-unit layer is that unit (seed 002 writes O₀, γⱼ₀)."""
        return 1 if not isinstance(i, int) and self.spec.sizes[l] == 1 else i

    def x(self, j: Any) -> Expr:
        return self.n.symbol("a", 0, (self._u(0, j),))

    def a(self, l: int, i: Any) -> Expr:
        return self.x(i) if l == 0 else self.n.symbol("a", l, (self._u(l, i),))

    def z(self, l: int, i: Any) -> Expr:
        return self.n.symbol("z", l, (self._u(l, i),))

    def t(self, k: Any) -> Expr:
        if self.spec.sizes[-1] == 1:
            return NSym(self.n.t)
        return self.n.symbol("t", None, (k,))

    def W(self, l: int, i: Any, j: Any) -> Expr:
        return self.n.symbol("W", l, (self._u(l, i), self._u(l - 1, j)))

    def b(self, l: int, i: Any) -> Expr:
        return self.n.symbol("b", l, (self._u(l, i),))

    def delta(self, l: int, i: Any) -> Expr:
        return self.n.symbol("delta", l, (self._u(l, i),))


class Numbers(Symbols):
    """Leaves as numbers from the engine's trace: update ``u``, sample ``s`` (row of the batch)."""

    def __init__(self, notation: Notation, spec: NetSpec, update: Any, s: int):
        super().__init__(notation, spec)
        self.up, self.s = update, s

    def x(self, j: Any) -> Expr:
        return Num(float(self.up.layers[0].x[self.s, j - 1]))

    def a(self, l: int, i: Any) -> Expr:
        return self.x(i) if l == 0 else Num(float(self.up.layers[l - 1].a[self.s, i - 1]))

    def z(self, l: int, i: Any) -> Expr:
        return Num(float(self.up.layers[l - 1].z[self.s, i - 1]))

    def t(self, k: Any) -> Expr:
        return Num(float(self.up.targets[self.s, k - 1]))

    def W(self, l: int, i: Any, j: Any) -> Expr:
        return Num(float(self.up.layers[l - 1].W[i - 1, j - 1]))

    def b(self, l: int, i: Any) -> Expr:
        return Num(float(self.up.layers[l - 1].b[i - 1]))

    def values(self) -> dict[str, float]:
        """Every canonical name's value for this sample (to evaluate expressions)."""
        v: dict[str, float] = {}
        up, s = self.up, self.s
        for j, xv in enumerate(up.layers[0].x[s], start=1):
            v[f"x_{j}"] = float(xv)
        for k, tv in enumerate(up.targets[s], start=1):
            v[f"t_{k}"] = float(tv)
        for l, lt in enumerate(up.layers, start=1):
            for i in range(lt.z.shape[1]):
                v[f"z_{l}_{i + 1}"] = float(lt.z[s, i])
                v[f"a_{l}_{i + 1}"] = float(lt.a[s, i])
                for j in range(lt.W.shape[1]):
                    v[f"W_{l}_{i + 1}_{j + 1}"] = float(lt.W[i, j])
                if lt.b is not None:
                    v[f"b_{l}_{i + 1}"] = float(lt.b[i])
        return v


# ------------------------------------------------------------------ the formulas
def fname(notation: Notation, act: str) -> tuple[str, str]:
    """(text, LaTeX) of an activation function's name in this notation."""
    if act == "sigmoid":
        f = notation.f if notation.f not in ("f", "h") else "σ"
        from .notation import latex_of

        return f, latex_of(f)
    return {"tanh": ("tanh", r"\tanh"), "relu": ("relu", r"\mathrm{relu}"),
            "leaky_relu": ("lrelu", r"\mathrm{lrelu}"), "linear": ("id", r"\mathrm{id}"),
            "softmax": ("softmax", r"\mathrm{softmax}")}[act]


def step_of(z: Expr) -> Expr:
    return Call("step", r"\mathrm{step}", z)


def fprime(q: Symbols, act: str, l: int, i: Any, alpha: float) -> Expr | None:
    """f'(z) in its textbook form (in terms of the output where that is the custom)."""
    a, z = q.a(l, i), q.z(l, i)
    if act == "sigmoid":
        return P(a, one_minus(a))
    if act == "tanh":
        return S(("+", ONE), ("-", Pow(a, 2)))
    if act == "relu":
        return step_of(z)
    if act == "leaky_relu":
        return S(("+", step_of(z)), ("+", P(Num(alpha), one_minus(step_of(z)))))
    return None  # linear: 1


def dE_da(q: Symbols, loss: str, L: int, k: Any, K: int) -> Expr:
    a, t = q.a(L, k), q.t(k)
    diff = S(("+", a), ("-", t))
    if loss == "half_sse":
        return diff
    if loss == "sse":
        return P(Num(2), diff)
    if loss == "mse":
        return P(Frac(Num(2), Num(K)), diff)
    if loss == "cross_entropy":
        return S(("-", Frac(t, a)))
    return Frac(diff, P(a, one_minus(a)))  # binary_cross_entropy


def loss_def(q: Symbols, loss: str, L: int, K: int, concrete: bool = False) -> Expr:
    if concrete:  # every output written out (for the instance with numbers)
        def one(m: int) -> Expr:
            a, t = q.a(L, m), q.t(m)
            if loss in ("half_sse", "sse", "mse"):
                return Pow(S(("+", a), ("-", t)), 2)
            if loss == "cross_entropy":
                return P(t, Call("log", r"\log", a))
            return Bracket(S(("+", P(t, Call("log", r"\log", a))),
                             ("+", P(one_minus(t), Call("log", r"\log", one_minus(a))))))

        total: Expr = Sum([("+", one(m)) for m in range(1, K + 1)]) if K > 1 else one(1)
        if loss == "half_sse":
            return P(Frac(ONE, Num(2)), Bracket(total) if K > 1 else total)
        if loss == "mse":
            return P(Frac(ONE, Num(K)), Bracket(total) if K > 1 else total)
        if loss in ("cross_entropy", "binary_cross_entropy"):
            return S(("-", Bracket(total) if K > 1 else total))
        return total
    a, t = q.a(L, "m"), q.t("m")
    diff = S(("+", a), ("-", t))
    if loss == "half_sse":
        return P(Frac(ONE, Num(2)), sigma(Pow(diff, 2), "m", K))
    if loss == "sse":
        return sigma(Pow(diff, 2), "m", K)
    if loss == "mse":
        return P(Frac(ONE, Raw("K")), sigma(Pow(diff, 2), "m", K))
    if loss == "cross_entropy":
        return S(("-", sigma(P(t, Call("log", r"\log", a)), "m", K)))
    return S(("-", sigma(Bracket(S(("+", P(t, Call("log", r"\log", a))),
                                   ("+", P(one_minus(t), Call("log", r"\log", one_minus(a)))))),
                         "m", K)))


def softmax_jac(q: Symbols, L: int, m: Any, k: Any) -> Expr:
    if m == k:
        return P(q.a(L, k), one_minus(q.a(L, k)))
    return S(("-", P(q.a(L, m), q.a(L, k))))


def output_delta(q: Symbols, spec: NetSpec, k: Any, concrete: bool) -> Expr:
    """δ of output unit k (the final, simplified form)."""
    L, K = spec.L, spec.sizes[-1]
    out, loss = spec.activations[-1], spec.loss
    if (out, loss) in (("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy")):
        return S(("+", q.a(L, k)), ("-", q.t(k)))
    if (out, loss) == ("sigmoid", "cross_entropy"):
        return P(q.t(k), S(("+", q.a(L, k)), ("-", ONE)))
    if out == "softmax":
        if not concrete:
            return Sigma(P(dE_da(q, loss, L, "m", K), q.a(L, "m"),
                           S(("+", Raw("1[m=k]", r"\mathbb{1}_{m=k}")), ("-", q.a(L, k)))), "m")
        return Sum([("+", P(dE_da(q, loss, L, m, K), softmax_jac(q, L, m, k)))
                    for m in range(1, K + 1)])
    return P(dE_da(q, loss, L, k, K), fprime(q, out, L, k, spec.alpha(L)))


def hidden_delta(q: Symbols, spec: NetSpec, l: int, j: Any, deltas: Any) -> Expr:
    """δ_j of hidden layer l = f'(z_j) · Σ_k w_kj δ_k (concrete: every k written out)."""
    act = spec.activations[l - 1]
    fp = fprime(q, act, l, j, spec.alpha(l))
    if isinstance(j, int):
        terms = [("+", P(q.W(l + 1, k, j), deltas(l + 1, k)))
                 for k in range(1, spec.sizes[l + 1] + 1)]
        total: Expr = Sum(terms) if len(terms) > 1 else terms[0][1]
    else:
        total = sigma(P(q.W(l + 1, "k", j), deltas(l + 1, "k")), "k", spec.sizes[l + 1])
    return P(fp, total) if fp is not None else total


# ------------------------------------------------------------------------ builder
class Builder:
    def __init__(self, spec: NetSpec, notation: Notation, solution: Any = None,
                 gradients: dict[str, str] | None = None):
        self.spec, self.n = spec, notation.bind(spec.sizes)
        self.q = Symbols(self.n, spec)
        self.sol = solution
        self.gradients = gradients or {}
        self.numbers: Numbers | None = None
        if solution is not None and solution.updates:
            self.numbers = Numbers(self.n, spec, solution.updates[0], 0)
        self.E = NSym(self.n.E)
        self.eta = NSym(self.n.eta)

    # helpers
    def idx(self, l: int) -> tuple[str, str]:
        """(unit index, previous-layer index) letters for layer l."""
        return ("k", "j") if l == self.spec.L else ("j", "i")

    def f_call(self, l: int, arg: Expr) -> Expr:
        t, lx = fname(self.n, self.spec.activations[l - 1])
        return Call(t, lx, arg)

    def instance_note(self) -> str:
        up = self.sol.updates[0]
        n = len(up.samples)
        which = "update 1" + (f", sample 1 of {n}" if n > 1 else "")
        return f"with the exercise's numbers ({which}; every number from the engine's trace)"

    # sections
    def definitions(self) -> Step:
        st = Step("definitions", "Definitions")
        spec, q, n = self.spec, self.q, self.n
        L = spec.L
        for l in range(1, L + 1):
            u, p = self.idx(l)
            z = q.z(l, u)
            terms = [("+", sigma(P(q.W(l, u, p), q.a(l - 1, p)), p, spec.sizes[l - 1]))]
            if spec.has_biases:
                terms.append(("+", q.b(l, u)))
            st.add(Eq(z, Sum(terms)), f"net input of unit {q._u(l, u)} of layer {l}"
                                      + (" (the input layer is layer 0)" if l == 1 else ""))
            act = spec.activations[l - 1]
            if act == "softmax":
                rhs: Expr = Frac(Raw("e^(" + z.render(Style("text")) + ")",
                                     "e^{" + z.render(Style("latex")) + "}"),
                                 Sigma(Raw("e^(" + q.z(l, "m").render(Style("text")) + ")",
                                           "e^{" + q.z(l, "m").render(Style("latex")) + "}"),
                                       "m"))
                st.add(Eq(q.a(l, u), rhs), "softmax: every output depends on every net input")
            else:
                st.add(Eq(q.a(l, u), self.f_call(l, z)), _act_text(act, spec.alpha(l)))
        K = spec.sizes[-1]
        st.add(Eq(self.E, loss_def(q, spec.loss, L, K)), _loss_text(spec.loss))
        if self.numbers is not None:
            self._forward_instances(st)
        W = q.W(1, "j", "i")
        st.add(Eq(W, S(("+", W), ("-", P(self.eta, Deriv(self.E, W)))), op="←"),
               "gradient descent: every weight moves against its gradient")
        st.add(Eq(q.delta(L, "k"), Deriv(self.E, q.z(L, "k"))),
               "δ names the gradient with respect to a net input")
        st.say(f"Notation: {n.name}" + (f" ({n.note})" if n.note else "") + ".")
        if n.numbered:
            from dataclasses import replace

            plain = replace(n, layer_mark="paren")
            parts = []
            for l in range(1, L + 1):
                first = n.weight_number(l, 1, 1)
                last = n.weight_number(l, spec.sizes[l], spec.sizes[l - 1])
                u0, u1 = n.unit_number(l, 1), n.unit_number(l, spec.sizes[l])
                units = f"unit {u0}" if u0 == u1 else f"units {u0}…{u1}"
                second = (1, 2) if spec.sizes[l - 1] > 1 else (2, 1)
                w1 = plain.symbol("W", l, (1, 1)).render(Style("text"))
                w2 = plain.symbol("W", l, second).render(Style("text"))
                weights = (f"weight {n.W}{first} = {w1}" if first == last else
                           f"weights {n.W}{first}…{n.W}{last} ({n.W}{first} = {w1}, "
                           f"{n.W}{first + 1} = {w2}, …)")
                parts.append(f"layer {l}: {units}, {weights}")
            st.say("Numbered names: " + "; ".join(parts) + ".")
        return st

    def output_layer(self) -> Step:
        spec, q = self.spec, self.q
        L, K = spec.L, spec.sizes[-1]
        st = Step("output_layer", f"Output layer (layer {L})")
        k, j = "k", "j"
        w, a, z = q.W(L, k, j), q.a(L, k), q.z(L, k)
        out, loss = spec.activations[-1], spec.loss
        E = self.E
        if out != "softmax":
            st.add(Eq(Deriv(E, w), Prod([Deriv(E, a), Deriv(a, z), Deriv(z, w)])),
                   f"the chain rule: {w.render(Style('text'))} reaches {self.n.E} only through "
                   f"{z.render(Style('text'))} and {a.render(Style('text'))}")
        else:
            st.add(Eq(Deriv(E, w), Prod([Sigma(P(Deriv(E, q.a(L, "m")), Deriv(q.a(L, "m"), z)),
                                               "m"), Deriv(z, w)])),
                   "the chain rule: softmax couples the outputs, so "
                   f"{z.render(Style('text'))} reaches {self.n.E} through every output "
                   f"{q.a(L, 'm').render(Style('text'))}")
        # ∂z/∂w
        st.add(Eq(Deriv(z, w), Deriv(Sum([("+", sigma(P(q.W(L, k, "i"), q.a(L - 1, "i")),
                                                      "i", spec.sizes[L - 1]))]), w),
                  q.a(L - 1, j)),
               "only the term i = j of the sum contains the weight")
        # ∂E/∂a
        dEda = dE_da(q, loss, L, k, K)
        if loss == "binary_cross_entropy":
            st.add(Eq(Deriv(E, a), S(("-", Frac(q.t(k), a)),
                                     ("+", Frac(one_minus(q.t(k)), one_minus(a)))), dEda),
                   _dEda_text(loss, txt(a), txt(q.t(k)), K))
        else:
            st.add(Eq(Deriv(E, a), dEda), _dEda_text(loss, txt(a), txt(q.t(k)), K))
        # ∂a/∂z, derived
        for line in _fprime_lines(q, self.n, out, L, spec.alpha(L)):
            st.add(*line)
        # δ and the cancellation
        pair = (out, loss)
        delta = q.delta(L, k)
        if pair == ("sigmoid", "binary_cross_entropy"):
            st.add(Eq(delta, P(dEda, P(a, one_minus(a))),
                      Frac(P(S(("+", a), ("-", q.t(k))), a, one_minus(a)),
                           P(a, one_minus(a))),
                      S(("+", a), ("-", q.t(k)))),
                   f"∂{self.n.E}/∂{txt(a)} · {fname(self.n, out)[0]}'({txt(z)}): the factor "
                   f"{txt(a)}(1 − {txt(a)}) cancels against the denominator (the canonical "
                   "pair sigmoid + binary cross-entropy)")
        elif pair == ("sigmoid", "cross_entropy"):
            st.add(Eq(delta, P(dEda, P(a, one_minus(a))), P(S(("-", q.t(k))), one_minus(a)),
                      P(q.t(k), S(("+", a), ("-", ONE)))),
                   f"∂{self.n.E}/∂{txt(a)} · {fname(self.n, out)[0]}'({txt(z)}) = "
                   f"(−{txt(q.t(k))}/{txt(a)})·{txt(a)}(1 − {txt(a)}): the {txt(a)} cancels")
        elif pair == ("softmax", "cross_entropy"):
            t_m = q.t("m")
            am_t, tm_t = q.a(L, "m").render(Style("text")), t_m.render(Style("text"))
            st.add(Eq(delta,
                      Sigma(P(S(("-", Frac(t_m, q.a(L, "m")))), q.a(L, "m"),
                              S(("+", Raw("1[m=k]", r"\mathbb{1}_{m=k}")), ("-", a))), "m"),
                      Sigma(P(S(("-", t_m)), S(("+", Raw("1[m=k]", r"\mathbb{1}_{m=k}")),
                                                 ("-", a))), "m"),
                      S(("-", q.t(k)), ("+", P(a, Sigma(t_m, "m"))))),
                   f"with ∂{self.n.E}/∂{am_t} = −{tm_t}/{am_t}: {am_t} cancels; the m = k "
                   f"term gives −{q.t(k).render(Style('text'))}, every term gives "
                   f"+{tm_t}·{a.render(Style('text'))}")
            st.add(Eq(delta, S(("+", a), ("-", q.t(k)))),
                   f"because Σₘ {tm_t} = 1 (one-hot or probability targets): the canonical pair "
                   "softmax + cross-entropy")
        elif out == "softmax":
            st.add(Eq(delta, output_delta(q, spec, k, concrete=False)),
                   "softmax with a loss that is not its canonical partner: the full Jacobian "
                   "sum stays (no cancellation)")
        else:
            st.add(Eq(delta, P(Deriv(E, a), Deriv(a, z)), output_delta(q, spec, k, False)),
                   f"{txt(delta)} = ∂{self.n.E}/∂{txt(a)} · {fname(self.n, out)[0]}'({txt(z)}): "
                   "the δ of an output "
                   "unit")
        st.add(Eq(Deriv(E, w), P(delta, q.a(L - 1, j)),
                  P(output_delta(q, spec, k, False), q.a(L - 1, j))),
               "the gradient of an output weight")
        self._instances(st, L)
        return st

    def hidden_layer(self, l: int) -> Step:
        spec, q = self.spec, self.q
        st = Step(f"hidden_layer_{l}", f"Hidden layer {l}")
        j, i = "j", "i"
        w, a, z = q.W(l, j, i), q.a(l, j), q.z(l, j)
        nxt = q.z(l + 1, "k")
        E = self.E
        st.add(Eq(Deriv(E, w), Prod([sigma(P(Deriv(E, nxt), Deriv(nxt, a)), "k",
                                           spec.sizes[l + 1]),
                                     Deriv(a, z), Deriv(z, w)])),
               f"{w.render(Style('text'))} changes {a.render(Style('text'))}, which feeds every "
               f"unit k of layer {l + 1}: the derivative is the sum over all these paths"
               if spec.sizes[l + 1] > 1 else
               f"{txt(w)} changes {txt(a)}, which feeds the one unit of layer {l + 1}: one path")
        zsum = sigma(P(q.W(l + 1, "k", "m"), q.a(l, "m")), "m", spec.sizes[l])
        st.add(Eq(Deriv(nxt, a), q.W(l + 1, "k", j)),
               f"only the term of unit {j} in the sum {txt(nxt)} = {txt(zsum)} + … contains "
               f"{txt(a)}")
        st.add(Eq(Deriv(E, nxt), q.delta(l + 1, "k")), "the δ of the layer above")
        act = spec.activations[l - 1]
        for line in _fprime_lines(q, self.n, act, l, spec.alpha(l)):
            st.add(*line)
        st.add(Eq(Deriv(z, w), q.a(l - 1, i)), "as for the output layer")
        delta = q.delta(l, j)
        above = sigma(P(q.W(l + 1, "k", j), q.delta(l + 1, "k")), "k", spec.sizes[l + 1])
        st.add(Eq(delta, hidden_delta(q, spec, l, j, q.delta)),
               f"{txt(delta)} = {fname(self.n, act)[0]}'({txt(z)})·{txt(above)}: the "
               "backpropagation of "
               f"{self.n.delta}")
        st.add(Eq(Deriv(E, w), P(delta, q.a(l - 1, i))), "the gradient of a hidden weight")
        self._instances(st, l)
        return st

    def biases(self) -> Step:
        spec, q = self.spec, self.q
        st = Step("biases", "Biases")
        if not spec.has_biases:
            st.say("This network has no biases: z = Σ w a only, and nothing else is learned.")
            return st
        l = spec.L
        b, z = q.b(l, "k"), q.z(l, "k")
        st.add(Eq(Deriv(z, b), ONE), "the bias enters the net input with factor 1")
        st.add(Eq(Deriv(self.E, b), P(Deriv(self.E, z), Deriv(z, b)), q.delta(l, "k")),
               "so in every layer the bias gradient is the unit's δ")
        if spec.biases == "frozen":
            st.say("The biases are frozen: their gradients are derived (and listed) but not "
                   "applied; b keeps its value.")
        else:
            st.add(Eq(b, S(("+", b), ("-", P(self.eta, q.delta(l, "k")))), op="←"),
                   "the biases are updated like the weights")
        if self.numbers is not None:
            up = self.sol.updates[0]
            st.say(self.instance_note() + ":")
            shown = 0
            for m in range(spec.L, 0, -1):
                lt = up.layers[m - 1]
                for u in range(1, spec.sizes[m] + 1):
                    if shown < MAX_INSTANCES:
                        value = self._sample_grad(f"b_{m}_{u}", float(lt.grad_b[u - 1]))
                        st.add(Eq(Deriv(self.E, q.b(m, u)), q.delta(m, u), Num(value)),
                               kind="instance")
                    shown += 1
        return st

    def update(self) -> Step:
        spec, q = self.spec, self.q
        st = Step("update", "Update rule")
        for l in range(spec.L, 0, -1):
            u, p = self.idx(l)
            W = q.W(l, u, p)
            st.add(Eq(W, S(("+", W), ("-", P(self.eta, q.delta(l, u), q.a(l - 1, p)))), op="←"),
                   f"layer {l}")
        if self.numbers is not None:
            self._update_instances(st)
        if spec.mode == "sgd":
            st.say("Online (stochastic) gradient descent: one update per sample, with that "
                   f"sample's {self.n.E}.")
        else:
            W = q.W(1, "j", "i")
            w_latex = W.render(Style("latex"))
            E_latex = self.E.render(Style("latex"))
            inner = Sigma(Raw(f"∂{self.n.E}⁽ˢ⁾/∂{W.render(Style('text'))}",
                              rf"\frac{{\partial {E_latex}^{{(s)}}}}{{\partial {w_latex}}}"),
                          "s")
            rhs: Expr = inner if spec.mode == "batch" else P(Frac(ONE, Raw("N")), inner)
            st.add(Eq(Deriv(self.E, W), rhs),
                   "batch update: the per-sample gradients are " +
                   ("summed over the N samples" if spec.mode == "batch" else
                    "averaged over the N samples (E is the mean loss)"))
            if self.numbers is not None:
                self._batch_instance(st)
        return st

    def vectorised(self) -> Step:
        spec, n = self.spec, self.n
        st = Step("vectorised", "Vectorised form")
        L = spec.L

        def V(key: str, l: int | None) -> NSym:
            s = n.symbol(key, l)
            return NSym(s.base, (), s.sup_text, s.sup_latex)

        W = {l: NSym(n.base_symbol("W", l), (), *n._mark("W", l)) for l in range(1, L + 1)}
        grad_a = Raw(f"∇ₐ{n.E}", rf"\nabla_{{a}} {self.E.render(Style('latex'))}")
        had = Raw(" ∘ ", r" \circ ")
        out, loss = spec.activations[-1], spec.loss
        dL = V("delta", L)
        if (out, loss) in (("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy")):
            st.add(Eq(dL, S(("+", V("a", L)), ("-", NSym(n.t)))), "the canonical pair")
        elif out == "softmax":
            st.add(Eq(dL, Prod([Raw("Jᵀ", r"J^{\top}"), grad_a], op="")),
                   f"J the softmax Jacobian, Jₘₖ = {txt(self.q.a(L, 'm'))}(1[m=k] − "
                   f"{txt(self.q.a(L, 'k'))})")
        else:
            rhs = [Prod([grad_a, had,
                         Raw(f"{fname(n, out)[0]}'(", fname(n, out)[1] + "'("),
                         V("z", L), Raw(")")], op="")]
            aL, tv = V("a", L), NSym(n.t)
            grad = {"half_sse": S(("+", aL), ("-", tv)),
                    "sse": P(Num(2), S(("+", aL), ("-", tv))),
                    "mse": P(Frac(Num(2), Raw("K")), S(("+", aL), ("-", tv)))}.get(loss)
            fp = {"sigmoid": Prod([aL, had, one_minus(aL)], op=""),
                  "tanh": S(("+", ONE), ("-", Prod([aL, had, aL], op=""))),
                  "relu": step_of(V("z", L)), "linear": None}.get(out, "?")
            if grad is not None and fp != "?":
                rhs.append(grad if fp is None else Prod([grad, had, fp], op=""))
            st.add(Eq(dL, *rhs), "element by element (∘ is the element-wise product)")
        for l in range(L - 1, 0, -1):
            st.add(Eq(V("delta", l), Prod([Raw("("), W[l + 1], Raw(")ᵀ", r")^{\top}"),
                                           V("delta", l + 1), had,
                                           Raw(f"{fname(n, spec.activations[l - 1])[0]}'(",
                                               fname(n, spec.activations[l - 1])[1] + "'("),
                                           V("z", l), Raw(")")], op="")),
                   f"layer {l}")
        for l in range(L, 0, -1):
            prev = V("a", l - 1)
            u, p = self.idx(l)
            u, p = self.q._u(l, u), self.q._u(l - 1, p)
            st.add(Eq(Deriv(self.E, W[l]), Prod([V("delta", l), Raw("("), prev,
                                                   Raw(")ᵀ", r")^{\top}")], op="")),
                   f"an outer product: row {u}, column {p} is "
                   f"{txt(self.q.delta(l, u))}·{txt(self.q.a(l - 1, p))} (layer {l})")
        if spec.has_biases:
            st.add(Eq(Deriv(self.E, NSym(n.base_symbol("b"))), Raw("δ⁽ˡ⁾", r"\delta^{(l)}")),
                   "for every layer l")
        if spec.mode != "sgd":
            st.say("With the N samples of a batch as the columns of A⁽ˡ⁻¹⁾ and Δ⁽ˡ⁾, "
                   f"∂{n.E}/∂W⁽ˡ⁾ = Δ⁽ˡ⁾ (A⁽ˡ⁻¹⁾)ᵀ sums the per-sample outer products"
                   + (" (times 1/N for the mean)." if spec.mode == "batch_mean" else "."))
        return st

    # instances
    def _instances(self, st: Step, l: int) -> None:
        if self.numbers is None:
            return
        num, spec = self.numbers, self.spec
        up = self.sol.updates[0]
        lt = up.layers[l - 1]
        st.say(self.instance_note() + ":")
        shown = 0
        memo: dict[tuple[int, int], Expr] = {}

        def delta_num(m: int, u: Any) -> Expr:
            return Num(float(up.layers[m - 1].delta[0, u - 1]) * self._scale())

        for u in range(1, spec.sizes[l] + 1):
            if shown >= MAX_INSTANCES:
                st.say("… (every parameter is in the JSON output)")
                return
            if l == spec.L:
                form = output_delta(num, spec, u, concrete=True)
            else:
                form = hidden_delta(num, spec, l, u, delta_num)
            memo[(l, u)] = form
            if l == spec.L:
                named = output_delta(self.q, spec, u, concrete=True)
            else:
                named = hidden_delta(self.q, spec, l, u, self.q.delta)
            dval = float(lt.delta[0, u - 1]) * self._scale()
            st.add(Eq(self.q.delta(l, u), named, form, Num(dval)), kind="instance")
            shown += 1
            for p in range(1, spec.sizes[l - 1] + 1):
                if shown >= MAX_INSTANCES:
                    break
                g = self._sample_grad(f"W_{l}_{u}_{p}", float(lt.grad_W[u - 1, p - 1]))
                st.add(Eq(Deriv(self.E, self.q.W(l, u, p)),
                          P(self.q.delta(l, u), self.q.a(l - 1, p)),
                          P(Num(dval), num.a(l - 1, p)), Num(g)), kind="instance")
                shown += 1

    def _forward_instances(self, st: Step) -> None:
        """The forward pass of sample 1 of update 1 and its loss, numbers from the trace."""
        spec, q, num = self.spec, self.q, self.numbers
        up = self.sol.updates[0]
        st.say(self.instance_note() + ":")
        shown = 0
        for l in range(1, spec.L + 1):
            lt = up.layers[l - 1]
            act = spec.activations[l - 1]
            for i in range(1, spec.sizes[l] + 1):
                if shown >= 2 * MAX_INSTANCES:
                    break
                terms_sym = [("+", P(q.W(l, i, j), q.a(l - 1, j)))
                             for j in range(1, spec.sizes[l - 1] + 1)]
                terms_num = [("+", P(num.W(l, i, j), num.a(l - 1, j)))
                             for j in range(1, spec.sizes[l - 1] + 1)]
                if spec.has_biases:
                    terms_sym.append(("+", q.b(l, i)))
                    terms_num.append(("+", num.b(l, i)))
                st.add(Eq(q.z(l, i), Sum(terms_sym), Sum(terms_num),
                          Num(float(lt.z[0, i - 1]))), kind="instance")
                if act == "softmax":
                    zt = q.z(l, "m").render(Style("text"))
                    zl = q.z(l, "m").render(Style("latex"))
                    call: Expr = Frac(Raw(f"e^({q.z(l, i).render(Style('text'))})",
                                          f"e^{{{q.z(l, i).render(Style('latex'))}}}"),
                                      Raw(f"Σₘ e^({zt})", rf"\sum_{{m}} e^{{{zl}}}"))
                else:
                    call = self.f_call(l, Num(float(lt.z[0, i - 1])))
                st.add(Eq(q.a(l, i), call, Num(float(lt.a[0, i - 1]))), kind="instance")
                shown += 2
        if shown >= 2 * MAX_INSTANCES:
            st.say("… (every unit is in glassnet explain's worked solution)")
        if up.losses is not None:
            st.add(Eq(self.E, loss_def(num, spec.loss, spec.L, spec.sizes[-1], concrete=True),
                      Num(float(up.losses[0]))), kind="instance")

    def _scale(self) -> float:
        """δ in the trace carries 1/N for batch_mean; the per-sample δ is N times it."""
        up = self.sol.updates[0]
        return float(len(up.samples)) if self.spec.mode == "batch_mean" else 1.0

    def _sample_grad(self, param: str, engine_value: float) -> float:
        """The per-sample gradient: the engine's own value for one-sample updates, else the
        derived expression evaluated at the trace's numbers of sample 1."""
        up = self.sol.updates[0]
        if len(up.samples) == 1:
            return engine_value
        from .evaluate import evaluate

        return evaluate(self.gradients[param], self.numbers.values())

    def _update_instances(self, st: Step) -> None:
        """New parameters of update 1, every number from the trace (before, η, gradient, after)."""
        spec, q = self.spec, self.q
        up = self.sol.updates[0]
        st.say(f"update 1 with the exercise's numbers ({self.n.eta} = {up.lr:g}):")
        shown = 0
        for m in range(spec.L, 0, -1):
            lt = up.layers[m - 1]
            for i in range(1, spec.sizes[m] + 1):
                items = [(q.W(m, i, j), lt.W[i - 1, j - 1], lt.grad_W[i - 1, j - 1],
                          lt.W_after[i - 1, j - 1]) for j in range(1, spec.sizes[m - 1] + 1)]
                if lt.b is not None and lt.update_bias:
                    items.append((q.b(m, i), lt.b[i - 1], lt.grad_b[i - 1], lt.b_after[i - 1]))
                for sym, before, grad, after in items:
                    if shown >= MAX_INSTANCES:
                        st.say("… (every new value is in glassnet explain's worked solution)")
                        return
                    st.add(Eq(sym, S(("+", Num(float(before))),
                                     ("-", P(Num(float(up.lr)), Num(float(grad))))),
                              Num(float(after), min_decimals=None), op="←"), kind="instance")
                    shown += 1

    def _batch_instance(self, st: Step) -> None:
        up = self.sol.updates[0]
        lt = up.layers[0]
        W = self.q.W(1, 1, 1)
        N = len(up.samples)
        terms = [("+", P(Num(float(lt.delta[s, 0]) * self._scale()), Num(float(lt.x[s, 0]))))
                 for s in range(min(N, 6))]
        if N > 6:
            terms.append(("+", Raw("…", r"\dots")))
        rhs: Expr = Sum(terms)
        if self.spec.mode == "batch_mean":
            rhs = P(Frac(ONE, Num(N)), rhs)
        st.add(Eq(Deriv(self.E, W), rhs, Num(float(lt.grad_W[0, 0]))), kind="instance",
               because="the engine's summed gradient of update 1" if self.spec.mode == "batch"
               else "the engine's mean gradient of update 1")

    def weight_chain(self, param: str) -> Step:
        """One parameter's chain of partials along every path (seed 004's style)."""
        spec, q = self.spec, self.q
        parts = param.split("_")
        l, i = int(parts[1]), int(parts[2])
        j = int(parts[3]) if parts[0] == "W" else None
        target = q.W(l, i, j) if j is not None else q.b(l, i)
        st = Step("weight", f"The chain for {target.render(Style('text'))}")
        L = spec.L
        paths = [[i]]
        for m in range(l + 1, L + 1):
            paths = [p + [k] for p in paths for k in range(1, spec.sizes[m] + 1)]
        if len(paths) > 64:
            st.say(f"{len(paths)} paths lead from {target.render(Style('text'))} to {self.n.E}; "
                   "the δ "
                   "recursion above is their sum in a readable form.")
            return st
        out_soft = spec.activations[-1] == "softmax"
        products, symbolic, numeric = [], [], []
        for path in paths:
            factors: list[Expr] = []
            names = [target.render(Style("text"))]
            last = path[-1]
            if out_soft:
                factors.append(Deriv(self.E, q.z(L, last)))
            else:
                factors += [Deriv(self.E, q.a(L, last)), Deriv(q.a(L, last), q.z(L, last))]
            for m in range(L, l, -1):
                unit, below = path[m - l], path[m - l - 1]
                factors += [Deriv(q.z(m, unit), q.a(m - 1, below)),
                            Deriv(q.a(m - 1, below), q.z(m - 1, below))]
            factors.append(Deriv(q.z(l, i), target))
            for m, u in zip(range(l, L + 1), path, strict=True):
                names += [q.z(m, u).render(Style("text")), q.a(m, u).render(Style("text"))]
            st.say("path: " + " → ".join(names + [self.n.E]))
            products.append(Prod(factors, op="·"))
            symbolic.append(self._path_values(q, path, l, j))
            if self.numbers is not None:
                numeric.append(self._path_values(self.numbers, path, l, j))
        st.add(Eq(Deriv(self.E, target), Sum([("+", p) for p in products])),
               "the sum over every path of the product of the partial derivatives on it")
        st.add(Eq(Deriv(self.E, target), Sum([("+", p) for p in symbolic])),
               "each partial derivative from its definition (as in the sections above)")
        if numeric:
            up = self.sol.updates[0]
            lt = up.layers[l - 1]
            engine = float(lt.grad_W[i - 1, j - 1]) if j is not None else float(lt.grad_b[i - 1])
            value = self._sample_grad(param, engine)
            st.add(Eq(Deriv(self.E, target), Sum([("+", p) for p in numeric]), Num(value)),
                   kind="instance", because="with the exercise's numbers; the engine's "
                                            "backpropagation gives the same value")
        return st

    def _path_values(self, q: Symbols, path: list[int], l: int, j: int | None) -> Expr:
        """The product of the partial derivatives along one path, each written out."""
        spec = self.spec
        L, K = spec.L, spec.sizes[-1]
        last = path[-1]
        factors: list[Expr | None] = []
        if spec.activations[-1] == "softmax":
            factors.append(output_delta(q, spec, last, concrete=True))
        else:
            factors += [dE_da(q, spec.loss, L, last, K),
                        fprime(q, spec.activations[-1], L, last, spec.alpha(L))]
        for m in range(L, l, -1):
            unit, below = path[m - l], path[m - l - 1]
            factors += [q.W(m, unit, below),
                        fprime(q, spec.activations[m - 2], m - 1, below, spec.alpha(m - 1))]
        factors.append(q.a(l - 1, j) if j is not None else ONE)
        kept = [f for f in factors if f is not None]
        return Prod(kept) if len(kept) > 1 else kept[0]


def _act_text(act: str, alpha: float) -> str:
    return {"sigmoid": "the logistic sigmoid σ(z) = 1/(1 + e^(−z))",
            "tanh": "tanh(z) = (e^z − e^(−z))/(e^z + e^(−z))",
            "relu": "relu(z) = max(0, z)",
            "leaky_relu": f"leaky relu: z for z > 0, {alpha:g}·z otherwise",
            "linear": "the identity: a = z"}.get(act, act)


def _loss_text(loss: str) -> str:
    return {"half_sse": "squared error with the factor ½ (summed over the outputs)",
            "sse": "squared error without ½ (summed over the outputs)",
            "mse": "squared error averaged over the K outputs",
            "cross_entropy": "cross-entropy (targets a probability vector)",
            "binary_cross_entropy": "binary cross-entropy of every output"}[loss]


def _dEda_text(loss: str, a: str, t: str, K: int) -> str:
    """Why ∂E/∂a is what it is, in the reader's symbols (``a`` and ``t``: an output and its
    target as the notation writes them)."""
    which = "the loss has one term" if K == 1 else f"only the term m = k depends on {a}"
    return {"half_sse": f"{which}; the ½ cancels the 2 of the square",
            "sse": f"{which}; the 2 of the square stays",
            "mse": f"{which}; 2 from the square, 1/K from the mean",
            "cross_entropy": f"d log {a} / d{a} = 1/{a}; "
                             + ("the loss has one term" if K == 1 else
                                f"only the term m = k contains {a}"),
            "binary_cross_entropy": f"−{t}/{a} + (1 − {t})/(1 − {a}), over one "
                                    "denominator"}[loss]


def _fprime_lines(q: Symbols, n: Notation, act: str, l: int, alpha: float
                  ) -> list[tuple[Eq, str]]:
    """∂a/∂z derived from the definition of the activation, line by line."""
    u = "k" if act == "softmax" or l == q.spec.L else "j"
    a, z = q.a(l, u), q.z(l, u)
    ez = Raw("e^(−" + z.render(Style("text")) + ")", "e^{-" + z.render(Style("latex")) + "}")
    if act == "sigmoid":
        f = fname(n, act)
        return [(Eq(Deriv(a, z), Frac(ez, Pow(S(("+", ONE), ("+", ez)), 2)),
                    P(Frac(ONE, S(("+", ONE), ("+", ez))),
                      Frac(ez, S(("+", ONE), ("+", ez)))),
                    P(Call(f[0], f[1], z), one_minus(Call(f[0], f[1], z))),
                    P(a, one_minus(a))),
                 f"differentiate 1/(1 + e^(−z)); e^(−z)/(1 + e^(−z)) = 1 − {f[0]}(z)")]
    if act == "tanh":
        return [(Eq(Deriv(a, z), Raw("((e^z + e^(−z))² − (e^z − e^(−z))²)/(e^z + e^(−z))²",
                                     r"\frac{(e^{z} + e^{-z})^2 - (e^{z} - e^{-z})^2}"
                                     r"{(e^{z} + e^{-z})^2}"),
                    S(("+", ONE), ("-", Pow(Call("tanh", r"\tanh", z), 2))),
                    S(("+", ONE), ("-", Pow(a, 2)))),
                 "the quotient rule on (e^z − e^(−z))/(e^z + e^(−z))")]
    if act == "relu":
        return [(Eq(Deriv(a, z), step_of(z)),
                 "slope 1 where z > 0, 0 where z < 0 (0 at z = 0, as the engine takes it)")]
    if act == "leaky_relu":
        return [(Eq(Deriv(a, z), fprime(q, act, l, u, alpha)),
                 f"slope 1 where z > 0, {alpha:g} elsewhere")]
    if act == "linear":
        return [(Eq(Deriv(a, z), ONE), "the identity has slope 1")]
    # softmax
    m = "m"
    am = q.a(l, m)
    zt, zl = z.render(Style("text")), z.render(Style("latex"))
    zm = q.z(l, m)
    zmt, zml = zm.render(Style("text")), zm.render(Style("latex"))
    zs = q.z(l, "s")
    zst, zsl = zs.render(Style("text")), zs.render(Style("latex"))
    den_t, den_l = f"Σₛ e^({zst})", rf"\sum_{{s}} e^{{{zsl}}}"
    quotient = S(("+", Frac(Raw(f"e^({zmt})·1[m=k]", rf"e^{{{zml}}} \mathbb{{1}}_{{m=k}}"),
                           Raw(den_t, den_l))),
                 ("-", Frac(Raw(f"e^({zmt})·e^({zt})", rf"e^{{{zml}}} e^{{{zl}}}"),
                            Raw(f"({den_t})²", rf"\left({den_l}\right)^2"))))
    return [(Eq(Deriv(am, z), quotient, S(("+", P(am, Raw("1[m=k]", r"\mathbb{1}_{m=k}"))),
                                          ("-", P(am, a)))),
             "the quotient rule on e^(zₘ)/Σ e^(z): the numerator's derivative is e^(zₘ) only "
             "for m = k, the denominator's is e^(zₖ) for every m")]


def build_steps(spec: NetSpec, notation: Notation, gradients: dict[str, str],
                solution: Any = None, weight: str | None = None) -> tuple[Builder, list[Step]]:
    """The derivation's steps (verification is appended by the caller, who ran the proof)."""
    b = Builder(spec, notation, solution, gradients)
    steps = [b.definitions(), b.output_layer()]
    steps += [b.hidden_layer(l) for l in range(spec.L - 1, 0, -1)]
    steps += [b.biases(), b.update(), b.vectorised()]
    if weight is not None:
        steps.append(b.weight_chain(weight))
    return b, steps

