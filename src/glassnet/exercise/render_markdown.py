"""``glassnet explain --format markdown``: Markdown with LaTeX matrices, seed 003's notation.

The notation is the one of the seed 003 answer key: z^[l] = W^[l] x^[l−1] + b^[l],
x^[l] = f(z^[l]), δ^[L] = ∂E/∂z^[L], δ^[l] = (W^[l+1])ᵀ δ^[l+1] ∘ f'(z^[l]),
∂E/∂W^[l] = δ^[l] (x^[l−1])ᵀ; with several samples in an update, x^[l],
z^[l] and δ^[l] have one column per sample. Every matrix equation is written
symbolically, then with the matrices substituted, then its result. Math is
in ``$$ … $$`` blocks (GitHub, Jupyter, pandoc and most notebooks render them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .formula import Num, Style
from .numbers import digits_for_update

__all__ = ["render_markdown", "bmatrix", "latex_number"]

_LOSS_LATEX = {
    "half_sse": r"E = \frac{1}{2}\sum_k \left(x^{[L]}_k - t_k\right)^2",
    "sse": r"E = \sum_k \left(x^{[L]}_k - t_k\right)^2",
    "mse": r"E = \frac{1}{K}\sum_k \left(x^{[L]}_k - t_k\right)^2",
    "cross_entropy": r"E = -\sum_k t_k \log x^{[L]}_k",
    "binary_cross_entropy": r"E = -\sum_k \left[t_k \log x^{[L]}_k + (1 - t_k)"
                            r"\log\left(1 - x^{[L]}_k\right)\right]",
}
_LOSS_GRAD_LATEX = {
    "half_sse": r"x^{[L]} - t",
    "sse": r"2\left(x^{[L]} - t\right)",
    "mse": r"\frac{2}{K}\left(x^{[L]} - t\right)",
    "cross_entropy": r"\left(-t \oslash x^{[L]}\right)",
    "binary_cross_entropy": r"\left(x^{[L]} - t\right) \oslash \left(x^{[L]} \circ "
                            r"\left(1 - x^{[L]}\right)\right)",
}
_ACT_LATEX = {
    "sigmoid": (r"\sigma", r"\sigma(z) = \frac{1}{1 + e^{-z}}, \quad \sigma'(z) = "
                           r"\sigma(z)\left(1 - \sigma(z)\right)"),
    "tanh": (r"\tanh", r"\tanh'(z) = 1 - \tanh^2(z)"),
    "relu": (r"\operatorname{relu}", r"\operatorname{relu}(z) = \max(0, z), \quad "
                                     r"\operatorname{relu}'(z) = [z > 0]"),
    "leaky_relu": (r"\operatorname{lrelu}", r"\operatorname{lrelu}(z) = \max(\alpha z, z)"),
    "linear": (r"\operatorname{id}", r"\operatorname{id}(z) = z, \quad \operatorname{id}'(z) = 1"),
    "softmax": (r"\operatorname{softmax}", r"\operatorname{softmax}(z)_i = "
                                           r"\frac{e^{z_i}}{\sum_j e^{z_j}}"),
}
_DERIV_LATEX = {
    "sigmoid": lambda l: rf"x^{{[{l}]}} \circ \left(1 - x^{{[{l}]}}\right)",
    "tanh": lambda l: rf"1 - x^{{[{l}]}} \circ x^{{[{l}]}}",
}


def latex_number(v: float, st: Style, min_decimals: int | None = None) -> str:
    return Num(float(v), min_decimals).render(st)


def bmatrix(values: np.ndarray, st: Style, before: np.ndarray | None = None) -> str:
    """A LaTeX bmatrix; a 1-D array is a column vector."""
    a = np.asarray(values, dtype=float)
    b = None if before is None else np.asarray(before, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
        b = None if b is None else b[:, None]
    rows = []
    for i in range(a.shape[0]):
        cells = []
        for j in range(a.shape[1]):
            md = None if b is None else digits_for_update(float(a[i, j]), float(b[i, j]))
            cells.append(latex_number(a[i, j], st, md))
        rows.append(" & ".join(cells))
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _cols(rows: np.ndarray) -> np.ndarray:
    """Trace arrays have one row per sample; seed 003 writes one column per sample."""
    return np.asarray(rows).T


def _math(*parts: str) -> str:
    return "$$" + "".join(parts) + "$$"


def render_markdown(sol: Any, decimals: int | None = None) -> str:
    st = Style("latex", decimals)
    ex = sol.exercise
    L = sol.n_layers
    out: list[str] = [f"# {_md_text(ex.name)}", ""]
    if ex.description:
        out += ["> " + _md_text(" ".join(ex.description.split())), ""]
    if ex.source_note:
        out += [f"*Source: {_md_text(ex.source_note.strip())}*", ""]
    out += _conventions(sol, st, decimals)
    out += ["## Initial parameters", ""]
    out += _parameters(sol, st, sol.initial_W, sol.initial_b)
    for u in range(len(sol.updates)):
        out += _update(sol, u, st)
    out += ["## Final parameters", ""]
    out += _parameters(sol, st, sol.final_W, sol.final_b, sol.initial_W, sol.initial_b)
    if sol.queries:
        out += _queries(sol, st)
    del L
    return "\n".join(out).rstrip() + "\n"


def _conventions(sol: Any, st: Style, decimals: int | None) -> list[str]:
    ex = sol.exercise
    L = sol.n_layers
    sizes = "-".join(str(n) for n in ex.layers)
    acts = []
    for act in sol.activations:
        formula = _ACT_LATEX.get(act.name, (None, act.formula))[1]
        item = f"${formula}$" if act.name in _ACT_LATEX else act.formula
        if item not in acts:
            acts.append(item)
    loss = _LOSS_LATEX.get(sol.loss.name)
    loss_text = f"${loss}$" if loss else sol.loss.formula
    reduction = ("summed over the samples of an update" if sol.updates[0].reduction == "sum"
                 else "averaged over the samples of an update (every δ carries 1/N)")
    mode = {"sgd": "one update per sample, in file order (online gradient descent)",
            "batch": "one update per epoch with the **sum** of the samples' gradients",
            "batch_mean": "one update per epoch with the **mean** of the samples' gradients",
            }[ex.mode]
    biases = sol.conventions["biases"]
    if sol.fused_output_delta:
        form = (r"t \circ \left(x^{[L]} - 1\right)" if _sigmoid_ce(sol) else r"x^{[L]} - t")
        out_delta = (r"\delta^{[L]} = " + form
                     + f" \\quad \\text{{({sol.activations[-1].name} + "
                       f"{sol.loss.name.replace('_', ' ')}: the derivatives cancel)}}")
    elif sol.activations[-1].elementwise:
        grad = _LOSS_GRAD_LATEX.get(sol.loss.name, r"\frac{\partial E}{\partial x^{[L]}}")
        if sol.loss.name == "half_sse":
            grad = rf"\left({grad}\right)"
        out_delta = rf"\delta^{{[L]}} = {grad} \circ f'\left(z^{{[L]}}\right)"
    else:
        out_delta = (r"\delta^{[L]} = J^T \frac{\partial E}{\partial x^{[L]}}, \quad "
                     r"J_{ij} = \frac{\partial x^{[L]}_i}{\partial z^{[L]}_j} = "
                     r"x^{[L]}_i\left([i = j] - x^{[L]}_j\right)")
    n_up = len(sol.updates)
    lines = [
        "## Conventions", "",
        f"- **Network** {sizes}: {ex.layers[0]} input{'s' if ex.layers[0] != 1 else ''}; "
        + "; ".join(f"layer {l}{' (output)' if l == L else ''}: {ex.layers[l]} "
                    f"{sol.activations[l - 1].name} unit{'s' if ex.layers[l] != 1 else ''}"
                    for l in range(1, L + 1))
        + f"; $L = {L}$.",
        r"- **Notation** (seed 003): $z^{[l]} = W^{[l]} x^{[l-1]} + b^{[l]}$, "
        r"$x^{[l]} = f\left(z^{[l]}\right)$, $x^{[0]}$ is the input and $x^{[L]}$ the output, "
        r"$t$ the target. $W^{[l]}$ has one row per unit of layer $l$: $w^{[l]}_{ij}$ connects "
        r"unit $j$ of layer $l-1$ to unit $i$ of layer $l$. With several samples, $x^{[l]}$, "
        r"$z^{[l]}$ and $\delta^{[l]}$ have one column per sample.",
        "- **Activation** " + "; ".join(acts) + ".",
        f"- **Loss** {loss_text} (`{sol.loss.name}`), {reduction}.",
        rf"- **Learning rate** $\eta = {latex_number(ex.learning_rate, st)}$; **mode** "
        f"`{ex.mode}`: {mode}; {ex.epochs} epoch{'s' if ex.epochs != 1 else ''}, "
        f"{n_up} update{'s' if n_up != 1 else ''}.",
        f"- **Biases** {biases}.",
        r"- **Deltas** $\delta^{[l]} = \frac{\partial E}{\partial z^{[l]}}$: "
        f"${out_delta}$; "
        r"$\delta^{[l]} = \left(W^{[l+1]}\right)^T \delta^{[l+1]} \circ "
        r"f'\left(z^{[l]}\right)$ for $l < L$.",
        r"- **Gradients** $\frac{\partial E}{\partial W^{[l]}} = \delta^{[l]} "
        r"\left(x^{[l-1]}\right)^T$, $\frac{\partial E}{\partial b^{[l]}} = \delta^{[l]}$"
        + (r" summed over the columns ($\delta^{[l]}\mathbf{1}$)" if ex.mode != "sgd" else "")
        + r"; update $W \leftarrow W - \eta \frac{\partial E}{\partial W}$ (plain gradient "
          r"descent).",
        "- **Numbers** computed in float64; shown "
        + ("with 6 significant digits (updated parameters with enough digits to show the "
           "update)." if decimals is None else f"rounded to {decimals} decimals."),
        "",
    ]
    return lines


def _parameters(sol: Any, st: Style, Ws: list[np.ndarray], bs: list[np.ndarray] | None,
                W0: list[np.ndarray] | None = None, b0: list[np.ndarray] | None = None
                ) -> list[str]:
    parts = []
    for l in range(1, sol.n_layers + 1):
        item = f"W^{{[{l}]}} = {bmatrix(Ws[l - 1], st, None if W0 is None else W0[l - 1])}"
        if bs is not None:
            item += (rf", \quad b^{{[{l}]}} = "
                     f"{bmatrix(bs[l - 1], st, None if b0 is None else b0[l - 1])}")
        parts.append(_math(item))
    return parts + [""]


def _fprime(sol: Any, l: int, lt: Any) -> np.ndarray:
    act = sol.activations[l - 1]
    return act.derivative(lt.z, lt.a)


def _fprime_math(sol: Any, l: int, lt: Any, st: Style) -> tuple[np.ndarray, str, str]:
    """f'(z^[l]) of layer l: its values, the function's LaTeX name, and the displayed line."""
    fp = _fprime(sol, l, lt)
    name = sol.activations[l - 1].name
    f = _ACT_LATEX.get(name, ("f", ""))[0]
    deriv = _DERIV_LATEX.get(name)
    fline = rf"{f}'\left(z^{{[{l}]}}\right) = "
    if deriv:
        fline += f"{deriv(l)} = "
    return fp, f, _math(fline + bmatrix(_cols(fp), st))


def _update(sol: Any, u: int, st: Style) -> list[str]:
    from .steps import rounding_noise_layers, update_title

    up = sol.updates[u]
    L = sol.n_layers
    n = len(up.samples)
    lr = latex_number(up.lr, st)
    out = [f"## {update_title(sol, u)}", ""]
    x0 = up.layers[0].x
    out.append(_math(rf"x^{{[0]}} = {bmatrix(_cols(x0), st)}, \quad "
                     rf"t = {bmatrix(_cols(up.targets), st)}"))
    out += ["", "### Forward pass", ""]
    for l in range(1, L + 1):
        lt = up.layers[l - 1]
        act = sol.activations[l - 1]
        bias = "" if lt.b is None else rf" + b^{{[{l}]}}"
        bias_n = "" if lt.b is None else f" + {bmatrix(lt.b, st)}"
        out.append(_math(rf"z^{{[{l}]}} = W^{{[{l}]}} x^{{[{l - 1}]}}{bias} = "
                         rf"{bmatrix(lt.W, st)} {bmatrix(_cols(lt.x), st)}{bias_n} = "
                         rf"{bmatrix(_cols(lt.z), st)}"))
        f = _ACT_LATEX.get(act.name, ("f", ""))[0]
        out.append(_math(rf"x^{{[{l}]}} = {f}\left(z^{{[{l}]}}\right) = "
                         rf"{bmatrix(_cols(lt.a), st)}"))
    out += ["", "### Loss", ""]
    loss = _LOSS_LATEX.get(sol.loss.name, "E").replace("[L]", f"[{L}]")
    losses = up.losses if up.losses is not None else np.array([up.loss])
    if n == 1:
        out.append(_math(rf"{loss} = {_loss_numbers(sol, up, 0, st)}"
                         rf"{latex_number(up.loss, st)}"))
    else:
        for s in range(n):
            out.append(_math(rf"{loss.replace('E =', f'E_{{{s + 1}}} =')} = "
                             rf"{_loss_numbers(sol, up, s, st)}{latex_number(losses[s], st)}"))
        terms = " + ".join(latex_number(v, st) for v in losses)
        if up.reduction == "mean":
            out.append(_math(rf"E = \frac{{1}}{{{n}}}\sum_s E_s = \frac{{1}}{{{n}}}\left("
                             rf"{terms}\right) = {latex_number(up.loss, st)}"))
        else:
            out.append(_math(rf"E = \sum_s E_s = {terms} = {latex_number(up.loss, st)}"))
    out += ["", "### Backward pass", ""]
    out += _output_delta(sol, up, st)
    for l in range(L - 1, 0, -1):
        lt, above = up.layers[l - 1], up.layers[l]
        fp, f, fline = _fprime_math(sol, l, lt, st)
        out.append(fline)
        out.append(_math(rf"\delta^{{[{l}]}} = \left(W^{{[{l + 1}]}}\right)^T "
                         rf"\delta^{{[{l + 1}]}} \circ {f}'\left(z^{{[{l}]}}\right) = "
                         rf"{bmatrix(above.W.T, st)} {bmatrix(_cols(above.delta), st)} \circ "
                         rf"{bmatrix(_cols(fp), st)} = {bmatrix(_cols(lt.delta), st)}"))
        if all(l in rounding_noise_layers(sol, up, s) for s in range(n)):
            out.append(f"*$\\delta^{{[{l}]}}$ is 0 up to float64 rounding: its terms cancel "
                       f"(to $10^{{-12}}$ of their size) or come from a layer whose "
                       f"$\\delta$ is 0.*")
    out += ["", "### Gradients", ""]
    ones = "" if n == 1 else bmatrix(np.ones(n), st)
    for l in range(L, 0, -1):
        lt = up.layers[l - 1]
        out.append(_math(rf"\frac{{\partial E}}{{\partial W^{{[{l}]}}}} = \delta^{{[{l}]}} "
                         rf"\left(x^{{[{l - 1}]}}\right)^T = {bmatrix(_cols(lt.delta), st)} "
                         rf"{bmatrix(lt.x, st)} = {bmatrix(lt.grad_W, st)}"))
        if lt.grad_b is not None:
            if n == 1:
                out.append(_math(rf"\frac{{\partial E}}{{\partial b^{{[{l}]}}}} = "
                                 rf"\delta^{{[{l}]}} = {bmatrix(lt.grad_b, st)}"))
            else:
                out.append(_math(rf"\frac{{\partial E}}{{\partial b^{{[{l}]}}}} = "
                                 rf"\delta^{{[{l}]}} \mathbf{{1}} = "
                                 rf"{bmatrix(_cols(lt.delta), st)} {ones} = "
                                 rf"{bmatrix(lt.grad_b, st)}"))
    out += ["", "### Update", ""]
    for l in range(L, 0, -1):
        lt = up.layers[l - 1]
        out.append(_math(rf"W^{{[{l}]}} \leftarrow W^{{[{l}]}} - \eta "
                         rf"\frac{{\partial E}}{{\partial W^{{[{l}]}}}} = {bmatrix(lt.W, st)} - "
                         rf"{lr} {bmatrix(lt.grad_W, st)} = {bmatrix(lt.W_after, st, lt.W)}"))
        if lt.b is not None:
            if lt.update_bias:
                out.append(_math(rf"b^{{[{l}]}} \leftarrow b^{{[{l}]}} - \eta "
                                 rf"\frac{{\partial E}}{{\partial b^{{[{l}]}}}} = "
                                 rf"{bmatrix(lt.b, st)} - {lr} {bmatrix(lt.grad_b, st)} = "
                                 rf"{bmatrix(lt.b_after, st, lt.b)}"))
            else:
                out.append(f"$b^{{[{l}]}}$ is fixed (not updated).")
    out.append("")
    return out


def _loss_numbers(sol: Any, up: Any, s: int, st: Style) -> str:
    """One sample's loss with the numbers substituted, followed by " = " (or "")."""
    from .steps import log_argument_underflows, loss_parts

    y, t = up.layers[-1].a[s], up.targets[s]
    if log_argument_underflows(sol.loss, y, t):  # E came from z; log(0) would mislead
        return ""
    _, numeric = loss_parts(sol.loss, y, t, sol.n_layers)
    return "" if numeric is None else numeric.render(st) + " = "


def _md_text(text: str) -> str:
    """User-supplied text in Markdown: raw HTML escaped (a title cannot inject a <script>)."""
    from html import escape

    return escape(text, quote=False)


def _sigmoid_ce(sol: Any) -> bool:
    from .steps import sigmoid_cross_entropy

    return sigmoid_cross_entropy(sol)


def _output_delta(sol: Any, up: Any, st: Style) -> list[str]:
    L = sol.n_layers
    lt = up.layers[-1]
    act = sol.activations[-1]
    n = len(up.samples)
    mean = up.reduction == "mean" and n > 1
    pre = rf"\frac{{1}}{{{n}}}" if mean else ""
    xL, t = _cols(lt.a), _cols(up.targets)
    delta = bmatrix(_cols(lt.delta), st)
    if sol.fused_output_delta and _sigmoid_ce(sol):
        ones = bmatrix(np.ones_like(xL), st)
        return [_math(rf"\delta^{{[{L}]}} = \frac{{\partial E}}{{\partial z^{{[{L}]}}}} = "
                      rf"{pre}t \circ \left(x^{{[{L}]}} - 1\right) = "
                      rf"{pre}{bmatrix(t, st)} \circ \left({bmatrix(xL, st)} - {ones}\right)"
                      rf" = {delta}")]
    if sol.fused_output_delta:
        return [_math(rf"\delta^{{[{L}]}} = \frac{{\partial E}}{{\partial z^{{[{L}]}}}} = "
                      rf"{pre}\left(x^{{[{L}]}} - t\right) = "
                      rf"{pre}\left({bmatrix(xL, st)} - {bmatrix(t, st)}\right) = {delta}")]
    grad = np.asarray(sol.loss.grad_output(lt.a, up.targets))
    sym = _LOSS_GRAD_LATEX.get(sol.loss.name, r"\frac{\partial E}{\partial x^{[L]}}")
    sym = sym.replace("[L]", f"[{L}]")
    lines = [_math(rf"\frac{{\partial E}}{{\partial x^{{[{L}]}}}} = {sym} = "
                   rf"{bmatrix(_cols(grad), st)}")]
    if act.elementwise:
        fp, f, fline = _fprime_math(sol, L, lt, st)
        lines.append(fline)
        lines.append(_math(rf"\delta^{{[{L}]}} = \frac{{\partial E}}{{\partial z^{{[{L}]}}}} = "
                           rf"{pre}\frac{{\partial E}}{{\partial x^{{[{L}]}}}} \circ "
                           rf"{f}'\left(z^{{[{L}]}}\right) = {pre}{bmatrix(_cols(grad), st)} "
                           rf"\circ {bmatrix(_cols(fp), st)} = {delta}"))
        return lines
    jac = getattr(act, "jacobian", None)
    for s in range(n):
        sub = f"_{{{s + 1}}}" if n > 1 else ""
        J = bmatrix(jac(lt.a[s])[0], st) if jac else "J"
        lines.append(_math(rf"\delta^{{[{L}]}}{sub} = {pre}J{sub}^T "
                           rf"\frac{{\partial E}}{{\partial x^{{[{L}]}}}}{sub} = {pre}{J}^T "
                           rf"{bmatrix(grad[s], st)} = {bmatrix(lt.delta[s], st)}"))
    return lines


def _queries(sol: Any, st: Style) -> list[str]:
    L = sol.n_layers
    out = ["## Query", "", "With the final parameters:", ""]
    for q, res in enumerate(sol.queries):
        if len(sol.queries) > 1:
            out += [f"### Query {q + 1}", ""]
        out.append(_math(rf"x^{{[0]}} = {bmatrix(res.x, st)}"))
        for l in range(1, L + 1):
            act = sol.activations[l - 1]
            x_in = res.x if l == 1 else res.a[l - 2]
            bias = "" if sol.final_b is None else rf" + b^{{[{l}]}}"
            bias_n = "" if sol.final_b is None else f" + {bmatrix(sol.final_b[l - 1], st)}"
            out.append(_math(rf"z^{{[{l}]}} = W^{{[{l}]}} x^{{[{l - 1}]}}{bias} = "
                             rf"{bmatrix(sol.final_W[l - 1], st, sol.initial_W[l - 1])} "
                             rf"{bmatrix(x_in, st)}{bias_n} = {bmatrix(res.z[l - 1], st)}"))
            f = _ACT_LATEX.get(act.name, ("f", ""))[0]
            out.append(_math(rf"x^{{[{l}]}} = {f}\left(z^{{[{l}]}}\right) = "
                             rf"{bmatrix(res.a[l - 1], st)}"))
        if len(res.output) == 1 and res.class_rule.startswith("1 if"):
            why = r"class 1 when $y \ge 0.5$, else 0"
        else:
            why = f"classes count from 0: output {res.cls + 1} is the largest"
        out += ["", f"**Class {res.cls}** ({why}).", ""]
    return out
