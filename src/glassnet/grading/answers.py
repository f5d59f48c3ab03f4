"""Answers: an answers file (a student's sheet), and every answered number given its quantity.

A student hands in a short sheet, not a copy of the exercise::

    student: ann
    answers:
      values:
        loss: 0.113
        a_2_1: 0.525
        delta_2_1: -0.1185
        W_2_1_1: 1.0077

:func:`load_answers` reads it (YAML or JSON; keys ``student``, ``variant``,
``answers``; anything else is an error naming the key). :func:`resolve`
turns an ``answers`` section (the exercise-format.md nested lists and the
``values`` of grading.md, at the top level or per update) into one
:class:`Given` per answered number: its quantity
(:class:`~glassnet.grading.followthrough.Q`), its canonical name, and the
number as written.

Names: ``loss``, ``z_l_i``, ``a_l_i``, ``delta_l_i``, ``dW_l_i_j``,
``db_l_i``, ``W_l_i_j``, ``b_l_i`` (layers 1..L, units from 1), and the names
of the exercise's notation (seed 004's ``w7``, ``b1``, ``a4``) through
:func:`glassnet.derive.notation.notation_for` when that module is present.

>>> from glassnet.exercise import parse_exercise
>>> ex = parse_exercise({
...     "network": {"layers": [2, 1], "activation": "sigmoid", "weights": 0.5, "biases": 0},
...     "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
...     "samples": [{"x": [1, 0], "t": [1]}],
...     "answers": {"values": {"W_1_1_1": "0.51"}, "a": [[0.62]]}})
>>> [(g.name, g.answer.text) for g in resolve(ex, ex.answers)]
[('a_1_1', '0.62'), ('W_1_1_1', '0.51')]
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exercise.check import walk_answers
from ..exercise.loader import Answer, ExerciseError
from .followthrough import Q

__all__ = ["AnswerSheet", "Given", "load_answers", "parse_answer_sheet", "resolve",
           "canonical_name", "SHEET_KEYS", "parse_canonical"]

SHEET_KEYS = ("student", "variant", "answers")

_CANONICAL = re.compile(r"^(loss|z|a|delta|dW|db|W|b)(?:_(\d+))?(?:_(\d+))?(?:_(\d+))?$")
_ARITY = {"loss": 0, "z": 2, "a": 2, "delta": 2, "dW": 3, "db": 2, "W": 3, "b": 2}


@dataclass
class AnswerSheet:
    """An answers file: ``student`` (text or None), ``variant`` (text or None), ``answers``
    (the raw ``answers`` mapping, validated against an exercise by :func:`check_answers`)
    and ``source`` (the file name)."""

    student: str | None
    variant: str | None
    answers: dict[str, Any] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Given:
    """One answered number: its quantity, canonical name, label (with the update) and text."""

    q: Q
    name: str
    label: str
    answer: Answer


def load_answers(path: str | os.PathLike[str]) -> AnswerSheet:
    """Read an answers file (YAML or JSON) into an :class:`AnswerSheet`.

    Raises :class:`~glassnet.exercise.ExerciseError` (a GlassnetError) naming the file and
    the key for a malformed file. The ``answers`` section is checked against the exercise
    later, by :func:`~glassnet.grading.check_answers`.
    """
    from ..exercise.loader import read_document

    source = os.fspath(path)
    return parse_answer_sheet(read_document(source, "answers file"), source)


def parse_answer_sheet(data: Any, source: str = "") -> AnswerSheet:
    """Validate an already-parsed answers document (see :func:`load_answers`)."""
    if data is None:
        raise ExerciseError(source, "", "the file is empty; expected a mapping with 'answers' "
                                        "(and optionally 'student', 'variant')")
    if not isinstance(data, Mapping):
        raise ExerciseError(source, "", "expected a mapping with 'answers' (and optionally "
                                        "'student', 'variant')")
    for key in data:
        if key not in SHEET_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), SHEET_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExerciseError(source, str(key), f"unknown key{hint}; an answers file allows: "
                                                  f"{', '.join(SHEET_KEYS)}")
    texts: dict[str, str | None] = {}
    for key in ("student", "variant"):
        value = data.get(key)
        if value is not None and not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ExerciseError(source, key, "expected a text (an id or a name)")
        texts[key] = None if value is None else str(value)
    answers = data.get("answers")
    if answers is None:
        raise ExerciseError(source, "answers", "missing; an answers file needs an 'answers' "
                                               "mapping (values: {name: number}, ...)")
    if not isinstance(answers, Mapping):
        raise ExerciseError(source, "answers", "expected a mapping (values: {name: number}, "
                                               "loss, W, b, updates, ...)")
    return AnswerSheet(texts["student"], texts["variant"], dict(answers), source)


# ------------------------------------------------------------------------------- names
def parse_canonical(name: str) -> tuple[str, list[int]] | None:
    """``"W_2_1_3"`` → ``("W", [2, 1, 3])`` (1-based), or None if not a canonical name."""
    m = _CANONICAL.match(name)
    if not m:
        return None
    kind = m.group(1)
    idx = [int(x) for x in m.groups()[1:] if x is not None]
    if len(idx) != _ARITY[kind]:
        return None
    return kind, idx


def canonical_name(exercise: Any, name: str) -> str | None:
    """The canonical name of ``name``: itself if canonical, else the exercise notation's, else
    None. The notation comes from :mod:`glassnet.derive.notation` when it is installed."""
    if parse_canonical(name) is not None:
        return name
    try:
        from ..derive.notation import notation_for
    except ImportError:
        return None
    try:
        out = notation_for(exercise).canonical_name(name)
    except Exception:  # noqa: BLE001 - a notation that cannot read the name does not know it
        return None
    return out if isinstance(out, str) and parse_canonical(out) is not None else None


def _label(name: str, u: int, n_updates: int, s: int | None, many: bool) -> str:
    label = name if n_updates == 1 else f"update {u + 1}: {name}"
    if many and s is not None:
        label += f" [sample {s + 1}]"
    return label


def _q_of(exercise: Any, kind: str, idx: list[int], u: int, path: str,
          source: str | None = None) -> Q:
    """Check a canonical name's indices against the exercise; 0-based Q."""
    source = exercise.source if source is None else source
    sizes = exercise.layers
    L = len(sizes) - 1
    if kind == "loss":
        return Q(u, "loss")
    l = idx[0]
    if not 1 <= l <= L:
        raise ExerciseError(source, path, f"layer {l} does not exist; layers are "
                                                   f"numbered 1..{L} (the input layer is 0)")
    units = sizes[l]
    i = idx[1]
    if not 1 <= i <= units:
        raise ExerciseError(source, path, f"layer {l} has units 1..{units}, got {i}")
    if kind in ("b", "db") and exercise.biases is None:
        raise ExerciseError(source, path, "this network has no biases")
    if kind in ("W", "dW"):
        j = idx[2]
        if not 1 <= j <= sizes[l - 1]:
            raise ExerciseError(source, path, f"layer {l - 1} has units "
                                                       f"1..{sizes[l - 1]}, got {j}")
        return Q(u, kind, l - 1, 0, i - 1, j - 1)
    if kind in ("z", "a", "delta") and exercise.samples_per_update > 1:
        key = "deltas" if kind == "delta" else kind
        raise ExerciseError(source, path, f"{kind}_l_i names one sample's value; this "
                                          f"exercise's updates have "
                                          f"{exercise.samples_per_update} samples, so give "
                                          f"{kind} per sample with the nested lists ('{key}')")
    return Q(u, kind, l - 1, 0, i - 1)


# --------------------------------------------------------------------------- resolving
_NESTED = {"z": "z", "a": "a", "deltas": "delta", "grad_W": "dW", "grad_b": "db", "W": "W",
           "b": "b"}


def _entry_givens(exercise: Any, entry: Mapping[str, Any], u: int, path: str,
                  source: str) -> list[Given]:
    n_up = exercise.n_updates
    many = exercise.samples_per_update > 1
    out: list[Given] = []
    for key, nested in entry.items():
        if key in ("updates", "query", "formulas") or nested is None:
            continue
        if key == "loss":
            out.append(Given(Q(u, "loss"), "loss", _label("loss", u, n_up, None, False), nested))
        elif key == "outputs":
            L = len(exercise.layers) - 1
            for (s, k), ans in walk_answers(nested):
                name = f"a_{L}_{k + 1}"
                out.append(Given(Q(u, "a", L - 1, s, k), name, _label(name, u, n_up, s, many),
                                 ans))
        elif key in _NESTED:
            kind = _NESTED[key]
            for idx, ans in walk_answers(nested):
                if kind in ("z", "a", "delta"):
                    l, s, i = idx
                    name = f"{kind}_{l + 1}_{i + 1}"
                    q = Q(u, kind, l, s, i)
                    out.append(Given(q, name, _label(name, u, n_up, s, many), ans))
                elif kind in ("dW", "W"):
                    l, i, j = idx
                    name = f"{kind}_{l + 1}_{i + 1}_{j + 1}"
                    out.append(Given(Q(u, kind, l, 0, i, j), name, _label(name, u, n_up, None,
                                                                          False), ans))
                else:
                    l, i = idx
                    name = f"{kind}_{l + 1}_{i + 1}"
                    out.append(Given(Q(u, kind, l, 0, i), name, _label(name, u, n_up, None,
                                                                       False), ans))
        elif key == "values":
            for raw_name, ans in nested.items():
                if ans is None:
                    continue
                p = f"{path}.values.{raw_name}"
                name = canonical_name(exercise, raw_name)
                if name is None:
                    raise ExerciseError(source, p, "unknown name; use loss, z_l_i, "
                                                            "a_l_i, delta_l_i, dW_l_i_j, "
                                                            "db_l_i, W_l_i_j, b_l_i (layers "
                                                            "1..L, units from 1) or a name of "
                                                            "the exercise's notation")
                kind, idx = parse_canonical(name)  # type: ignore[misc]
                q = _q_of(exercise, kind, idx, u, p, source)
                if kind not in ("W", "b") and n_up > 1 and path == "answers":
                    raise ExerciseError(source, p, "ambiguous: this exercise has "
                                                            f"{n_up} updates; give it under "
                                                            "answers.updates[i].values")
                label = _label(name, u, n_up, None, False)
                if raw_name != name:
                    label += f" ({raw_name})"
                out.append(Given(q, name, label, ans))
    return out


def resolve(exercise: Any, answers: Mapping[str, Any] | None,
            source: str | None = None) -> list[Given]:
    """Every answered number of a validated ``answers`` section, with its quantity.

    Top-level entries mean the last update (W and b: the final parameters); entries of
    ``updates[u]`` mean update u. A number answered twice is an error. ``source`` names the
    answers file in error messages (default: the exercise file).
    """
    if not answers:
        return []
    source = exercise.source if source is None else source
    n_up = exercise.n_updates
    givens = _entry_givens(exercise, answers, n_up - 1, "answers", source)
    for u, entry in enumerate(answers.get("updates") or []):
        if entry:
            givens += _entry_givens(exercise, entry, u, f"answers.updates[{u}]", source)
    seen: dict[Q, Given] = {}
    for g in givens:
        if g.q in seen:
            raise ExerciseError(source, g.answer.path,
                                f"{g.name} is answered twice (also at {seen[g.q].answer.path})")
        seen[g.q] = g
    return givens
