"""The chain rule for one weight, written out path by path as seed 004 does by hand.

``glassnet explain FILE --weight W1[1,1]`` prints ∂E/∂w₁₁⁽¹⁾ as a sum over every
path from the weight to the loss; each path is a product of partial
derivatives (∂E/∂y, ∂y/∂z, ∂z/∂a, ∂a/∂z, ..., ∂z/∂w) with the numbers
substituted. The sum is compared with the gradient the engine's
backpropagation computed (δᵢ⁽ˡ⁾·aⱼ⁽ˡ⁻¹⁾), which it must equal.

Parameter names are 1-based, like the worked solution's symbols:
``W2[1,3]`` is w₁₃⁽²⁾ (from unit 3 of layer 1 to unit 1 of layer 2) and
``b1[2]`` is b₂⁽¹⁾. Every factor is read from the engine's trace (weights,
activations) or from the engine's own activation and loss objects
(f'(z), ∂E/∂y, the softmax Jacobian).

>>> from glassnet.exercise import parse_exercise, solve
>>> sol = solve(parse_exercise({
...     "network": {"layers": [2, 3, 1], "activation": "sigmoid", "weights": 1, "biases": 1},
...     "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
...     "samples": [{"x": [1, 0], "t": [1]}]}))
>>> rule = chain_rule(sol, "W1[1,1]")
>>> len(rule.updates[0].samples[0].paths), f"{rule.updates[0].total:.6e}"
(1, '-6.664062e-05')
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GlassnetError
from .formula import Deriv, Expr, Frac, Num, Prod, Raw, Style, Sum
from .numbers import digits_for_update
from .steps import (
    E,
    W_sym,
    a_sym,
    activation_call,
    b_sym,
    delta_sym,
    derivative_parts,
    fused_delta_parts,
    loss_gradient_parts,
    z_sym,
)

__all__ = ["MAX_PATHS", "Factor", "Path", "SampleChain", "UpdateChain", "ChainRule",
           "parse_parameter", "chain_rule"]

#: beyond this many paths per sample, the δ recursion of the worked solution is the readable form
MAX_PATHS = 512



@dataclass
class Factor:
    """One partial derivative on a path: its name, its formula, and its value."""

    name: Expr
    formula: Expr | None
    numeric: Expr
    value: float


@dataclass
class Path:
    nodes: list[Expr]
    factors: list[Factor]
    product: float


@dataclass
class SampleChain:
    sample: int
    paths: list[Path]
    total: float


@dataclass
class UpdateChain:
    update: int
    samples: list[SampleChain]
    total: float
    engine: float
    before: float
    after: float
    lr: float
    updated: bool


@dataclass
class ChainRule:
    """∂E/∂θ for one parameter θ, for every update of the exercise."""

    kind: str
    layer: int
    row: int
    col: int | None
    name: str
    n_layers: int = 1
    updates: list[UpdateChain] = field(default_factory=list)
    #: the parameter's name in the exercise's ``notation`` section (``w1`` in seed 004), or ""
    notation_name: str = ""

    @property
    def symbol(self) -> Expr:
        if self.kind == "W":
            assert self.col is not None
            return W_sym(self.layer, self.row, self.col)
        return b_sym(self.layer, self.row)

    def to_text(self, decimals: int | None = None) -> str:
        return _render_text(self, Style("text", decimals))

    def to_markdown(self, decimals: int | None = None) -> str:
        return _render_markdown(self, Style("latex", decimals))

    def to_dict(self) -> dict[str, Any]:
        txt = Style("text")
        return {
            "format": "glassnet.chain/1",
            "parameter": self.name,
            **({"notation_name": self.notation_name} if self.notation_name else {}),
            "kind": self.kind, "layer": self.layer, "row": self.row, "col": self.col,
            "updates": [{
                "update": uc.update,
                "samples": [{
                    "sample": sc.sample,
                    "paths": [{
                        "nodes": [n.render(txt) for n in p.nodes],
                        "factors": [{"name": f.name.render(txt), "value": f.value}
                                    for f in p.factors],
                        "product": p.product,
                    } for p in sc.paths],
                    "total": sc.total,
                } for sc in uc.samples],
                "gradient": uc.total,
                "backprop_gradient": uc.engine,
                "learning_rate": uc.lr,
                "before": uc.before,
                "after": uc.after,
            } for uc in self.updates],
        }

    def to_json(self) -> str:
        from .render_json import dumps_compact

        return dumps_compact(self.to_dict()) + "\n"

    # notebooks: a table of the paths, not a 40 000-character repr (check v2, issue 9)
    def _table_rows(self, limit: int = 40) -> tuple[list[tuple[str, ...]], int]:
        txt = Style("text")
        rows, total = [], 0
        for uc in self.updates:
            for sc in uc.samples:
                for p in sc.paths:
                    total += 1
                    if len(rows) < limit:
                        rows.append((str(uc.update + 1), str(sc.sample + 1),
                                     " → ".join(n.render(txt) for n in p.nodes),
                                     " · ".join(f"{f.name.render(txt)} = {f.value:.6g}"
                                                for f in p.factors), f"{p.product:.6g}"))
        return rows, total - len(rows)

    def _summary(self) -> list[str]:
        return [f"update {uc.update + 1}: ∂E/∂{self.name} = {uc.total:.9g} (backpropagation: "
                f"{uc.engine:.9g}); {uc.before:.9g} → {uc.after:.9g}" for uc in self.updates]

    def _repr_markdown_(self) -> str:
        rows, more = self._table_rows()
        out = [f"**∂E/∂{self.name}: the chain rule, path by path**", "",
               "| update | sample | path | factors | product |", "|---|---|---|---|---|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        if more:
            out.append(f"| … | | {more} more paths | | |")
        return "\n".join(out + [""] + [f"- {line}" for line in self._summary()]) + "\n"

    def _repr_html_(self) -> str:
        from html import escape

        rows, more = self._table_rows()
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>"
                       for r in rows)
        if more:
            body += f"<tr><td colspan=\"5\">… {more} more paths</td></tr>"
        summary = "".join(f"<li>{escape(line)}</li>" for line in self._summary())
        return (f"<p><b>∂E/∂{escape(self.name)}: the chain rule, path by path</b></p><table>"
                "<thead><tr><th>update</th><th>sample</th><th>path</th><th>factors</th>"
                f"<th>product</th></tr></thead><tbody>{body}</tbody></table><ul>{summary}</ul>")

    def __repr__(self) -> str:
        return (f"ChainRule({self.name!r}, updates={len(self.updates)}, "
                f"paths={sum(len(sc.paths) for uc in self.updates for sc in uc.samples)})")


def parse_parameter(sol: Any, spec: str) -> tuple[str, int, int, int | None]:
    """``"W1[1,2]"`` → ("W", 1, 0, 1): kind, 1-based layer, 0-based row and column.

    The name is read in the exercise's notation first, by the same
    ``notation_for(exercise).canonical_name`` as ``glassnet derive`` and ``check``: ``w1`` or
    ``b4`` in a ``notation: seed004`` file, ``W^[2]_13`` in deeplearning.ai's, and everywhere
    the canonical ``W_1_1_2`` and explain's ``W1[1,2]``. Anything else, and the bounds, go
    through :func:`glassnet.validate.parse_parameter_name` for one precise error message.
    """
    from ..validate import parse_parameter_name

    readable = isinstance(spec, str) and len(spec) <= 100  # longer: refused below
    canon = _notation(sol).canonical_name(spec) if readable else None
    if canon is not None and canon.startswith(("dW_", "db_")):
        canon = canon[1:]  # dE/dw7 names the same parameter as w7
    if canon is not None and not canon.startswith(("W_", "b_")):
        shown = spec if len(spec) <= 40 else spec[:37] + "..."
        raise GlassnetError(f"--weight {shown!r}: names {canon}, not a weight or a bias "
                            f"(e.g. {_notation(sol).display_name('W_1_1_1')} or W1[1,1])")
    try:
        return parse_parameter_name(canon or spec, sol.layers, sol.has_biases, "--weight")
    except GlassnetError as e:
        if getattr(sol.exercise, "notation", None) is None:
            raise
        n, sizes, L = _notation(sol), sol.layers, sol.n_layers
        names = (f"{n.display_name('W_1_1_1')} … "
                 f"{n.display_name(f'W_{L}_{sizes[L]}_{sizes[L - 1]}')}")
        if sol.has_biases:
            names += f", {n.display_name('b_1_1')} … {n.display_name(f'b_{L}_{sizes[L]}')}"
        raise type(e)(f"{e}; in the exercise's notation ({n.name}): {names}") from None


def _notation(sol: Any) -> Any:
    """The exercise's notation (its ``notation`` section, or glassnet's), bound to its sizes."""
    from ..derive.notation import notation_for

    return notation_for(sol.exercise)


def chain_rule(sol: Any, spec: str) -> ChainRule:
    """Build the chain rule for one parameter over every update of ``sol``."""
    kind, l, i, j = parse_parameter(sol, spec)
    name = f"W{l}[{i + 1},{j + 1}]" if kind == "W" else f"b{l}[{i + 1}]"
    L = sol.n_layers
    rule = ChainRule(kind, l, i, j, name, L)
    if getattr(sol.exercise, "notation", None) is not None:  # the reader's own name for it
        canon = f"W_{l}_{i + 1}_{j + 1}" if kind == "W" else f"b_{l}_{i + 1}"
        rule.notation_name = _notation(sol).display_name(canon)
    n_paths = int(np.prod([sol.layers[m] for m in range(l + 1, L + 1)], dtype=np.int64))
    if not sol.fused_output_delta and not sol.activations[-1].elementwise:
        n_paths *= sol.layers[L]
    if n_paths > MAX_PATHS:
        raise GlassnetError(f"--weight {spec}: {n_paths} paths lead from this parameter to the "
                            f"loss (more than {MAX_PATHS}); the δ recursion of `glassnet "
                            f"explain` is the readable form for a network this size")
    for u, up in enumerate(sol.updates):
        lt = up.layers[l - 1]
        samples = [_sample_chain(sol, up, s, kind, l, i, j) for s in range(len(up.samples))]
        total = float(sum(sc.total for sc in samples))
        if kind == "W":
            engine, before, after = lt.grad_W[i, j], lt.W[i, j], lt.W_after[i, j]
            updated = True
        else:
            engine, before, after = lt.grad_b[i], lt.b[i], lt.b_after[i]
            updated = bool(lt.update_bias)
        rule.updates.append(UpdateChain(u, samples, total, float(engine), float(before),
                                        float(after), float(up.lr), updated))
    return rule


def _fprime_factor(sol: Any, up: Any, s: int, m: int, unit: int) -> Factor:
    """∂a/∂z of unit ``unit`` of layer m (elementwise activation)."""
    L = sol.n_layers
    lt = up.layers[m - 1]
    act = sol.activations[m - 1]
    z, a = lt.z[s], lt.a[s]
    value = float(act.derivative(z[None, :], a[None, :])[0, unit])
    sym, numeric = derivative_parts(act, a_sym(m, unit, L), float(a[unit]), value)
    name = Deriv(a_sym(m, unit, L), z_sym(m, unit))
    return Factor(name, sym if sym is not None else activation_call(act.name, z_sym(m, unit),
                                                                    prime=True),
                  numeric if numeric is not None else Num(value), value)


def _sample_chain(sol: Any, up: Any, s: int, kind: str, l: int, i: int, j: int | None
                  ) -> SampleChain:
    L = sol.n_layers
    out = up.layers[-1]
    y, t = out.a[s], up.targets[s]
    n = len(up.samples)
    mean = up.reduction == "mean" and n > 1
    out_act = sol.activations[-1]
    fused = sol.fused_output_delta
    grad = (None if fused else np.asarray(sol.loss.grad_output(y[None, :], t[None, :]))[0])
    K = len(y)
    # the last factor: ∂z_i^(l)/∂θ
    lt = up.layers[l - 1]
    if kind == "W":
        assert j is not None
        last = Factor(Deriv(z_sym(l, i), W_sym(l, i, j)), a_sym(l - 1, j, L),
                      Num(float(lt.x[s, j])), float(lt.x[s, j]))
        start: Expr = W_sym(l, i, j)
    else:
        last = Factor(Deriv(z_sym(l, i), b_sym(l, i)), None, Num(1), 1.0)
        start = b_sym(l, i)
    ranges = [range(sol.layers[m]) for m in range(l + 1, L + 1)]
    paths: list[Path] = []
    for units in itertools.product(*ranges):
        chain_units = (i,) + tuple(units)  # unit on layers l, l+1, ..., L
        outs = range(K) if (not fused and not out_act.elementwise) else [chain_units[-1]]
        for k in outs:
            factors: list[Factor] = []
            if mean:
                factors.append(Factor(Raw(f"1/{n}", rf"\tfrac{{1}}{{{n}}}"), None,
                                      Frac(Num(1), Num(n)), 1.0 / n))
            m_unit = chain_units[-1]
            if fused:
                # the engine's own fused δ: y − t, or t·(y − 1) for sigmoid + cross-entropy
                value = float(sol.loss.fused_delta(out_act, y[None, :], t[None, :])[0, m_unit])
                sym_f, num_f = fused_delta_parts(sol, m_unit, float(y[m_unit]),
                                                 float(t[m_unit]), L)
                factors.append(Factor(Deriv(E, z_sym(L, m_unit)), sym_f, num_f, value))
            else:
                sym, numeric = loss_gradient_parts(sol.loss, K, k, float(y[k]), float(t[k]), L)
                factors.append(Factor(Deriv(E, a_sym(L, k, L)), sym,
                                      numeric if numeric is not None else Num(grad[k]),
                                      float(grad[k])))
                if out_act.elementwise:
                    factors.append(_fprime_factor(sol, up, s, L, m_unit))
                else:
                    jac = out_act.jacobian(y)[0]
                    value = float(jac[k, m_unit])
                    if k == m_unit:  # ∂y_k/∂z_k = y_k(1 − y_k)
                        formula: Expr = Prod([a_sym(L, k, L), Sum([("+", Num(1)),
                                                                   ("-", a_sym(L, k, L))])],
                                             op="")
                        numeric: Expr = Prod([Num(y[k]), Sum([("+", Num(1)),
                                                              ("-", Num(y[k]))])])
                    else:            # ∂y_k/∂z_m = −y_k y_m
                        formula = Sum([("-", Prod([a_sym(L, k, L), a_sym(L, m_unit, L)],
                                                  op=""))])
                        numeric = Sum([("-", Prod([Num(y[k]), Num(y[m_unit])]))])
                    factors.append(Factor(Deriv(a_sym(L, k, L), z_sym(L, m_unit)), formula,
                                          numeric, value))
            for m in range(L, l, -1):
                upper, lower = chain_units[m - l], chain_units[m - l - 1]
                w = float(up.layers[m - 1].W[upper, lower])
                factors.append(Factor(Deriv(z_sym(m, upper), a_sym(m - 1, lower, L)),
                                      W_sym(m, upper, lower), Num(w), w))
                factors.append(_fprime_factor(sol, up, s, m - 1, lower))
            if l == L and not fused and out_act.elementwise:
                pass  # the output f' is already the factor ∂y/∂z above
            factors.append(last)
            product = float(np.prod([f.value for f in factors]))
            nodes: list[Expr] = [start]
            for m in range(l, L + 1):
                nodes.append(z_sym(m, chain_units[m - l]))
                if m < L:
                    nodes.append(a_sym(m, chain_units[m - l], L))
            if not fused:
                nodes.append(a_sym(L, k, L))
            nodes.append(E)
            paths.append(Path(nodes, factors, product))
    return SampleChain(int(up.samples[s]), paths, float(sum(p.product for p in paths)))


# -------------------------------------------------------------------------- rendering
def _path_rows(p: Path) -> list[Expr]:
    """The right-hand sides of one path: names, formulas, numbers substituted, factor values."""
    rows: list[Expr] = [Prod([f.name for f in p.factors])]
    formulas = [f.formula if f.formula is not None else f.numeric for f in p.factors]
    rows.append(Prod(formulas))
    numbers = Prod([f.numeric for f in p.factors])
    values = Prod([Num(f.value) for f in p.factors])
    rows.append(numbers)
    if numbers.render(Style("text")) != values.render(Style("text")):
        rows.append(values)
    rows.append(Num(p.product))
    return rows


def _render_text(rule: ChainRule, st: Style) -> str:
    sol_sym = rule.symbol.render(st)
    lines: list[str] = []
    head = f"∂E/∂{sol_sym} by the chain rule"
    if rule.notation_name:
        head += f" ({rule.notation_name} in the exercise's notation)"
    lines += [head, "=" * len(head)]
    if rule.kind == "W":
        assert rule.col is not None
        src = (a_sym(0, rule.col, 0).render(st) if rule.layer == 1
               else f"unit {rule.col + 1} of layer {rule.layer - 1}")
        lines.append(f"{sol_sym} connects {src} to unit {rule.row + 1} of layer {rule.layer}; "
                     f"its derivative is the sum, over every path from {sol_sym} to E, of the "
                     f"product of the partial derivatives along the path.")
    else:
        lines.append(f"{sol_sym} is the bias of unit {rule.row + 1} of layer {rule.layer}; "
                     f"∂z/∂b = 1.")
    for uc in rule.updates:
        lines.append("")
        many_updates = len(rule.updates) > 1
        title = f"Update {uc.update + 1}" if many_updates else "The update"
        lines += [title, "-" * len(title)]
        for sc in uc.samples:
            ind = "  "
            if len(uc.samples) > 1:
                lines.append(f"  sample {sc.sample + 1}:")
                ind = "    "
            for k, p in enumerate(sc.paths, start=1):
                route = " → ".join(n.render(st) for n in p.nodes)
                lines.append(f"{ind}path {k}: {route}")
                lhs = Deriv(E, rule.symbol).render(st)
                for r, row in enumerate(_path_rows(p)):
                    lead = lhs if r == 0 else " " * len(lhs)
                    lines.append(f"{ind}  {lead} = {row.render(st)}")
            if len(sc.paths) > 1:
                terms = " + ".join(Num(p.product).wrapped(st, Num(p.product).negative(st))
                                   if k else Num(p.product).render(st)
                                   for k, p in enumerate(sc.paths))
                lines.append(f"{ind}sum of the {len(sc.paths)} paths: {terms} = "
                             f"{Num(sc.total).render(st)}")
        if len(uc.samples) > 1:
            terms = " + ".join(Num(sc.total).wrapped(st, k > 0 and Num(sc.total).negative(st))
                               for k, sc in enumerate(uc.samples))
            lines.append(f"  sum over the samples: {terms} = {Num(uc.total).render(st)}")
        agree = abs(uc.total - uc.engine) <= 1e-12 * max(1.0, abs(uc.engine))
        mark = "✓" if agree else "✗ MISMATCH"
        delta = delta_sym(rule.layer, rule.row).render(st)
        via = delta if rule.kind == "W" and rule.col is None else delta
        if rule.kind == "W":
            assert rule.col is not None
            via = f"{delta}·{a_sym(rule.layer - 1, rule.col, rule.n_layers).render(st)}"
        lines.append(f"  ∂E/∂{sol_sym} = {Num(uc.total).render(st)}   (backpropagation, "
                     f"{via}: {Num(uc.engine).render(st)} {mark})")
        if uc.updated:
            step = Sum([("+", Num(uc.before)), ("-", Prod([Num(uc.lr), Num(uc.total)]))])
            lines.append(f"  {sol_sym} ← {sol_sym} − η·∂E/∂{sol_sym} = {step.render(st)} = "
                         f"{Num(uc.after, digits_for_update(uc.after, uc.before)).render(st)}")
        else:
            lines.append(f"  {sol_sym} is fixed: it keeps its value "
                         f"{Num(uc.before).render(st)}")
    return "\n".join(lines) + "\n"


def _render_markdown(rule: ChainRule, st: Style) -> str:
    sym = rule.symbol.render(st)
    alias = f" ({rule.notation_name} in the exercise's notation)" if rule.notation_name else ""
    out = [f"## The chain rule for ${sym}${alias}", ""]
    for uc in rule.updates:
        if len(rule.updates) > 1:
            out += [f"### Update {uc.update + 1}", ""]
        for sc in uc.samples:
            if len(uc.samples) > 1:
                out += [f"Sample {sc.sample + 1}:", ""]
            for k, p in enumerate(sc.paths, start=1):
                route = r" \to ".join(n.render(st) for n in p.nodes)
                out.append(f"Path {k}: ${route}$")
                out.append("")
                rows = [row.render(st) for row in _path_rows(p)]
                out.append("$$\\begin{aligned}" + Deriv(E, rule.symbol).render(st) + " &= "
                           + r" \\ &= ".join(rows) + r"\end{aligned}$$")
                out.append("")
            if len(sc.paths) > 1:
                terms = " + ".join(Num(p.product).wrapped(st, k > 0 and Num(p.product)
                                                          .negative(st))
                                   for k, p in enumerate(sc.paths))
                out += [f"$$\\frac{{\\partial E}}{{\\partial {sym}}} = {terms} = "
                        f"{Num(sc.total).render(st)}$$", ""]
        if len(uc.samples) > 1:
            terms = " + ".join(Num(sc.total).wrapped(st, k > 0 and Num(sc.total).negative(st))
                               for k, sc in enumerate(uc.samples))
            out += [f"$$\\frac{{\\partial E}}{{\\partial {sym}}} = \\sum_s "
                    f"\\frac{{\\partial E_s}}{{\\partial {sym}}} = {terms} = "
                    f"{Num(uc.total).render(st)}$$", ""]
        if uc.updated:
            step = Sum([("+", Num(uc.before)), ("-", Prod([Num(uc.lr), Num(uc.total)]))])
            after = Num(uc.after, digits_for_update(uc.after, uc.before)).render(st)
            out += [f"$${sym} \\leftarrow {sym} - \\eta \\frac{{\\partial E}}{{\\partial {sym}}}"
                    f" = {step.render(st)} = {after}$$", ""]
    return "\n".join(out).rstrip() + "\n"
