"""A derivation: the steps, every parameter's proved formula, and the three renderings.

:func:`derive` reads an exercise file (or a loaded exercise, or options such
as ``layers="2,3,1"``), writes every parameter's per-sample gradient in
canonical names (:mod:`~glassnet.derive.expressions`), proves each one with
SymPy (:mod:`~glassnet.derive.proof`), builds the document
(:mod:`~glassnet.derive.steps`) in the reader's notation and, when the file
has numbers, lets the engine solve it so that each formula is followed by
its instance from the engine's trace.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Mapping
from typing import Any

from ..errors import GlassnetError
from .expressions import Gradients
from .notation import Notation, notation_for
from .spec import NetSpec, spec_from_exercise, spec_from_options
from .steps import Step, build_steps

__all__ = ["Derivation", "derive", "load_for_derive", "resolve_parameter", "FORMAT",
           "MAX_JSON_PARAMETERS"]

FORMAT = "glassnet.derive/1"
#: one formula per parameter, each proved: beyond this the JSON is not a document to read
MAX_JSON_PARAMETERS = 120
#: the proof of index formulas for a larger network runs on a copy with this many units per layer
PROOF_WIDTH = 2


class Derivation:
    """A finished derivation. ``steps`` (the document), ``gradients`` (one dict per
    parameter: ``parameter``, ``expression``, ``verified``, …; empty for a network of
    more than ``MAX_JSON_PARAMETERS`` parameters, whose index formulas are proved on a
    smaller copy), ``verification`` (how the proof ran), ``spec``, ``notation``,
    ``solution`` (the engine's worked solution, or None without numbers)."""

    def __init__(self, spec: NetSpec, notation: Notation, steps: list[Step],
                 gradients: list[dict[str, Any]], verification: dict[str, Any],
                 solution: Any = None, title: str | None = None,
                 description: str | None = None):
        self.spec, self.notation, self.steps = spec, notation, steps
        self.gradients, self.verification = gradients, verification
        self.solution, self.title, self.description = solution, title, description

    @property
    def verified(self) -> bool:
        """True when every formula was proved."""
        return bool(self.verification.get("all_verified"))

    def gradient(self, parameter: str) -> dict[str, Any]:
        for g in self.gradients:
            if g["parameter"] == parameter:
                return g
        raise GlassnetError(f"no gradient for {parameter!r} in this derivation")

    def to_dict(self) -> dict[str, Any]:
        """The ``glassnet.derive/1`` object (derive-format.md): one proved formula per parameter.

        Refused (GlassnetError) for a network with more than ``MAX_JSON_PARAMETERS``
        parameters, whose formulas were not written one by one.
        """
        if self.spec.n_parameters > MAX_JSON_PARAMETERS:
            raise GlassnetError(
                f"--format json writes and proves one formula per parameter; this network has "
                f"{self.spec.n_parameters:,} parameters (at most {MAX_JSON_PARAMETERS}); use "
                f"--format text or markdown for its derivation in index form")
        out: dict[str, Any] = {"format": FORMAT, "network": self.spec.to_dict(),
                               "notation": self.notation.to_dict(),
                               "gradients": self.gradients,
                               "steps": [s.to_dict() for s in self.steps],
                               "verification": self.verification}
        if self.title:
            out["title"] = self.title
        return out

    def to_json(self, indent: int | None = 2) -> str:
        import json

        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False,
                          allow_nan=False) + "\n"

    def to_text(self) -> str:
        from .render_text import render_text

        return render_text(self)

    def to_markdown(self) -> str:
        from .render_markdown import render_markdown

        return render_markdown(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __repr__(self) -> str:
        return (f"Derivation({'-'.join(map(str, self.spec.sizes))}, "
                f"{len(self.gradients)} formulas, verified={self.verified})")


# ---------------------------------------------------------------------------- input
_PLACEHOLDER_KEYS = ("learning_rate", "samples")


def load_for_derive(path: str | os.PathLike[str]) -> tuple[Any, bool]:
    """Read an exercise file for ``derive``: (exercise, has_numbers).

    Only the network's shape, activations, bias handling, loss and mode are
    needed; a file without weights, biases' values, learning rate or samples
    is completed with placeholders and validated by the exercise loader (so
    every error names the key path as ``explain`` does), and marked as having
    no numbers.
    """
    from ..exercise.loader import ExerciseError, parse_exercise, read_document

    source = os.fspath(path)
    data = read_document(source)
    if not isinstance(data, Mapping):
        return parse_exercise(data, source=source), True  # the loader's own message
    net = data.get("network")
    has_numbers = (isinstance(net, Mapping) and "weights" in net and "samples" in data
                   and "learning_rate" in data)
    if has_numbers:
        return parse_exercise(data, source=source), True
    for key in ("network", "loss"):
        if key not in data:
            raise ExerciseError(source, key, "missing; derive needs at least network (layers, "
                                             "activation, biases) and loss")
    filled = dict(data)
    if isinstance(net, Mapping):
        net = dict(net)
        if "layers" not in net:
            raise ExerciseError(source, "network.layers", "missing; derive needs the layer "
                                                          "sizes (input first)")
        net.setdefault("weights", 0.0)
        net.setdefault("biases", 0.0)
        filled["network"] = net
    filled.setdefault("learning_rate", 0.1)
    filled.setdefault("mode", "sgd")
    if "samples" not in filled and isinstance(net, Mapping) and isinstance(
            net.get("layers"), (list, tuple)) and net["layers"]:
        sizes = net["layers"]
        try:
            n_in, n_out = int(sizes[0]), int(sizes[-1])
        except (TypeError, ValueError):
            n_in = n_out = 1
        n_in, n_out = max(1, min(n_in, 1024)), max(1, min(n_out, 1024))
        filled["samples"] = [{"x": [0.0] * n_in, "t": [1.0] + [0.0] * (n_out - 1)}]
    filled.pop("answers", None)
    return parse_exercise(filled, source=source), False


_EXPLAIN_PARAM = re.compile(r"^\s*([Wwb])\s*(\d+)\s*[\[(]\s*(\d+)\s*(?:,\s*(\d+)\s*)?[\])]\s*$")


def resolve_parameter(name: str, spec: NetSpec, notation: Notation) -> str:
    """``W_1_1_1``, ``W1[1,1]`` (explain's spelling) or a notation name (``w1``) → ``W_l_i_j``."""
    m = _EXPLAIN_PARAM.match(name)
    if m:
        kind, l, i, j = m.groups()
        canon = (f"W_{l}_{i}_{j}" if kind in "Ww" and j is not None else
                 f"b_{l}_{i}" if kind == "b" and j is None else None)
    else:
        canon = notation.bind(spec.sizes).canonical_name(name)
        if canon and canon.startswith(("dW_", "db_")):
            canon = canon[1:]
    if not canon or not canon.startswith(("W_", "b_")):
        raise GlassnetError(f"--weight {name!r}: expected a parameter such as W_1_1_1, W1[1,1] "
                            f"or a name of the notation (e.g. "
                            f"{notation.bind(spec.sizes).display_name('W_1_1_1')})")
    if canon not in set(spec.parameters()):
        raise GlassnetError(f"--weight {name!r}: no parameter {canon} in a "
                            f"{'-'.join(map(str, spec.sizes))} network"
                            + (" without biases" if not spec.has_biases else ""))
    return canon


# --------------------------------------------------------------------------- derive
def derive(source: Any = None, *, layers: Any = None, activation: Any = None,
           loss: str | None = None, biases: str = "updated", mode: str = "sgd",
           notation: str | None = None, weight: str | None = None,
           prove_formulas: bool = True) -> Derivation:
    """See :func:`glassnet.derive.derive`."""
    from ..exercise.loader import Exercise

    exercise, has_numbers = None, False
    if source is not None:
        if layers is not None or activation is not None or loss is not None:
            raise GlassnetError("give an exercise file or --layers/--activation/--loss, not both")
        if isinstance(source, Exercise):
            exercise, has_numbers = source, True
        else:
            exercise, has_numbers = load_for_derive(source)
        spec = spec_from_exercise(exercise)
    else:
        if layers is None or activation is None or loss is None:
            raise GlassnetError("derive needs an exercise file, or --layers, --activation and "
                                "--loss (e.g. --layers 2,3,1 --activation sigmoid "
                                "--loss half_sse)")
        spec = spec_from_options(layers, activation, loss, biases, mode)
    note = notation_for(exercise if exercise is not None else spec, notation)
    note = note.bind(spec.sizes)
    param = resolve_parameter(weight, spec, note) if weight is not None else None

    # every parameter's formula (exact), and the textbook form where it differs
    small = spec.n_parameters <= MAX_JSON_PARAMETERS
    gradients: dict[str, str] = Gradients(spec).all() if small else {}
    if not small and param is not None:
        gradients[param] = Gradients(spec).gradient(param)
    textbook = None
    if spec.activations[-1] == "softmax" and spec.loss == "cross_entropy" and gradients:
        tb = Gradients(spec, textbook=True)
        textbook = {p: tb.gradient(p) for p in gradients}

    solution = None
    if has_numbers and exercise is not None:
        from ..exercise.solution import solve

        solution = solve(exercise)

    t0 = time.perf_counter()
    verification = _prove(spec, gradients, textbook, prove_formulas)
    verification["seconds"] = round(time.perf_counter() - t0, 3)

    entries = []
    for p, expr in gradients.items():
        entry: dict[str, Any] = {"parameter": p, "expression": expr,
                                 "verified": verification["results"].get(p, False)}
        if textbook is not None:
            entry["textbook_expression"] = textbook[p]
            entry["textbook_verified"] = verification["textbook_results"].get(p, False)
            entry["assumes"] = " + ".join(f"t_{k}" for k in range(1, spec.sizes[-1] + 1)) \
                + " = 1"
        if spec.biases == "frozen" and p.startswith("b_"):
            entry["applied"] = False
        if solution is not None and spec.mode == "sgd":
            value = _engine_value(solution, p)
            if math.isfinite(value):  # a diverged exercise gets no value, never a NaN
                entry["value"] = value
        entries.append(entry)
    verification.pop("results", None)
    verification.pop("textbook_results", None)

    _, steps = build_steps(spec, note, gradients, solution, param)
    steps.append(_verification_step(spec, verification, note.E))
    title = getattr(exercise, "title", None) if exercise is not None else None
    desc = getattr(exercise, "description", None) if exercise is not None else None
    return Derivation(spec, note, steps, entries, verification, solution, title, desc)


def _engine_value(solution: Any, param: str) -> float:
    """∂E/∂param of the first update, from the engine's trace."""
    parts = [int(p) for p in param.split("_")[1:]]
    lt = solution.updates[0].layers[parts[0] - 1]
    if param.startswith("W_"):
        return float(lt.grad_W[parts[1] - 1, parts[2] - 1])
    return float(lt.grad_b[parts[1] - 1])


def _prove(spec: NetSpec, gradients: dict[str, str], textbook: dict[str, str] | None,
           run: bool) -> dict[str, Any]:
    from .proof import LEMMA_TEXT, lemmas, method_for, prove

    out: dict[str, Any] = {"results": {}, "textbook_results": {}}
    if not run:
        out.update(all_verified=False, method="not run")
        return out
    acts = sorted(set(spec.activations))
    lemma_ok = {a: lemmas(a, 0.01 if a != "leaky_relu" else spec.alpha(
        spec.activations.index(a) + 1)) for a in acts}
    if gradients:
        out["results"] = prove(spec, gradients)
        if textbook is not None:
            out["textbook_results"] = prove(spec, textbook, targets_sum_to_one=True)
        proved_on = spec
        index_ok = all(out["results"].values())
    else:
        proved_on = spec.small(PROOF_WIDTH)
        index_ok = all(prove(proved_on, Gradients(proved_on).all()).values())
    out.update(
        all_verified=bool(index_ok and all(lemma_ok.values())
                          and all(out["textbook_results"].values())),
        lemmas={a: {"statement": LEMMA_TEXT[a], "proved": ok} for a, ok in lemma_ok.items()},
        instance=list(proved_on.sizes),
        method=("SymPy: the loss's derivative for every parameter p, by differentiating the "
                "loss through the network, compared "
                "with each formula after substituting the forward definitions; "
                + ("the difference rewritten over one denominator to 0"
                   if method_for(proved_on) == "symbolic" else
                   "the difference evaluated exactly (rational arithmetic) at two random "
                   "points, the Schwartz-Zippel identity test (error probability < 1e-30)")),
        formulas=len(gradients) if gradients else None,
    )
    if not gradients:
        out["note"] = (f"{spec.n_parameters} parameters are more than the "
                       f"{MAX_JSON_PARAMETERS} written one by one; the index formulas were "
                       f"proved on the {'-'.join(map(str, proved_on.sizes))} network of the "
                       f"same depth, activations and loss")
    return out


def _verification_step(spec: NetSpec, v: dict[str, Any], E: str = "E") -> Step:
    """The verification's words, with ``E`` the notation's name of the loss (Nielsen's C)."""
    st = Step("verification", "Verification")
    n = v.get("formulas")
    for name, lem in v.get("lemmas", {}).items():
        st.say(f"Lemma ({name}): {lem['statement']}: " +
               ("proved by SymPy." if lem["proved"] else "NOT proved."))
    if v.get("method") == "not run":
        st.say("The formulas were not checked (proof switched off).")
        return st
    inst = "-".join(map(str, v["instance"]))
    if v["all_verified"]:
        what = f"all {n} formulas (every weight and bias)" if n else "the index formulas"
        st.say(f"Verified: {what} of the {inst} network equal ∂{E}/∂p as SymPy computes it "
               f"by differentiating {E} through the network. Method: {v['method']}.")
    else:
        st.say(f"NOT verified: at least one formula of the {inst} network differs from SymPy's "
               f"∂{E}/∂p. This is a bug in glassnet; please report it.")
    if v.get("note"):
        st.say(v["note"] + ".")
    return st
