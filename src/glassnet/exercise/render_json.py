"""``glassnet explain --format json``: the ``glassnet.explain/1`` object of the contract.

Exactly the keys of ``exercise-format.md`` (format, updates[epoch, samples,
forward, loss, deltas, grad_W, grad_b, W, b], W, b, query), every number at
full float64 precision (Python's shortest round-trip repr), ``b`` and
``grad_b`` null for a network without biases. ``grad_b`` is the gradient the
update applied, as the contract says: zeros for frozen biases, whose computed
∂E/∂b is then given as ``grad_b_computed`` (an extension). Indices (epoch, samples,
class) are 0-based.

>>> from glassnet.exercise import parse_exercise, solve
>>> d = solution_dict(solve(parse_exercise({
...     "network": {"layers": [1, 1], "activation": "linear", "weights": 2, "biases": "none"},
...     "loss": "half_sse", "learning_rate": 0.5, "mode": "sgd",
...     "samples": [{"x": [1], "t": [0]}]})))
>>> d["updates"][0]["loss"], d["W"], d["b"]
(2.0, [[[1.0]]], None)
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FORMAT", "solution_dict", "render_json"]

FORMAT = "glassnet.explain/1"


def _list(a: Any) -> Any:
    return None if a is None else a.tolist()


def _applied(lt: Any) -> list[float]:
    """The bias gradient the update applied: ∂E/∂b, or zeros for a frozen bias."""
    return lt.grad_b.tolist() if lt.update_bias else [0.0] * len(lt.grad_b)


def solution_dict(sol: Any) -> dict[str, Any]:
    """The contract's JSON object as plain Python data."""
    biases = sol.has_biases
    updates = []
    for up in sol.updates:
        updates.append({
            "epoch": int(up.epoch),
            "samples": [int(s) for s in up.samples],
            "forward": [{"z": lt.z.tolist(), "a": lt.a.tolist()} for lt in up.layers],
            "loss": float(up.loss),
            "deltas": [lt.delta.tolist() for lt in up.layers],
            "grad_W": [lt.grad_W.tolist() for lt in up.layers],
            "grad_b": [_applied(lt) for lt in up.layers] if biases else None,
            "W": [lt.W_after.tolist() for lt in up.layers],
            "b": [lt.b_after.tolist() for lt in up.layers] if biases else None,
        })
        if biases and any(not lt.update_bias for lt in up.layers):
            # frozen biases: grad_b is what was applied (0); ∂E/∂b as computed is kept here
            updates[-1]["grad_b_computed"] = [lt.grad_b.tolist() for lt in up.layers]
    out: dict[str, Any] = {
        "format": FORMAT,
        "updates": updates,
        "W": [W.tolist() for W in sol.final_W],
        "b": [b.tolist() for b in sol.final_b] if biases else None,
    }
    if sol.exercise.query is not None:
        out["query"] = [{"x": q.x.tolist(), "output": q.output.tolist(), "class": int(q.cls)}
                        for q in sol.queries]
    return out


def render_json(sol: Any, indent: int | None = 2) -> str:
    """The JSON text: nested objects indented, each innermost list of numbers on one line.

    ``allow_nan=False``: a non-finite number is a bug and is never output.
    ``indent=None`` gives one compact line.
    """
    data = solution_dict(sol)
    if indent is None:
        return json.dumps(data, allow_nan=False, separators=(",", ":")) + "\n"
    return dumps_compact(data, indent) + "\n"


def dumps_compact(obj: Any, indent: int = 2, level: int = 0) -> str:
    """JSON with objects and outer lists indented and innermost lists kept on one line."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{inner}{json.dumps(k, ensure_ascii=False)}: "
                 f"{dumps_compact(v, indent, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (list, dict)) for v in obj):
        items = [inner + dumps_compact(v, indent, level + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False, ensure_ascii=False)
