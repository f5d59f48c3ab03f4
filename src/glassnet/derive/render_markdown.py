"""The derivation as Markdown with LaTeX ($$…$$ display maths): GitHub, Jupyter and pandoc
render it."""

from __future__ import annotations

from typing import Any

from ..exercise.formula import Style

__all__ = ["render_markdown"]


def _words(text: str) -> str:
    return text.replace("*", r"\*").replace("_", r"\_")


def render_markdown(d: Any) -> str:
    st = Style("latex")
    spec = d.spec
    head = d.title or (f"Backpropagation for a {'-'.join(map(str, spec.sizes))} network")
    out = [f"# {head}", ""]
    out.append(f"Network {'-'.join(map(str, spec.sizes))}; activations "
               f"{', '.join(spec.activations)}; loss `{spec.loss}`; biases {spec.biases}; "
               f"mode `{spec.mode}`; notation *{d.notation.name}*.")
    if d.description:
        out += ["", _words(" ".join(d.description.split()))]
    for number, step in enumerate(d.steps, start=1):
        out += ["", f"## {number}. {step.title}", ""]
        for line in step.lines:
            if line.kind == "words":
                out += [_words(line.words), ""]
                continue
            latex = line.render(st)
            out += ["$$", latex, "$$", ""]
            if line.because:
                out += [f"*{_words(line.because)}*", ""]
    return "\n".join(out).rstrip() + "\n"
