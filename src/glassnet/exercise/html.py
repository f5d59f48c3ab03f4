"""``glassnet explain --format html``: one self-contained page that opens offline.

The same steps as the text format (conventions first, every formula with the
numbers substituted), with sub- and superscripts, parameter matrices as
tables, and the SVG picture of the network inline for every update. No
JavaScript, no web fonts, no external files.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .formula import Num, Style
from .numbers import digits_for_update
from .steps import Equation, Heading, KeyValues, Matrix, Note, Picture, iter_document

__all__ = ["render_html"]

_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 72em; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; border-bottom: 2px solid #333; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #999; }
h3 { font-size: 1.1em; margin: 1.2em 0 0.3em; }
h4 { font-size: 1em; margin: 0.8em 0 0.2em; color: #444; }
h5 { font-size: 0.95em; margin: 0.6em 0 0.2em; color: #555; font-style: italic; }
.eq { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.92em;
      margin: 0.15em 0 0.15em 1.5em; white-space: nowrap; overflow-x: auto; }
.note { margin-left: 1.5em; color: #444; }
table.conv td { vertical-align: top; padding: 0.1em 0.8em 0.1em 0; }
table.conv td:first-child { font-weight: bold; white-space: nowrap; }
.matrix { display: inline-flex; align-items: center; margin: 0.3em 1.5em; }
.matrix table { border-left: 2px solid #333; border-right: 2px solid #333;
                border-collapse: separate; border-spacing: 0.9em 0.1em; border-radius: 4px;
                font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.92em; }
.matrix td { text-align: right; }
.picture { overflow-x: auto; margin: 0.5em 0; }
"""


def _matrix_html(node: Matrix, st: Style) -> str:
    values = node.values if node.values.ndim == 2 else node.values[:, None]
    before = None
    if node.before is not None:
        before = node.before if node.before.ndim == 2 else node.before[:, None]
    rows = []
    for i in range(values.shape[0]):
        cells = []
        for j in range(values.shape[1]):
            md = None if before is None else digits_for_update(float(values[i, j]),
                                                               float(before[i, j]))
            cells.append(f"<td>{Num(float(values[i, j]), md).render(st)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="matrix"><span>{node.name.render(st)} =&nbsp;</span>'
            f'<table>{"".join(rows)}</table></div>')


def render_html(sol: Any, decimals: int | None = None) -> str:
    st = Style("html", decimals)
    nodes = iter_document(sol, decimals, pictures=True)
    body: list[str] = []
    for node in nodes:
        if isinstance(node, Heading):
            level = min(node.level + 1, 5)
            body.append(f"<h{level}>{escape(node.text)}</h{level}>")
        elif isinstance(node, Equation):
            body.append(f'<div class="eq">{node.eq.render(st)}</div>')
        elif isinstance(node, Note):
            body.append(f'<p class="note">{escape(node.text)}</p>')
        elif isinstance(node, KeyValues):
            rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>"
                           for k, v in node.items)
            body.append(f'<table class="conv">{rows}</table>')
        elif isinstance(node, Matrix):
            body.append(_matrix_html(node, st))
        elif isinstance(node, Picture):
            svg = sol.to_svg(update=node.update, decimals=decimals)
            body.append(f'<div class="picture">{svg}</div>')
    title = escape(sol.exercise.name)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n<p class=\"note\">Rendered by glassnet explain from the "
            "engine's own trace (float64).</p>\n</body>\n</html>\n")
