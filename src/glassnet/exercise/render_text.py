"""``glassnet explain --format text``: the worked solution as a terminal answer key.

Conventions first (loss, reduction, learning rate, biases, deltas), then for
every update the forward pass, the loss, the output and hidden deltas, the
gradients and the new parameters, each as a formula with the numbers
substituted, e.g. ``z₁⁽¹⁾ = w₁₁⁽¹⁾x₁ + w₁₂⁽¹⁾x₂ + b₁⁽¹⁾ = 0.5·1 + (−0.25)·0 + 0.1 = 0.6``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .formula import Num, Style
from .numbers import digits_for_update
from .steps import Equation, Heading, KeyValues, Matrix, Note, Picture, iter_document

__all__ = ["render_text", "render_nodes_text", "matrix_lines"]


def matrix_lines(name: str, values: np.ndarray, st: Style,
                 before: np.ndarray | None = None) -> list[str]:
    """``W⁽¹⁾ = ⎡…⎤`` over several lines (a vector prints on one line in parentheses)."""
    def cell(idx: tuple[int, ...]) -> str:
        v = float(values[idx])
        md = None if before is None else digits_for_update(v, float(before[idx]))
        return Num(v, md).render(st)

    if values.ndim == 1:
        return [f"{name} = (" + ", ".join(cell((i,)) for i in range(len(values))) + ")"]
    rows = [[cell((i, j)) for j in range(values.shape[1])] for i in range(values.shape[0])]
    widths = [max(len(r[j]) for r in rows) for j in range(values.shape[1])]
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    pad = " " * (len(name) + 3)
    if len(body) == 1:
        return [f"{name} = [{body[0]}]"]
    out = []
    for k, line in enumerate(body):
        left, right = ("⎡", "⎤") if k == 0 else (("⎣", "⎦") if k == len(body) - 1 else ("⎢", "⎥"))
        out.append((f"{name} = " if k == 0 else pad) + f"{left}{line}{right}")
    return out


def render_nodes_text(nodes: Iterable[Any], st: Style) -> str:
    """Print document nodes with indentation that follows the heading levels."""
    lines: list[str] = []
    stack: list[int] = []

    def indent() -> str:
        return "  " * (1 + len(stack))

    for node in nodes:
        if isinstance(node, Heading):
            if node.level <= 1:
                stack.clear()
                if lines:
                    lines.append("")
                lines.append(node.text)
                lines.append(("=" if node.level == 0 else "-") * len(node.text))
                continue
            while stack and stack[-1] >= node.level:
                stack.pop()
            if node.level == 2:
                lines.append("")
            lines.append(indent() + node.text)
            stack.append(node.level)
        elif isinstance(node, Equation):
            lines.append(indent() + node.eq.render(st))
        elif isinstance(node, Note):
            lines.append(indent() + node.text)
        elif isinstance(node, KeyValues):
            width = max(len(k) for k, _ in node.items)
            for k, v in node.items:
                lines.append(f"{indent()}{k.ljust(width)}  {v}")
        elif isinstance(node, Matrix):
            for line in matrix_lines(node.name.render(st), node.values, st, node.before):
                lines.append(indent() + line)
        elif isinstance(node, Picture):
            continue
    return "\n".join(lines) + "\n"


def render_text(sol: Any, decimals: int | None = None) -> str:
    """The worked solution for a terminal."""
    st = Style("text", decimals)
    return render_nodes_text(iter_document(sol, decimals), st)
