"""The derivation for a terminal: numbered steps, one formula per line, the reason beside it."""

from __future__ import annotations

from typing import Any

from ..exercise.formula import Style

__all__ = ["render_text"]


def render_text(d: Any) -> str:
    st = Style("text")
    spec = d.spec
    head = d.title or (f"Backpropagation for a {'-'.join(map(str, spec.sizes))} network")
    out = [head, "=" * len(head)]
    acts = ", ".join(spec.activations)
    out.append(f"activations: {acts}; loss: {spec.loss}; biases: {spec.biases}; "
               f"mode: {spec.mode}")
    if d.description:
        out.append(" ".join(d.description.split()))
    for number, step in enumerate(d.steps, start=1):
        out += ["", f"{number}. {step.title}"]
        for line in step.lines:
            if line.kind == "words":
                out.append(f"   {line.words}")
                continue
            out.append(f"   {line.render(st)}")
            if line.because:
                out.append(f"       ({line.because})")
    out.append("")
    return "\n".join(out)
