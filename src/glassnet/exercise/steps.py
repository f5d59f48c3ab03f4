"""The worked solution as a document: headings, notes, equations and matrices.

Built once from a :class:`~glassnet.exercise.solution.Solution` and printed by
the text and HTML renderers, so both show the same steps. Every equation has
the symbolic form, the numbers substituted, and the result; every number is
read from the engine's trace (or from the engine's activation and loss
objects, for the f'(z) and ∂E/∂y factors it shows).

Notation (text): units are numbered from 1; ``wᵢⱼ⁽ˡ⁾`` connects unit j of
layer l−1 to unit i of layer l; ``a⁽⁰⁾ = x`` and ``y = a⁽ᴸ⁾``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .formula import (
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
    Sym,
    superscript,
)
from .numbers import digits_for_update

__all__ = ["Heading", "Note", "Equation", "Matrix", "KeyValues", "Picture", "build_document",
           "iter_document",
           "W_sym", "b_sym", "z_sym", "a_sym", "delta_sym", "t_sym", "E", "ETA",
           "activation_call", "derivative_parts", "loss_gradient_parts", "conventions",
           "param_label"]


# ------------------------------------------------------------------------ doc nodes
@dataclass
class Heading:
    text: str
    level: int = 1


@dataclass
class Note:
    text: str


@dataclass
class Equation:
    eq: Eq
    indent: int = 0


@dataclass
class Matrix:
    """A named matrix or vector; ``before`` (same shape) selects digits that show an update."""

    name: Expr
    values: np.ndarray
    before: np.ndarray | None = None


@dataclass
class KeyValues:
    items: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Picture:
    update: int


# -------------------------------------------------------------------------- symbols
E = Raw("E")
ETA = Raw("η", r"\eta", "&eta;")


def W_sym(l: int, i: int, j: int) -> Sym:
    """w_ij^(l) for 0-based i, j and 1-based layer l."""
    return Sym("w", "w", (i + 1, j + 1), l)


def b_sym(l: int, i: int) -> Sym:
    return Sym("b", "b", (i + 1,), l)


def z_sym(l: int, i: int) -> Sym:
    return Sym("z", "z", (i + 1,), l)


def a_sym(l: int, i: int, L: int) -> Sym:
    """x_i for the input layer, y_i for the output layer, a_i^(l) in between.

    In LaTeX all three are seed 003's x^{[l]}_i (x^{[0]} the input, x^{[L]} the output).
    """
    if l == 0:
        return Sym("x", "x", (i + 1,), None, latex_layer=0)
    if l == L:
        return Sym("y", "x", (i + 1,), None, latex_layer=L)
    return Sym("a", "x", (i + 1,), l)


def delta_sym(l: int, i: int) -> Sym:
    return Sym("δ", r"\delta", (i + 1,), l)


def t_sym(k: int) -> Sym:
    return Sym("t", "t", (k + 1,), None)


def param_label(kind: str, l: int, i: int, j: int | None = None) -> str:
    """The ASCII name used on the command line and in check: ``W1[1,2]``, ``b2[1]`` (1-based)."""
    return f"W{l}[{i + 1},{j + 1}]" if kind == "W" else f"b{l}[{i + 1}]"


_F_NAMES = {"sigmoid": ("σ", r"\sigma"), "tanh": ("tanh", r"\tanh"), "relu": ("relu",
            r"\operatorname{relu}"), "leaky_relu": ("leaky_relu", r"\operatorname{lrelu}"),
            "linear": ("f", "f"), "softmax": ("softmax", r"\operatorname{softmax}")}


def activation_call(name: str, arg: Expr, prime: bool = False) -> Call:
    text, latex = _F_NAMES.get(name, ("f", "f"))
    if prime:
        return Call(text + "'", latex + "'", arg)
    return Call(text, latex, arg)


def derivative_parts(act: Any, a_symbol: Expr, a_value: float, value: float
                     ) -> tuple[Expr | None, Expr | None]:
    """f'(z) as (symbolic, substituted) in terms of a = f(z), or (None, None) to show the value."""
    if act.name == "sigmoid":
        return (Prod([a_symbol, Sum([("+", Num(1)), ("-", a_symbol)])], op=""),
                Prod([Num(a_value), Sum([("+", Num(1)), ("-", Num(a_value))])]))
    if act.name == "tanh":
        return (Sum([("+", Num(1)), ("-", Pow(a_symbol, 2))]),
                Sum([("+", Num(1)), ("-", Pow(Num(a_value), 2))]))
    return None, None


def loss_gradient_parts(loss: Any, K: int, k: int, y: float, t: float, L: int
                        ) -> tuple[Expr | None, Expr | None]:
    """∂E/∂y_k of one sample's loss as (symbolic, substituted), for the known losses."""
    ys, ts = a_sym(L, k, L), t_sym(k)
    diff_s = Sum([("+", ys), ("-", ts)])
    diff_n = Sum([("+", Num(y)), ("-", Num(t))])
    if loss.name == "half_sse":
        return diff_s, diff_n
    if loss.name == "sse":
        return Prod([Num(2), diff_s], op=""), Prod([Num(2), diff_n])
    if loss.name == "mse":
        f = Frac(Num(2), Num(K))
        return Prod([f, diff_s], op=""), Prod([f, diff_n])
    if loss.name == "cross_entropy":
        return Sum([("-", Frac(ts, ys))]), Sum([("-", Frac(Num(t), Num(y)))])
    if loss.name == "binary_cross_entropy":
        return (Frac(diff_s, Prod([ys, Sum([("+", Num(1)), ("-", ys)])], op="")),
                Frac(diff_n, Prod([Num(y), Sum([("+", Num(1)), ("-", Num(y))])])))
    return None, None


def loss_parts(loss: Any, y: np.ndarray, t: np.ndarray, L: int
               ) -> tuple[Expr | None, Expr | None]:
    """One sample's E as (symbolic, substituted)."""
    K = len(y)
    ks = range(K)
    if loss.name in ("half_sse", "sse", "mse"):
        sq_s = _sum([("+", Pow(Sum([("+", a_sym(L, k, L)), ("-", t_sym(k))]), 2)) for k in ks])
        sq_n = _sum([("+", Pow(Sum([("+", Num(y[k])), ("-", Num(t[k]))]), 2)) for k in ks])
        if loss.name == "sse":
            return sq_s, sq_n
        pre = Raw("½", r"\tfrac{1}{2}", "&frac12;") if loss.name == "half_sse" \
            else Frac(Num(1), Num(K))
        if K == 1:
            return Prod([pre, sq_s], op=""), Prod([pre, sq_n], op="")
        return Prod([pre, Bracket(sq_s)], op=""), Prod([pre, Bracket(sq_n)], op="")
    if loss.name == "cross_entropy":
        terms_s = Sum([("+", Prod([t_sym(k), Call("log", r"\log", a_sym(L, k, L))], op=" "))
                       for k in ks])
        terms_n = Sum([("+", Prod([Num(t[k]), Call("log", r"\log", Num(y[k]))]))
                       for k in ks])
        return Sum([("-", terms_s)]), Sum([("-", terms_n)])
    if loss.name == "binary_cross_entropy":
        def term(tk: Expr, yk: Expr, op: str) -> Expr:
            one_t = Sum([("+", Num(1)), ("-", tk)])
            one_y = Sum([("+", Num(1)), ("-", yk)])
            return Sum([("+", Prod([tk, Call("log", r"\log", yk)], op=op)),
                        ("+", Prod([one_t, Call("log", r"\log", one_y)], op=op))])
        terms_s = _sum([("+", term(t_sym(k), a_sym(L, k, L), " ")) for k in ks])
        terms_n = _sum([("+", term(Num(t[k]), Num(y[k]), "·")) for k in ks])
        return Sum([("-", Bracket(terms_s))]), Sum([("-", Bracket(terms_n))])
    return None, None


def _sum(items: list[tuple[str, Expr]]) -> Expr:
    """A Sum, or its only term (so one-term sums print without parentheses)."""
    if len(items) == 1 and items[0][0] == "+":
        return items[0][1]
    return Sum(items)


# ----------------------------------------------------------------------- conventions
_MODE_TEXT = {
    "sgd": "sgd: one update per sample, in file order (online gradient descent)",
    "batch": "batch: one update per epoch with the SUM of the samples' gradients",
    "batch_mean": "batch_mean: one update per epoch with the MEAN of the samples' gradients",
}


def conventions(sol: Any, decimals: int | None) -> list[tuple[str, str]]:
    """The conventions a reader needs to match the solution with a textbook (text form)."""
    ex = sol.exercise
    conv = sol.conventions
    L = sol.n_layers
    sizes = "-".join(str(n) for n in ex.layers)
    parts = []
    for l in range(1, L + 1):
        kind = "output" if l == L else "hidden"
        n = ex.layers[l]
        parts.append(f"layer {l} ({kind}): {n} {sol.activations[l - 1].name} unit"
                     f"{'s' if n != 1 else ''}")
    acts = []
    for act in sol.activations:
        line = f"{act.formula}; {act.derivative_formula}"
        if line not in acts:
            acts.append(line)
    n_up = len(sol.updates)
    items = [
        ("network", f"{sizes}: {ex.layers[0]} input{'s' if ex.layers[0] != 1 else ''}; "
                    + "; ".join(parts)),
        ("notation", "wᵢⱼ⁽ˡ⁾ connects unit j of layer l−1 to unit i of layer l (W⁽ˡ⁾ has one row "
                     "per unit of layer l); z⁽ˡ⁾ = W⁽ˡ⁾a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f(z⁽ˡ⁾), a⁽⁰⁾ = x, "
                     f"y = a⁽{superscript(L)}⁾; units and samples are numbered from 1"),
        ("activation", " | ".join(acts)),
        ("loss", conv["loss"] + ("" if sol.loss.name != "half_sse"
                                 else " (the ½ cancels the 2 of the derivative)")),
        ("reduction", conv["reduction"]),
        ("learning rate", f"η = {Num(ex.learning_rate).render(_TEXT)}"
                          + (" (the parameters do not change)" if ex.learning_rate == 0 else "")),
        ("mode", f"{_MODE_TEXT[ex.mode]}; {ex.epochs} epoch{'s' if ex.epochs != 1 else ''}, "
                 f"{n_up} update{'s' if n_up != 1 else ''}"),
        ("biases", {"none": "none (z = W a)", "updated": "updated like the weights",
                    "fixed (not updated)": "fixed: their gradients are shown, but they are "
                                           "not updated"}.get(conv["biases"], conv["biases"])),
        ("delta", "δ = ∂E/∂z; output layer: " + conv["output_delta"]
                  + "; hidden layers: " + conv["hidden_delta"]),
        ("gradients", "∂E/∂wᵢⱼ⁽ˡ⁾ = δᵢ⁽ˡ⁾aⱼ⁽ˡ⁻¹⁾, ∂E/∂bᵢ⁽ˡ⁾ = δᵢ⁽ˡ⁾"
                      + (", summed over the samples of the update" if ex.mode != "sgd" else "")),
        ("update", "w ← w − η·∂E/∂w (plain gradient descent, no momentum)"),
        ("numbers", "computed in float64; shown "
                    + ("with 6 significant digits (updated parameters with enough digits to "
                       "show the update)" if decimals is None
                       else f"rounded to {decimals} decimals")),
    ]
    return items


_TEXT = Style("text")


# ------------------------------------------------------------------------- builder
def _fmt_vec(v: np.ndarray) -> str:
    return "(" + ", ".join(Num(float(x)).render(_TEXT) for x in v) + ")"


def forward_equations(sol: Any, l: int, x: np.ndarray, z: np.ndarray, a: np.ndarray,
                      W: np.ndarray, b: np.ndarray | None, indent: int = 1) -> list[Any]:
    """z and a of layer l (1-based) for one sample: x is the layer's input row."""
    L = sol.n_layers
    act = sol.activations[l - 1]
    out: list[Any] = []
    n_out, n_in = W.shape
    for i in range(n_out):
        terms_s: list[tuple[str, Expr]] = [("+", Prod([W_sym(l, i, j), a_sym(l - 1, j, L)], op=""))
                                           for j in range(n_in)]
        terms_n: list[tuple[str, Expr]] = [("+", Prod([Num(W[i, j]), Num(x[j])]))
                                           for j in range(n_in)]
        if b is not None:
            terms_s.append(("+", b_sym(l, i)))
            terms_n.append(("+", Num(b[i])))
        out.append(Equation(Eq(z_sym(l, i), Sum(terms_s), Sum(terms_n), Num(z[i])), indent))
    for i in range(n_out):
        lhs: Expr = a_sym(l, i, L)
        if l == L:
            lhs = _OutLhs(l, i, L)
        if act.name == "softmax":
            num = Call("exp", "e^", Num(z[i]))
            den = Sum([("+", Call("exp", "e^", Num(z[k]))) for k in range(n_out)])
            sym = Frac(Call("exp", "e^", z_sym(l, i)),
                       Sigma(Call("exp", "e^", Sym("z", "z", ("k",), l)), "k"))
            out.append(Equation(Eq(lhs, sym, Frac(num, den), Num(a[i])), indent))
        elif act.name == "linear":
            out.append(Equation(Eq(lhs, z_sym(l, i), Num(a[i])), indent))
        else:
            out.append(Equation(Eq(lhs, activation_call(act.name, z_sym(l, i)),
                                   activation_call(act.name, Num(z[i])), Num(a[i])), indent))
    return out


@dataclass
class _OutLhs(Expr):
    """y_i = a_i^(L): the output's two names, in each notation."""

    l: int
    i: int
    L: int

    def render(self, st: Any) -> str:
        return (f"{a_sym(self.l, self.i, self.L).render(st)} = "
                f"{Sym('a', 'a', (self.i + 1,), self.l).render(st)}")


def sigmoid_cross_entropy(sol: Any) -> bool:
    """True for sigmoid units with cross_entropy, whose fused δ is t·(y − 1), not y − t."""
    return sol.loss.name == "cross_entropy" and sol.activations[-1].name == "sigmoid"


def fused_delta_parts(sol: Any, k: int, y: float, t: float, L: int) -> tuple[Expr, Expr]:
    """The fused output δₖ as (symbolic, substituted): y − t, or t·(y − 1) for sigmoid + CE."""
    if sigmoid_cross_entropy(sol):
        return (Prod([t_sym(k), Sum([("+", a_sym(L, k, L)), ("-", Num(1))])], op=""),
                Prod([Num(t), Sum([("+", Num(y)), ("-", Num(1))])]))
    return (Sum([("+", a_sym(L, k, L)), ("-", t_sym(k))]),
            Sum([("+", Num(y)), ("-", Num(t))]))


def log_argument_underflows(loss: Any, y: np.ndarray, t: np.ndarray) -> bool:
    """True when a log of the loss has an argument that float64 rounds to 0 (y or 1 − y).

    The engine computes such a loss from z (log-softmax, log σ(z)), exactly; substituting
    the rounded y would print log(0) for a finite E, so the renderers show E without it.
    """
    y, t = np.asarray(y, dtype=float), np.asarray(t, dtype=float)
    if loss.name == "cross_entropy":
        return bool(((t != 0) & (y <= 0)).any())
    if loss.name == "binary_cross_entropy":
        return bool((((t != 0) & (y <= 0)) | (((1 - t) != 0) & (1 - y <= 0))).any())
    return False


def output_delta_equations(sol: Any, up: Any, s: int, indent: int = 1) -> list[Any]:
    """∂E/∂y, f'(z) and δ of the output layer for sample row s of update ``up``."""
    L = sol.n_layers
    lt = up.layers[-1]
    act = sol.activations[-1]
    y, t, z, delta = lt.a[s], up.targets[s], lt.z[s], lt.delta[s]
    K = len(y)
    n = len(up.samples)
    mean = up.reduction == "mean" and n > 1
    pre: list[Expr] = [Frac(Num(1), Num(n))] if mean else []
    out: list[Any] = []
    if sol.fused_output_delta:
        pair = f"{act.name} + {sol.loss.name}"
        form = "t·(y − 1)" if sigmoid_cross_entropy(sol) else "y − t"
        out.append(Note(f"{pair}: δ = {form} (the derivative of {act.name} cancels against "
                        f"∂E/∂y)" + (f"; the mean over {n} samples adds 1/{n}" if mean else "")))
        for k in range(K):
            diff_s, diff_n = fused_delta_parts(sol, k, float(y[k]), float(t[k]), L)
            sym = Prod(pre + [diff_s]) if pre else diff_s
            numeric = Prod(pre + [diff_n]) if pre else diff_n
            out.append(Equation(Eq(delta_sym(L, k), sym, numeric, Num(delta[k])), indent))
        return out
    grad = np.asarray(sol.loss.grad_output(y[None, :], t[None, :]))[0]
    for k in range(K):
        sym, numeric = loss_gradient_parts(sol.loss, K, k, y[k], t[k], L)
        out.append(Equation(Eq(Deriv(E, a_sym(L, k, L)), sym, numeric, Num(grad[k])), indent))
    if act.elementwise:
        fp = act.derivative(z[None, :], y[None, :])[0]
        for k in range(K):
            name = activation_call(act.name, z_sym(L, k), prime=True)
            sym, numeric = derivative_parts(act, a_sym(L, k, L), y[k], fp[k])
            out.append(Equation(Eq(name, sym, numeric, Num(fp[k])), indent))
        for k in range(K):
            sym_f = Prod(pre + [Deriv(E, a_sym(L, k, L)),
                                activation_call(act.name, z_sym(L, k), prime=True)])
            num_f = Prod(pre + [Num(grad[k]), Num(fp[k])])
            out.append(Equation(Eq(delta_sym(L, k), sym_f, num_f, Num(delta[k])), indent))
        return out
    # softmax without cross-entropy: δ_k = y_k (g_k − Σ_j g_j y_j)
    out.append(Note("softmax Jacobian: ∂yₖ/∂zⱼ = yₖ(1[k=j] − yⱼ), so "
                    "δₖ = yₖ·(∂E/∂yₖ − Σⱼ yⱼ·∂E/∂yⱼ)"))
    dot = Sum([("+", Prod([Num(y[j]), Num(grad[j])])) for j in range(K)])
    for k in range(K):
        inner = Prod([a_sym(L, k, L), Sum([("+", Deriv(E, a_sym(L, k, L))),
                                            ("-", Sigma(Prod([Sym("y", "y", ("j",)),
                                                              Deriv(E, Sym("y", "y", ("j",)))],
                                                             op=""), "j"))])], op="")
        sym_d = Prod(pre + [inner]) if pre else inner
        num_d = Prod(pre + [Num(y[k]), Sum([("+", Num(grad[k])), ("-", dot)])])
        out.append(Equation(Eq(delta_sym(L, k), sym_d, num_d, Num(delta[k])), indent))
    return out


def rounding_noise_layers(sol: Any, up: Any, s: int) -> set[int]:
    """Hidden layers (1-based) whose δ for sample row s is an exact 0 left as float64 noise.

    A layer is noise when every δ is below 10⁻¹² of the terms it sums (they cancel), or when
    the layer above is noise (its δ is then built from noise); all-zero layers are not listed.
    """
    noise: set[int] = set()
    for l in range(sol.n_layers - 1, 0, -1):
        lt, above = up.layers[l - 1], up.layers[l]
        act = sol.activations[l - 1]
        fp = act.derivative(lt.z[s][None, :], lt.a[s][None, :])[0]
        scale = (np.abs(above.delta[s]) @ np.abs(above.W)) * np.abs(fp)
        delta = np.abs(lt.delta[s])
        if delta.max() > 0 and ((l + 1) in noise or (delta <= 1e-12 * scale).all()):
            noise.add(l)
    return noise


def hidden_delta_equations(sol: Any, up: Any, s: int, l: int, indent: int = 1) -> list[Any]:
    """f'(z) and δ of hidden layer l (1-based) for sample row s."""
    lt, above = up.layers[l - 1], up.layers[l]
    act = sol.activations[l - 1]
    L = sol.n_layers
    z, a, delta = lt.z[s], lt.a[s], lt.delta[s]
    fp = act.derivative(z[None, :], a[None, :])[0]
    W = above.W
    d_above = above.delta[s]
    out: list[Any] = []
    for i in range(len(z)):
        name = activation_call(act.name, z_sym(l, i), prime=True)
        sym, numeric = derivative_parts(act, a_sym(l, i, L), a[i], fp[i])
        out.append(Equation(Eq(name, sym, numeric, Num(fp[i])), indent))
    for i in range(len(z)):
        back_s = _sum([("+", Prod([W_sym(l + 1, k, i), delta_sym(l + 1, k)], op=""))
                       for k in range(W.shape[0])])
        back_n = _sum([("+", Prod([Num(W[k, i]), Num(d_above[k])])) for k in range(W.shape[0])])
        f_s = activation_call(act.name, z_sym(l, i), prime=True)
        out.append(Equation(Eq(delta_sym(l, i), Prod([back_s, f_s]), Prod([back_n, Num(fp[i])]),
                               Num(delta[i])), indent))
    if l in rounding_noise_layers(sol, up, s):
        out.append(Note(f"δ⁽{superscript(l)}⁾ is 0 up to float64 rounding: its terms cancel "
                        f"(to 10⁻¹² of their size) or come from a layer whose δ is 0"))
    return out


def loss_equation(sol: Any, up: Any, s: int, indent: int = 1) -> list[Any]:
    L = sol.n_layers
    y, t = up.layers[-1].a[s], up.targets[s]
    value = float(up.losses[s]) if up.losses is not None else float(up.loss)
    sym, numeric = loss_parts(sol.loss, y, t, L)
    lhs = E if len(up.samples) == 1 else Sym("E", "E", (s + 1,))
    if sym is None:
        return [Note(sol.loss.formula), Equation(Eq(lhs, Num(value)), indent)]
    if log_argument_underflows(sol.loss, y, t):
        how = ("log yₖ = zₖ − log Σⱼ e^(zⱼ)" if sol.activations[-1].name == "softmax"
               else "log σ(z) = −log(1 + e^(−z))")
        return [Equation(Eq(lhs, sym, Num(value)), indent),
                Note(f"computed from z ({how}): an output rounds to 0 or 1 in float64, where "
                     f"log y or log(1 − y) would be −∞")]
    return [Equation(Eq(lhs, sym, numeric, Num(value)), indent)]


def gradient_equations(sol: Any, up: Any, l: int, indent: int = 1) -> list[Any]:
    lt = up.layers[l - 1]
    L = sol.n_layers
    n = len(up.samples)
    out: list[Any] = []
    n_out, n_in = lt.W.shape
    for i in range(n_out):
        for j in range(n_in):
            prod_s = Prod([delta_sym(l, i), a_sym(l - 1, j, L)], op="")
            if n == 1:
                sym: Expr = prod_s
                numeric: Expr = Prod([Num(lt.delta[0, i]), Num(lt.x[0, j])])
            else:
                sym = Sigma(prod_s)
                numeric = Sum([("+", Prod([Num(lt.delta[s, i]), Num(lt.x[s, j])]))
                               for s in range(n)])
            out.append(Equation(Eq(Deriv(E, W_sym(l, i, j)), sym, numeric,
                                   Num(lt.grad_W[i, j])), indent))
    if lt.grad_b is not None:
        for i in range(n_out):
            if n == 1:
                out.append(Equation(Eq(Deriv(E, b_sym(l, i)), delta_sym(l, i),
                                       Num(lt.grad_b[i])), indent))
            else:
                numeric = Sum([("+", Num(lt.delta[s, i])) for s in range(n)])
                out.append(Equation(Eq(Deriv(E, b_sym(l, i)), Sigma(delta_sym(l, i)), numeric,
                                       Num(lt.grad_b[i])), indent))
    return out


def update_equations(sol: Any, up: Any, l: int, indent: int = 1) -> list[Any]:
    lt = up.layers[l - 1]
    lr = up.lr
    out: list[Any] = []
    n_out, n_in = lt.W.shape
    for i in range(n_out):
        for j in range(n_in):
            before, after = float(lt.W[i, j]), float(lt.W_after[i, j])
            numeric = Sum([("+", Num(before)), ("-", Prod([Num(lr), Num(lt.grad_W[i, j])]))])
            out.append(Equation(Eq(W_sym(l, i, j), numeric,
                                   Num(after, digits_for_update(after, before)), op="←"),
                                indent))
    if lt.b is not None:
        if not lt.update_bias:
            out.append(Note(f"b⁽{superscript(l)}⁾ is fixed: it keeps its value"))
        else:
            for i in range(n_out):
                before, after = float(lt.b[i]), float(lt.b_after[i])
                numeric = Sum([("+", Num(before)), ("-", Prod([Num(lr), Num(lt.grad_b[i])]))])
                out.append(Equation(Eq(b_sym(l, i), numeric,
                                       Num(after, digits_for_update(after, before)), op="←"),
                                    indent))
    return out


def parameter_matrices(sol: Any, Ws: list[np.ndarray], bs: list[np.ndarray] | None,
                       before_W: list[np.ndarray] | None = None,
                       before_b: list[np.ndarray] | None = None) -> list[Any]:
    out: list[Any] = []
    for l in range(1, sol.n_layers + 1):
        out.append(Matrix(Sym("W", "W", (), l), Ws[l - 1],
                          None if before_W is None else before_W[l - 1]))
        if bs is not None:
            out.append(Matrix(Sym("b", "b", (), l), bs[l - 1],
                              None if before_b is None else before_b[l - 1]))
    return out


def update_title(sol: Any, u: int) -> str:
    up = sol.updates[u]
    U = len(sol.updates)
    samples = [s + 1 for s in up.samples]
    if len(samples) == 1:
        what = f"sample {samples[0]}"
    else:
        what = f"samples {samples[0]}–{samples[-1]}" if samples == list(
            range(samples[0], samples[-1] + 1)) else "samples " + ", ".join(map(str, samples))
    epoch = f"epoch {up.epoch + 1}, " if sol.exercise.epochs > 1 or len(samples) > 1 else ""
    return f"Update {u + 1} of {U} ({epoch}{what})"


def iter_document(sol: Any, decimals: int | None = None, pictures: bool = False
                  ) -> Iterator[Any]:
    """The whole worked solution as a stream of document nodes, one update at a time.

    A renderer that consumes the stream holds the nodes of one update at most, so its
    memory is bounded by the text it writes, not by the number of updates.
    """
    ex = sol.exercise
    L = sol.n_layers
    yield Heading(ex.name, 0)
    if ex.description:
        yield (Note(ex.description.strip()))
    if ex.source_note:
        yield (Note(f"Source: {ex.source_note.strip()}"))
    yield (Heading("Conventions", 1))
    yield (KeyValues(conventions(sol, decimals)))
    yield (Heading("Initial parameters", 1))
    yield from (parameter_matrices(sol, sol.initial_W, sol.initial_b))
    for u, up in enumerate(sol.updates):
        yield (Heading(update_title(sol, u), 1))
        if pictures:
            yield (Picture(u))
        n = len(up.samples)
        for s in range(n):
            x, t = up.layers[0].x[s], up.targets[s]
            if n > 1:
                yield (Heading(f"Sample {up.samples[s] + 1}: x = {_fmt_vec(x)}, "
                                   f"t = {_fmt_vec(t)}", 2))
            else:
                yield (Note(f"x = {_fmt_vec(x)}, t = {_fmt_vec(t)}"))
            yield (Heading("Forward pass", 3))
            for l in range(1, L + 1):
                lt = up.layers[l - 1]
                yield (Heading(f"layer {l} ({sol.activations[l - 1].name}"
                                   f"{', output' if l == L else ''})", 4))
                yield from (forward_equations(sol, l, lt.x[s], lt.z[s], lt.a[s], lt.W, lt.b))
            yield (Heading("Loss", 3))
            yield from (loss_equation(sol, up, s))
            yield (Heading("Output delta", 3))
            yield from (output_delta_equations(sol, up, s))
            if L > 1:
                yield (Heading("Hidden deltas", 3))
                for l in range(L - 1, 0, -1):
                    yield (Heading(f"layer {l}", 4))
                    yield from (hidden_delta_equations(sol, up, s, l))
        if n > 1:
            yield (Heading("Loss of the update", 3))
            terms = [("+", Num(float(v))) for v in up.losses]
            lhs_terms = Sum([("+", Sym("E", "E", (s + 1,))) for s in range(n)])
            if up.reduction == "mean":
                yield (Equation(Eq(E, Prod([Frac(Num(1), Num(n)), lhs_terms], op=""),
                                       Prod([Frac(Num(1), Num(n)), Sum(terms)], op=""),
                                       Num(up.loss)), 1))
            else:
                yield (Equation(Eq(E, lhs_terms, Sum(terms), Num(up.loss)), 1))
        yield (Heading("Gradients", 3))
        for l in range(L, 0, -1):
            yield (Heading(f"layer {l}", 4))
            yield from (gradient_equations(sol, up, l))
        yield (Heading(f"New parameters (w ← w − η·∂E/∂w, η = "
                           f"{Num(up.lr).render(_TEXT)})", 3))
        for l in range(L, 0, -1):
            yield (Heading(f"layer {l}", 4))
            yield from (update_equations(sol, up, l))
    yield (Heading("Final parameters", 1))
    yield from (parameter_matrices(sol, sol.final_W, sol.final_b, sol.initial_W, sol.initial_b))
    if sol.queries:
        yield (Heading("Query", 1))
        for q, res in enumerate(sol.queries):
            yield (Heading(f"Query {q + 1}: x = {_fmt_vec(res.x)}", 2))
            for l in range(1, L + 1):
                x_in = res.x if l == 1 else res.a[l - 2]
                yield (Heading(f"layer {l} ({sol.activations[l - 1].name}"
                                   f"{', output' if l == L else ''})", 4))
                yield from (forward_equations(sol, l, x_in, res.z[l - 1], res.a[l - 1],
                                             sol.final_W[l - 1],
                                             None if sol.final_b is None
                                             else sol.final_b[l - 1]))
            if len(res.output) == 1 and res.class_rule.startswith("1 if"):
                why = f"{res.class_rule}; y = {_fmt_vec(res.output)}"
            else:
                why = (f"classes count from 0: output {res.cls + 1} is the largest of "
                       f"y = {_fmt_vec(res.output)}")
            yield (Note(f"class = {res.cls} ({why})"))


def build_document(sol: Any, decimals: int | None = None, pictures: bool = False) -> list[Any]:
    """The whole worked solution as a list of document nodes (see :func:`iter_document`)."""
    return list(iter_document(sol, decimals, pictures))
