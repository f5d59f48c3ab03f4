"""A picture of the network for one update: neurons, weights before → after, deltas (SVG).

Plain SVG text, no plotting library: it opens in any browser, embeds in
Markdown and HTML, and renders the same everywhere. Layers are columns
(inputs on the left); every neuron shows z, a and δ (one value per sample
of the update, separated by ``|``), its bias ``b: before → after`` above it;
every edge is labelled ``w: before → after``, drawn blue for a positive
weight and red for a negative one, thicker for a larger magnitude.

>>> from glassnet.exercise import parse_exercise, solve
>>> sol = solve(parse_exercise({
...     "network": {"layers": [2, 1], "activation": "sigmoid", "weights": 0.5, "biases": 0},
...     "loss": "half_sse", "learning_rate": 1, "mode": "sgd",
...     "samples": [{"x": [1, 0], "t": [1]}]}))
>>> svg = render_svg(sol)
>>> svg.startswith("<svg") and svg.count("<circle") == 3
True
"""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from .formula import subscript, superscript
from .numbers import digits_for_update, number_parts

__all__ = ["render_svg"]

_R = 30          # neuron radius
_DX = 300        # distance between layers
_DY = 150        # distance between neurons of a layer
_TOP = 96        # room for the title
_LEFT = 90
_MAX_EDGE_LABELS = 6  # a layer with more edges shows its weights as a matrix instead


def _fmt(v: float, before: float | None = None, decimals: int | None = None) -> str:
    md = None if before is None else digits_for_update(float(v), float(before), significant=2)
    mant, exp = number_parts(float(v), decimals=decimals, min_decimals=md,
                             digits=4 if decimals is None else 6)
    mant = mant.replace("-", "−")
    return mant if exp is None else f"{mant}e{str(exp).replace('-', '−')}"


def _vals(arr: np.ndarray, decimals: int | None) -> str:
    vals = [_fmt(v, decimals=decimals) for v in arr[:3]]
    return " | ".join(vals) + (" | …" if len(arr) > 3 else "")


def _node_name(l: int, i: int, L: int) -> str:
    if l == 0:
        return "x" + subscript(i + 1)
    if l == L:
        return "y" + subscript(i + 1)
    return "a" + subscript(i + 1) + superscript(f"({l})")


def render_svg(sol: Any, update: int = 0, decimals: int | None = None) -> str:
    """SVG of update ``update`` (0-based): the network with its numbers before and after."""
    from ..errors import GlassnetError

    n_up = len(sol.updates)
    if not 0 <= update < n_up:
        raise GlassnetError(f"--update {update + 1}: this exercise has {n_up} update"
                            f"{'s' if n_up != 1 else ''} (1..{n_up})")
    up = sol.updates[update]
    sizes = sol.layers
    L = sol.n_layers
    tallest = max(sizes)
    # dense layers get their weights as a matrix under the picture, not on crossing edges
    dense = [sizes[l] * sizes[l - 1] > _MAX_EDGE_LABELS for l in range(1, L + 1)]
    block = max([2 * sizes[l + 1] + 3 for l in range(L) if dense[l]] or [0]) * 14
    width = _LEFT * 2 + _DX * L + 60
    height = _TOP + _DY * tallest + 40 + block

    def pos(l: int, i: int) -> tuple[float, float]:
        n = sizes[l]
        y0 = _TOP + _DY / 2 + (tallest - n) * _DY / 2
        return _LEFT + 30 + l * _DX, y0 + i * _DY

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    samples = ", ".join(str(s + 1) for s in up.samples)
    title = sol.exercise.name
    out.append(f'<text x="16" y="24" font-size="15" font-weight="bold">{escape(title)}</text>')
    sub = (f"update {update + 1} of {n_up} — sample{'s' if len(up.samples) > 1 else ''} "
           f"{samples}; η = {_fmt(up.lr)}; loss E = {_fmt(up.loss, decimals=decimals)}"
           f" (before the update)")
    out.append(f'<text x="16" y="44">{escape(sub)}</text>')
    out.append('<text x="16" y="62" fill="#555">edges: w before → after (blue &gt; 0, red &lt; 0)'
               '; neurons: z, a and δ = ∂E/∂z per sample; b: bias before → after</text>')
    wmax = max(float(np.abs(lt.W_after).max()) for lt in up.layers) or 1.0
    # edges first, so neurons are drawn over them
    labels: list[str] = []
    for l in range(1, L + 1):
        lt = up.layers[l - 1]
        n_out, n_in = lt.W.shape
        for i in range(n_out):
            frac = 0.3 + 0.4 * (i / max(1, n_out - 1)) if n_out > 1 else 0.5
            for j in range(n_in):
                (x1, y1), (x2, y2) = pos(l - 1, j), pos(l, i)
                w0, w1 = float(lt.W[i, j]), float(lt.W_after[i, j])
                color = "#1f5fbf" if w1 > 0 else ("#c0392b" if w1 < 0 else "#999999")
                sw = 0.8 + 3.2 * abs(w1) / wmax
                out.append(f'<line x1="{x1 + _R:.1f}" y1="{y1:.1f}" x2="{x2 - _R:.1f}" '
                           f'y2="{y2:.1f}" stroke="{color}" stroke-width="{sw:.2f}" '
                           f'stroke-opacity="0.75"/>')
                if dense[l - 1]:
                    continue
                lx = x1 + _R + (x2 - x1 - 2 * _R) * frac
                ly = y1 + (y2 - y1) * frac - 4
                name = "w" + subscript(f"{i + 1}{j + 1}" if max(n_out, n_in) < 10
                                       else f"{i + 1},{j + 1}") + superscript(f"({l})")
                text = f"{name} {_fmt(w0, decimals=decimals)} → {_fmt(w1, w0, decimals)}"
                labels.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" '
                              f'font-size="11" fill="{color}" stroke="white" stroke-width="3" '
                              f'paint-order="stroke">{escape(text)}</text>')
    out.extend(labels)
    y_block = _TOP + _DY * tallest + 20
    for l in range(1, L + 1):
        if not dense[l - 1]:
            continue
        lt = up.layers[l - 1]
        xc = (pos(l - 1, 0)[0] + pos(l, 0)[0]) / 2
        rows = [f"W{superscript(f'({l})')} before:"]
        rows += ["  ".join(_fmt(v, decimals=decimals) for v in row) for row in lt.W]
        rows += [f"W{superscript(f'({l})')} after:"]
        rows += ["  ".join(_fmt(v, b, decimals) for v, b in zip(row, row0, strict=True))
                 for row, row0 in zip(lt.W_after, lt.W, strict=True)]
        for k, row in enumerate(rows):
            bold = ' font-weight="bold"' if row.endswith(":") else ""
            out.append(f'<text x="{xc:.1f}" y="{y_block + 14 * k:.1f}" text-anchor="middle" '
                       f'font-size="11" fill="#1f3f7f" xml:space="preserve" '
                       f'style="white-space:pre"{bold}>{escape(row)}</text>')
    for l in range(L + 1):
        for i in range(sizes[l]):
            x, y = pos(l, i)
            fill = "#f4f4f4" if l == 0 else ("#fff4dc" if l == L else "#e8f0fb")
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{_R}" fill="{fill}" '
                       f'stroke="#333" stroke-width="1.2"/>')
            out.append(f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" '
                       f'font-size="14">{escape(_node_name(l, i, L))}</text>')
            rows: list[str] = []
            if l == 0:
                rows.append(f"x = {_vals(up.layers[0].x[:, i], decimals)}")
            else:
                lt = up.layers[l - 1]
                rows.append(f"z = {_vals(lt.z[:, i], decimals)}")
                rows.append(f"a = {_vals(lt.a[:, i], decimals)}")
                rows.append(f"δ = {_vals(lt.delta[:, i], decimals)}")
                if l == L:
                    rows.append(f"t = {_vals(up.targets[:, i], decimals)}")
                if lt.b is not None:
                    b0, b1 = float(lt.b[i]), float(lt.b_after[i])
                    btxt = (f"b {_fmt(b0, decimals=decimals)} → {_fmt(b1, b0, decimals)}"
                            if lt.update_bias else f"b {_fmt(b0, decimals=decimals)} (fixed)")
                    out.append(f'<text x="{x:.1f}" y="{y - _R - 6:.1f}" text-anchor="middle" '
                               f'font-size="11" fill="#444" stroke="white" stroke-width="3" '
                               f'paint-order="stroke">{escape(btxt)}</text>')
            for k, row in enumerate(rows):
                out.append(f'<text x="{x:.1f}" y="{y + _R + 14 + 13 * k:.1f}" '
                           f'text-anchor="middle" font-size="11" stroke="white" '
                           f'stroke-width="3" paint-order="stroke">{escape(row)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
