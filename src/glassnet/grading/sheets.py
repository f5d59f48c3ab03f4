"""Question sheets, answer keys and blank answer files for generated variants.

Four printable files per variant, in two formats each:

- the **question sheet** (``-question.md`` / ``.tex``): the network, its
  numbers, the samples, the loss, η, the mode, and a table of the quantities
  to compute with the names to write them under. No answer in it.
- the **answer key** (``-key.md`` / ``.tex``): the same, with the values
  (6 significant digits), and in Markdown the engine's worked solution
  (``glassnet explain --format markdown``) after it.
- the **blank answer file** (``answers/ID.yaml``): every asked name with
  ``null``, ready for ``glassnet check --answers`` and ``glassnet grade``.

Every value in a key is read from the engine's trace (:func:`answer_values`),
the numbers ``glassnet explain --format json`` prints; nothing is recomputed.
The LaTeX is plain ASCII and needs only ``article`` and ``amsmath``, so it
compiles with ``pdflatex`` from Debian's ``texlive-latex-base``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["answer_values", "question_markdown", "key_markdown", "question_latex",
           "key_latex", "blank_answers", "key_number", "symbol_latex", "describe"]

_NAME = re.compile(r"^(loss|z|a|delta|dW|db|W|b)(?:_(\d+)_(\d+)(?:_(\d+))?)?$")

_GROUPS = (("Loss", ("loss",)), ("Forward pass", ("z", "a")),
           ("Backward pass", ("delta",)), ("Gradients", ("dW", "db")),
           ("After the update", ("W", "b")))

_LOSS = {
    "half_sse": r"E = \frac{1}{2}\sum_k (y_k - t_k)^2",
    "sse": r"E = \sum_k (y_k - t_k)^2",
    "mse": r"E = \frac{1}{K}\sum_k (y_k - t_k)^2",
    "cross_entropy": r"E = -\sum_k t_k \ln y_k",
    "binary_cross_entropy": r"E = -\sum_k \left[t_k \ln y_k + (1 - t_k)\ln(1 - y_k)\right]",
}
_ACT = {
    "sigmoid": r"\sigma(z) = \frac{1}{1 + e^{-z}}",
    "tanh": r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
    "relu": r"\operatorname{relu}(z) = \max(0, z)",
    "linear": r"f(z) = z",
    "softmax": r"\operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}",
}
_MODE = {
    "sgd": "one SGD step per sample, in order",
    "batch": "one batch update per epoch with the sum of the samples' gradients",
    "batch_mean": "one batch update per epoch with the mean of the samples' gradients",
}
_UPDATE_RULE = r"w \leftarrow w - \eta\, \partial E/\partial w"


# ------------------------------------------------------------------------------- values
def _parse(name: str) -> tuple[str, int, int, int]:
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"not an answer name: {name!r}")
    kind, l, i, j = m.groups()
    return kind, int(l or 0), int(i or 0), int(j or 0)


def answer_values(solution: Any, names: Sequence[str], update: int = 0) -> dict[str, float]:
    """The exact value of every name for one update, read from the engine's trace.

    >>> from glassnet.exercise import parse_exercise, solve
    >>> sol = solve(parse_exercise({
    ...     "network": {"layers": [2, 3, 1], "activation": "sigmoid", "weights": 1,
    ...                 "biases": 1}, "loss": "half_sse", "learning_rate": 0.1,
    ...     "mode": "sgd", "samples": [{"x": [1, 0], "t": [1]}]}))
    >>> v = answer_values(sol, ["loss", "b_1_1"])
    >>> round(v["loss"], 9), round(v["b_1_1"], 7)
    (0.000325667, 1.0000067)
    """
    up = solution.updates[update]
    out: dict[str, float] = {}
    for name in names:
        kind, l, i, j = _parse(name)
        if kind == "loss":
            out[name] = float(up.loss)
            continue
        lt = up.layers[l - 1]
        arr = {"z": lt.z, "a": lt.a, "delta": lt.delta, "dW": lt.grad_W, "db": lt.grad_b,
               "W": lt.W_after, "b": lt.b_after}[kind]
        index = (0, i - 1) if kind in ("z", "a", "delta") else (
            (i - 1, j - 1) if kind in ("dW", "W") else (i - 1,))
        out[name] = float(np.asarray(arr)[index])
    return out


def key_number(v: float) -> str:
    """Six significant digits, fixed-point (no exponent), trailing zeros dropped.

    >>> key_number(0.000325667126), key_number(-0.11849), key_number(1.0000067), key_number(2.0)
    ('0.000325667', '-0.11849', '1.00001', '2')
    """
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    d = max(0, min(15, 5 - math.floor(math.log10(abs(v)))))
    s = f"{v:.{d}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _given(v: float) -> str:
    """A given (nice) number as written in the exercise file."""
    v = float(v) + 0.0
    return str(int(v)) if v.is_integer() else repr(round(v, 10))


def symbol_latex(name: str) -> str:
    r"""The LaTeX symbol of an answer name: ``dW_2_1_3`` → ``\partial E/\partial w^{[2]}_{13}``.

    >>> symbol_latex("z_1_2"), symbol_latex("W_2_1_3")
    ('z^{[1]}_{2}', "w'^{[2]}_{13}")
    """
    kind, l, i, j = _parse(name)
    ij = f"{i}{j}" if i < 10 and j < 10 else f"{i},{j}"
    return {
        "loss": "E",
        "z": f"z^{{[{l}]}}_{{{i}}}",
        "a": f"a^{{[{l}]}}_{{{i}}}",
        "delta": f"\\delta^{{[{l}]}}_{{{i}}}",
        "dW": f"\\partial E/\\partial w^{{[{l}]}}_{{{ij}}}",
        "db": f"\\partial E/\\partial b^{{[{l}]}}_{{{i}}}",
        "W": f"w'^{{[{l}]}}_{{{ij}}}",
        "b": f"b'^{{[{l}]}}_{{{i}}}",
    }[kind]


def describe(name: str) -> str:
    """A short description in words (plain ASCII)."""
    kind, l, i, j = _parse(name)
    return {
        "loss": "loss before the update",
        "z": f"net input of unit {i} of layer {l}",
        "a": f"activation of unit {i} of layer {l}",
        "delta": f"delta = dE/dz of unit {i} of layer {l}",
        "dW": f"gradient of w from unit {j} to unit {i} of layer {l}",
        "db": f"gradient of the bias of unit {i} of layer {l}",
        "W": f"new w from unit {j} to unit {i} of layer {l}",
        "b": f"new bias of unit {i} of layer {l}",
    }[kind]


def _groups(names: Sequence[str]) -> list[tuple[str, list[str]]]:
    out = []
    for title, kinds in _GROUPS:
        members = [n for n in names if _parse(n)[0] in kinds]
        if members:
            out.append((title, members))
    return out


# ------------------------------------------------------------------------- shared parts
def _activation_names(ex: Any) -> list[str]:
    return [a if isinstance(a, str) else str(a.get("name")) for a in ex.activations] \
        if len(ex.activations) == len(ex.layers) - 1 else \
        [str(ex.activations[0])] * (len(ex.layers) - 1)


def _matrix(a: np.ndarray) -> str:
    a = np.atleast_2d(a)
    rows = [" & ".join(_given(v) for v in row) for row in a]
    return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"


def _vector(a: np.ndarray) -> str:
    return "\\begin{bmatrix} " + " \\\\ ".join(_given(v) for v in np.ravel(a)) + \
        " \\end{bmatrix}"


def _facts(variant: Any) -> dict[str, Any]:
    sol = variant.solution
    ex = sol.exercise
    acts = _activation_names(ex)
    return {"ex": ex, "sol": sol, "acts": acts, "L": len(ex.layers) - 1,
            "n_updates": len(sol.updates)}


def _header_lines(variant: Any) -> list[str]:
    v = variant.data.get("variant", {})
    bits = [f"variant {v.get('id', variant.id)}"]
    if variant.student:
        bits.append(f"student {variant.student}")
    bits.append(f"template {v.get('template', '?')}, seed {v.get('seed', '?')}")
    return bits


def _math_blocks(f: dict[str, Any]) -> list[str]:
    """LaTeX (no delimiters) for the parameters, one string per layer."""
    sol, L = f["sol"], f["L"]
    out = []
    for l in range(L):
        s = f"W^{{[{l + 1}]}} = {_matrix(sol.initial_W[l])}"
        if sol.initial_b is not None:
            s += f", \\quad b^{{[{l + 1}]}} = {_vector(sol.initial_b[l])}"
        out.append(s)
    return out


def _training_facts(f: dict[str, Any]) -> tuple[str, str, str]:
    ex = f["ex"]
    mode = _MODE[ex.mode]
    if ex.epochs > 1:
        mode += f", for {ex.epochs} epochs"
    frozen = "" if ex.biases is None or ex.update_biases else " The biases are not updated."
    return _LOSS[ex.loss], mode, frozen


def _samples_words(samples: Sequence[int]) -> str:
    """``(0,)`` → "sample 1"; ``(0, 1)`` → "samples 1, 2"."""
    return ("sample " if len(samples) == 1 else "samples ") + ", ".join(
        str(s + 1) for s in samples)


def _blank_path(variant: Any) -> str:
    return f"answers/{variant.id}.yaml"


# ----------------------------------------------------------------------------- markdown
def _markdown(variant: Any, with_answers: bool) -> str:
    f = _facts(variant)
    ex, sol, L = f["ex"], f["sol"], f["L"]
    kind = "Answer key" if with_answers else "Question sheet"
    lines = [f"# {ex.name}", "", f"*{kind}* · " + " · ".join(_header_lines(variant)), ""]
    lines += ["## The network", ""]
    layer_words = ", ".join(f"layer {l + 1}: {ex.layers[l + 1]} {f['acts'][l]} unit"
                            f"{'s' if ex.layers[l + 1] != 1 else ''}" for l in range(L))
    lines += [f"Input layer 0: {ex.layers[0]} inputs; {layer_words}"
              f"{'' if ex.biases is not None else '; no biases'}.", "",
              "$z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}$, $a^{[l]} = f(z^{[l]})$, $a^{[0]} = x$; "
              "$w^{[l]}_{ij}$ is the weight from unit $j$ of layer $l-1$ to unit $i$ of layer "
              "$l$; $y = a^{[L]}$.", ""]
    for act in dict.fromkeys(f["acts"]):
        if act in _ACT:
            lines.append(f"$${_ACT[act]}$$")
    lines.append("")
    for block in _math_blocks(f):
        lines += ["$$", block, "$$", ""]
    loss, mode, frozen = _training_facts(f)
    red = {"batch": " (summed over the samples of an update)",
           "batch_mean": " (averaged over the samples of an update)"}.get(ex.mode, "")
    lines += ["## Training", "", f"Loss: ${loss}${red}.", "",
              f"Learning rate $\\eta = {_given(ex.learning_rate)}$; {mode}: "
              f"${_UPDATE_RULE}$.", ""]
    if frozen:
        lines += [frozen.strip(), ""]
    lines += ["| sample | x | t |", "|---|---|---|"]
    for s, (x, t) in enumerate(zip(ex.X, ex.T, strict=True), start=1):
        lines.append(f"| {s} | ({', '.join(_given(v) for v in x)}) | "
                     f"({', '.join(_given(v) for v in t)}) |")
    lines += ["", "## Compute", ""]
    for u in range(f["n_updates"]):
        if f["n_updates"] > 1:
            lines += [f"### Update {u + 1} ({_samples_words(sol.updates[u].samples)})", ""]
        values = answer_values(sol, variant.asked, u) if with_answers else {}
        for title, names in _groups(variant.asked):
            lines += [f"**{title}**", "", "| quantity | | name | answer |", "|---|---|---|---|"]
            for n in names:
                answer = key_number(values[n]) if with_answers else ""
                lines.append(f"| ${symbol_latex(n)}$ | {describe(n)} | `{n}` | {answer} |")
            lines.append("")
    if not with_answers:
        lines += [f"Write your answers into `{_blank_path(variant)}` under these names "
                  f"(replace each `null` by your number; quote it, e.g. `\"0.1130\"`, to keep "
                  f"trailing zeros). δ is ∂E/∂z; primed symbols are values after the update.",
                  ""]
    else:
        worked = sol.to_markdown().splitlines()
        if worked and worked[0].startswith("# "):  # its title is this sheet's title
            worked = worked[1:]
        lines += ["## Worked solution (`glassnet explain --format markdown`)", ""]
        lines += [("#" + ln) if ln.startswith("#") else ln for ln in worked]
        lines.append("")
    return "\n".join(lines)


def question_markdown(variant: Any) -> str:
    """The question sheet in Markdown with LaTeX: everything given, nothing computed."""
    return _markdown(variant, with_answers=False)


def key_markdown(variant: Any) -> str:
    """The answer key in Markdown with LaTeX: the questions, the values, the worked solution."""
    return _markdown(variant, with_answers=True)


# -------------------------------------------------------------------------------- LaTeX
_TEX_ESCAPE = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
               "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
               "^": r"\textasciicircum{}"}
_TEX_UNICODE = {"\u2014": "---", "\u2013": "--", "\u00d7": r"$\times$", "\u2212": "-",
                "\u03b7": r"$\eta$", "\u03b4": r"$\delta$", "\u03c3": r"$\sigma$",
                "\u2019": "'", "\u2018": "`", "\u201c": "``", "\u201d": "''", "\u00b7": r"$\cdot$",
                "\u2192": r"$\to$", "\u00bd": r"$\frac12$"}


def tex_escape(text: str) -> str:
    r"""Plain text for LaTeX: specials escaped, a few Unicode signs mapped, the rest dropped.

    >>> tex_escape("2-3-1 sigmoid — 50% & η")
    '2-3-1 sigmoid --- 50\\% \\& $\\eta$'
    """
    out = []
    for ch in text:
        if ch in _TEX_ESCAPE:
            out.append(_TEX_ESCAPE[ch])
        elif ch in _TEX_UNICODE:
            out.append(_TEX_UNICODE[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("?")
    return "".join(out)


def _latex(variant: Any, with_answers: bool) -> str:
    f = _facts(variant)
    ex, sol, L = f["ex"], f["sol"], f["L"]
    kind = "Answer key" if with_answers else "Question sheet"
    out = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath}",
           r"\setlength{\parindent}{0pt}", r"\setlength{\parskip}{0.6em}",
           r"\addtolength{\textwidth}{3cm}", r"\addtolength{\oddsidemargin}{-1.5cm}",
           r"\addtolength{\textheight}{3cm}", r"\addtolength{\topmargin}{-1.5cm}",
           r"\begin{document}", "",
           r"\section*{" + tex_escape(ex.name) + "}",
           r"\emph{" + kind + "} -- " + tex_escape(" -- ".join(_header_lines(variant))), "",
           r"\subsection*{The network}"]
    layer_words = ", ".join(f"layer {l + 1}: {ex.layers[l + 1]} {f['acts'][l]} unit"
                            f"{'s' if ex.layers[l + 1] != 1 else ''}" for l in range(L))
    out += [tex_escape(f"Input layer 0: {ex.layers[0]} inputs; {layer_words}"
                       f"{'' if ex.biases is not None else '; no biases'}."), "",
            r"$z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}$, $a^{[l]} = f(z^{[l]})$, $a^{[0]} = x$; "
            r"$w^{[l]}_{ij}$ is the weight from unit $j$ of layer $l-1$ to unit $i$ of layer "
            r"$l$; $y = a^{[L]}$.", ""]
    for act in dict.fromkeys(f["acts"]):
        if act in _ACT:
            out.append(r"\[ " + _ACT[act] + r" \]")
    for block in _math_blocks(f):
        out.append(r"\[ " + block + r" \]")
    loss, mode, frozen = _training_facts(f)
    red = {"batch": " (summed over the samples of an update)",
           "batch_mean": " (averaged over the samples of an update)"}.get(ex.mode, "")
    out += ["", r"\subsection*{Training}", f"Loss: ${loss}${red}.", "",
            f"Learning rate $\\eta = {_given(ex.learning_rate)}$; {tex_escape(mode)}: "
            f"${_UPDATE_RULE}$.{frozen}", "",
            r"\begin{tabular}{lll}", r"\hline", r"sample & $x$ & $t$ \\", r"\hline"]
    for s, (x, t) in enumerate(zip(ex.X, ex.T, strict=True), start=1):
        out.append(f"{s} & $({', '.join(_given(v) for v in x)})$ & "
                   f"$({', '.join(_given(v) for v in t)})$ \\\\")
    out += [r"\hline", r"\end{tabular}", "", r"\subsection*{Compute}"]
    for u in range(f["n_updates"]):
        if f["n_updates"] > 1:
            out.append(r"\subsubsection*{Update " + f"{u + 1} "
                       f"({_samples_words(sol.updates[u].samples)})" + "}")
        values = answer_values(sol, variant.asked, u) if with_answers else {}
        for title, names in _groups(variant.asked):
            keep = len(names) <= 30  # a short table stays on one page with its heading
            if keep:
                out.append(r"\par\noindent\begin{minipage}{\linewidth}")
            out += [r"\textbf{" + title + "}", "", r"\begin{tabular}{llll}", r"\hline",
                    r"quantity & & name & answer \\", r"\hline"]
            for n in names:
                answer = f"${key_number(values[n])}$" if with_answers else \
                    r"\rule{0pt}{1.6em}\underline{\hspace{2.5cm}}"
                out.append(f"${symbol_latex(n)}$ & {tex_escape(describe(n))} & "
                           f"\\texttt{{{tex_escape(n)}}} & {answer} \\\\")
            out += [r"\hline", r"\end{tabular}"]
            if keep:
                out.append(r"\end{minipage}")
            out += ["", r"\medskip", ""]
    if not with_answers:
        out.append(tex_escape(f"Write your answers into {_blank_path(variant)} under these "
                              f"names. delta is dE/dz; primed symbols are values after the "
                              f"update."))
    else:
        out.append(tex_escape("The worked solution with every formula: glassnet explain "
                              f"exercises/{variant.id}.yaml --format markdown."))
    out += ["", r"\end{document}", ""]
    return "\n".join(out)


def question_latex(variant: Any) -> str:
    """The question sheet as a LaTeX document (article + amsmath, ASCII only)."""
    return _latex(variant, with_answers=False)


def key_latex(variant: Any) -> str:
    """The answer key as a LaTeX document (article + amsmath, ASCII only)."""
    return _latex(variant, with_answers=True)


# ------------------------------------------------------------------------ blank answers
def blank_answers(variant: Any) -> str:
    """The answer file to fill in: ``student``, ``variant`` and every asked name as null."""
    n_updates = len(variant.solution.updates)
    lines = [f"# Answers for variant {variant.id}: replace each null by your number.",
             "# Quote a number to keep its trailing zeros (\"0.1130\"); leave null what you "
             "did not compute.",
             f"# Check one answer file: glassnet check exercises/{variant.id}.yaml "
             f"--answers answers/{variant.id}.yaml"]
    if variant.student:
        lines.append(f"student: {variant.student}")
    else:
        lines.append("student: null    # your name or id")
    lines += [f"variant: {variant.id}", "answers:"]
    if n_updates == 1:
        lines.append("  values:")
        lines += [f"    {n}: null" for n in variant.asked]
    else:
        lines.append("  updates:")
        for u in range(n_updates):
            lines.append(f"    - values:    # update {u + 1}")
            lines += [f"        {n}: null" for n in variant.asked]
    return "\n".join(lines) + "\n"
