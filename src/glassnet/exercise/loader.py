"""The exercise loader: a YAML or JSON file in, a validated :class:`Exercise` out.

Why so strict: an exercise file is typed by hand, and a typo that is
silently ignored (``learning_rte: 0.5``) produces a confidently wrong
worked solution. So every key is known, every shape is checked against the
network, and every problem raises :class:`ExerciseError` with one line that
names the file, the key path and what was expected::

    seed004_1a.yaml: network.weights[1]: expected a 1×3 matrix (units of layer 2 × units
    of layer 1), got 2 rows

YAML is read with PyYAML's safe loader, tightened in three ways: a key that
appears twice is an error; numbers follow YAML 1.2 (``1e-5`` is a number,
``010`` is ten, ``1:30`` is text); and every float keeps the text it was
written with (:class:`~glassnet.exercise.numbers.WrittenFloat`), which
``glassnet check`` needs to judge an answer at its written precision. JSON
files (``.json``) are read with the standard library under the same rules.

>>> ex = parse_exercise({
...     "network": {"layers": [2, 1], "activation": "sigmoid", "weights": 0.5, "biases": 0},
...     "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
...     "samples": [{"x": [1, 0], "t": [1]}]})
>>> ex.layers, ex.n_updates, ex.X.tolist()
([2, 1], 1, [[1.0, 0.0]])
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GlassnetError
from ..validate import MAX_INT_DIGITS, describe, printable
from .numbers import WrittenFloat, parse_decimal, written_text

__all__ = ["Exercise", "ExerciseError", "Answer", "load_exercise", "parse_exercise",
           "read_document", "MODES", "LIMITS"]

MODES = ("sgd", "batch", "batch_mean")

#: Exercises are small; these bounds keep a typo (``epochs: 1000000000``) from hanging, and
#: are checked before any work. ``numbers`` caps the numbers a worked solution prints (see
#: :func:`printed_numbers`): measured so that every output format of ``glassnet explain``
#: renders the largest accepted exercise within about 1 GiB and a few seconds
#: (docs/explain.md, "Limits"). ``file_bytes`` caps the exercise file read.
LIMITS = {"units": 1024, "layers": 32, "parameters": 100_000, "samples": 10_000,
          "epochs": 10_000, "updates": 10_000, "queries": 10_000, "numbers": 400_000,
          "file_bytes": 4 * 1024 * 1024}
#: initializer parameters (std, limit, value, mean) beyond this magnitude are refused
INIT_PARAM_MAX = 1e6
#: an answer's magnitude beyond this is absurd for an exercise (and overflows comparisons)
ANSWER_MAX = 1e100
#: an answer written with more characters than this is refused (it would be unreadable)
ANSWER_MAX_CHARS = 64

TOP_KEYS = ("title", "description", "source", "network", "loss", "learning_rate", "mode",
            "epochs", "samples", "query", "answers", "variant", "notation")
NETWORK_KEYS = ("layers", "activation", "weights", "biases", "update_biases")
SAMPLE_KEYS = ("x", "t")
#: answer keys allowed for one update (and, for a one-update exercise, at the top level)
UPDATE_ANSWER_KEYS = ("loss", "outputs", "z", "a", "deltas", "grad_W", "grad_b", "W", "b")
ANSWER_KEYS = UPDATE_ANSWER_KEYS + ("query", "updates", "values", "formulas")
#: grading.md: answers by name (``values``, top level and per update) and formula answers
NAMED_ANSWER_KEYS = ("values",)
QUERY_ANSWER_KEYS = ("output", "class")


class ExerciseError(GlassnetError):
    """A problem with an exercise file: ``FILE: key.path: what was expected, got what``."""

    def __init__(self, source: str, path: str, message: str):
        self.source = source
        self.path = path
        self.message = message
        where = f"{source}: " if source else ""
        where += f"{path}: " if path else ""
        # a key or file name from outside may carry terminal escapes: never print them
        super().__init__(printable(" ".join(f"{where}{message}".split())))


@dataclass(frozen=True)
class Answer:
    """One number from the ``answers`` section, with the text it was written as.

    ``path`` is its key path in the file (``answers.W[0][1][0]``).
    """

    value: float
    text: str
    path: str


@dataclass
class Exercise:
    """A validated exercise: everything the engine needs, in float64 arrays.

    ``weights`` / ``biases`` are a number, a list of arrays (one per
    non-input layer), an initializer dict (``{"init": "glorot_uniform",
    "seed": 0}``), or None (no biases). ``answers`` is the validated
    ``answers`` section (nested dicts and lists of :class:`Answer` and None)
    or None.
    """

    layers: list[int]
    activations: list[Any]
    weights: Any
    biases: Any
    update_biases: bool
    loss: str
    learning_rate: float
    mode: str
    epochs: int
    X: np.ndarray
    T: np.ndarray
    query: np.ndarray | None = None
    answers: dict[str, Any] | None = None
    title: str | None = None
    description: str | None = None
    source_note: str | None = None
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)
    #: the ``notation`` section (a glassnet.derive.notation.Notation), or None
    notation: Any = None

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_updates(self) -> int:
        per_epoch = self.n_samples if self.mode == "sgd" else 1
        return self.epochs * per_epoch

    @property
    def samples_per_update(self) -> int:
        return 1 if self.mode == "sgd" else self.n_samples

    @property
    def name(self) -> str:
        """The title, or the file name without its extension."""
        if self.title and self.title.strip():
            return " ".join(self.title.split())
        base = os.path.basename(self.source) if self.source else "exercise"
        return printable(os.path.splitext(base)[0])


# ----------------------------------------------------------------------------- reading
def read_document(path: str | os.PathLike[str], what: str = "exercise file") -> Any:
    """Read a YAML or JSON file into plain Python objects (safe loaders only).

    Raises :class:`ExerciseError` for a path that is missing, not a regular file
    (``/dev/zero``, a pipe) or larger than ``LIMITS["file_bytes"]`` (checked before
    reading; ``what`` names the file in that message), and for text that is not
    UTF-8, not valid YAML/JSON, or has a duplicated key.
    """
    from ..validate import ValidationError, read_input_file

    source = os.fspath(path)
    try:  # exists, a regular file (not /dev/zero or a pipe), at most LIMITS["file_bytes"]
        data = read_input_file(source, LIMITS["file_bytes"], what)
    except ValidationError as exc:
        raise ExerciseError("", "", str(exc)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExerciseError(source, "", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                                        f"offset {exc.start}); expected a YAML or JSON file") \
            from None
    if source.lower().endswith(".json"):
        return _read_json(text, source)
    return _read_yaml(text, source)


def _read_json(text: str, source: str) -> Any:
    import json

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise _Duplicate(key)
            out[key] = value
        return out

    def parse_int(digits: str) -> int | HugeInteger:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:  # never converted (see HugeInteger)
            return HugeInteger(digits)
        return int(digits)

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_float=WrittenFloat,
                          parse_constant=WrittenFloat, parse_int=parse_int)
    except _Duplicate as dup:
        raise ExerciseError(source, "", f"duplicate key {dup.key!r}; each key may appear once") \
            from None
    except json.JSONDecodeError as exc:
        raise ExerciseError(source, "", f"line {exc.lineno}, column {exc.colno}: not valid JSON "
                                        f"({exc.msg})") from None
    except RecursionError:
        raise ExerciseError(source, "", "nested too deeply to be an exercise") from None


class _Duplicate(Exception):
    def __init__(self, key: str):
        self.key = key


class HugeInteger:
    """An integer written with more than ``MAX_INT_DIGITS`` digits, left unconverted.

    Converting a 5000-digit string costs quadratic time (Python refuses beyond 4300
    digits); no exercise needs one, so the readers keep only its length, and every
    validator refuses it as "not a number" with the key path where it was written.
    """

    def __init__(self, digits: str):
        self.digits = len(digits.lstrip("-+"))

    def __repr__(self) -> str:
        return f"an integer with {self.digits} digits"


_YAML_LOADER: Any = None


def _yaml_loader() -> Any:
    """A SafeLoader subclass: YAML 1.2 numbers, written float text kept, duplicate keys refused."""
    global _YAML_LOADER
    if _YAML_LOADER is not None:
        return _YAML_LOADER
    import yaml

    int_tag, float_tag = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"

    # the libyaml parser when PyYAML has it (10x faster), with the safe constructor either way
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type,misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key_node.value!r}", key_node.start_mark)
                    seen[key] = True
            return super().construct_mapping(node, deep=deep)

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (int_tag, float_tag)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(int_tag, re.compile(r"^[-+]?[0-9][0-9_]*$"),
                                 list("-+0123456789"))
    Loader.add_implicit_resolver(
        float_tag,
        re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                   r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        list("-+0123456789."))

    def construct_int(loader: Any, node: Any) -> int | HugeInteger:
        digits = loader.construct_scalar(node).replace("_", "")
        if len(digits.lstrip("-+")) > MAX_INT_DIGITS:  # never converted (see HugeInteger)
            return HugeInteger(digits)
        return int(digits, 10)

    def construct_float(loader: Any, node: Any) -> float:
        return WrittenFloat(loader.construct_scalar(node))

    Loader.add_constructor(int_tag, construct_int)
    Loader.add_constructor(float_tag, construct_float)
    _YAML_LOADER = Loader
    return Loader


def _read_yaml(text: str, source: str) -> Any:
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ExerciseError(source, "", f"{where}not valid YAML/JSON ({problem})") from None
    except yaml.YAMLError as exc:
        raise ExerciseError(source, "", f"not valid YAML/JSON ({exc})") from None
    except (ValueError, OverflowError) as exc:  # a number the constructors cannot build
        raise ExerciseError(source, "", f"not valid YAML/JSON ({exc})") from None
    except RecursionError:
        raise ExerciseError(source, "", "nested too deeply to be an exercise") from None


def load_exercise(path: str | os.PathLike[str]) -> Exercise:
    """Read and validate an exercise file (YAML or JSON); see :func:`parse_exercise`."""
    source = os.fspath(path)
    return parse_exercise(read_document(source), source=source)


# -------------------------------------------------------------------------- validation
class _Checker:
    """Validation helpers that know the file name, so every error can name it."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, message: str) -> ExerciseError:
        return ExerciseError(self.source, path, message)

    def mapping(self, value: Any, path: str, allowed: Sequence[str],
                required: Sequence[str] = ()) -> Mapping[str, Any]:
        what = "the file" if not path else path
        if not isinstance(value, Mapping):
            keys = ", ".join(required or allowed)
            raise self.fail(path, f"expected a mapping with keys {keys}, got {_describe(value)}"
                            if path else f"expected a mapping (an exercise with keys {keys}), "
                                         f"got {_describe(value)}")
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                hint = ""
                if isinstance(key, str):
                    close = difflib.get_close_matches(key, allowed, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(_join(path, str(key)),
                                f"unknown key{hint}; {what} allows: {', '.join(allowed)}")
        for key in required:
            if key not in value:
                hint = " (write 'biases: none' for a network without biases)" \
                    if key == "biases" else ""
                raise self.fail(_join(path, key), f"missing; {what} requires: "
                                                  f"{', '.join(required)}{hint}")
        return value

    def number(self, value: Any, path: str, *, minimum: float | None = None,
               integer: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "an integer" if integer else "a number"
            raise self.fail(path, f"expected {kind}, got {_describe(value)}")
        try:
            f = float(value)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise self.fail(path, f"expected a finite number, got {written_text(value)}")
        if integer and not isinstance(value, int):
            raise self.fail(path, f"expected an integer, got {written_text(value)}")
        if minimum is not None and f < minimum:
            raise self.fail(path, f"expected a number >= {minimum:g}, got {written_text(value)}")
        return f

    def vector(self, value: Any, path: str, length: int, meaning: str) -> np.ndarray:
        if length == 1 and not isinstance(value, (list, tuple)):
            return np.array([self.number(value, path)], dtype=np.float64)
        if not isinstance(value, (list, tuple)):
            raise self.fail(path, f"expected a list of {length} numbers ({meaning}), "
                                  f"got {_describe(value)}")
        if len(value) != length:
            raise self.fail(path, f"expected {length} numbers ({meaning}), got {len(value)}")
        return np.array([self.number(v, f"{path}[{i}]") for i, v in enumerate(value)],
                        dtype=np.float64)

    def matrix(self, value: Any, path: str, rows: int, cols: int, meaning: str) -> np.ndarray:
        shape = f"a {rows}×{cols} matrix ({meaning})"
        if not isinstance(value, (list, tuple)):
            raise self.fail(path, f"expected {shape}, got {_describe(value)}")
        if len(value) != rows:
            raise self.fail(path, f"expected {shape}, got {len(value)} row"
                                  f"{'' if len(value) == 1 else 's'}")
        out = np.empty((rows, cols), dtype=np.float64)
        for i, row in enumerate(value):
            if not isinstance(row, (list, tuple)):
                if cols == 1 and isinstance(row, (int, float)) and not isinstance(row, bool):
                    out[i, 0] = self.number(row, f"{path}[{i}]")
                    continue
                raise self.fail(f"{path}[{i}]", f"expected a list of {cols} numbers (row {i} "
                                                f"of {shape}), got {_describe(row)}")
            if len(row) != cols:
                raise self.fail(f"{path}[{i}]", f"expected {cols} numbers in row {i} of {shape},"
                                                f" got {len(row)}")
            for j, v in enumerate(row):
                out[i, j] = self.number(v, f"{path}[{i}][{j}]")
        return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    """What a bad value is, in words (validate.describe, plus the loader's huge integers)."""
    if isinstance(value, HugeInteger):
        return f"{value!r} (at most {MAX_INT_DIGITS} are allowed)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return written_text(value)
    return describe(value)


def parse_exercise(data: Any, source: str = "") -> Exercise:
    """Validate already-parsed YAML/JSON data (a dict) into an :class:`Exercise`."""
    c = _Checker(source)
    if data is None:
        raise c.fail("", "the file is empty; expected an exercise (keys network, loss, "
                         "learning_rate, mode, samples)")
    top = c.mapping(data, "", TOP_KEYS,
                    required=("network", "loss", "learning_rate", "mode", "samples"))
    texts = {}
    for key in ("title", "description", "source"):
        if key in top and top[key] is not None:
            if not isinstance(top[key], str):
                raise c.fail(key, f"expected text, got {_describe(top[key])}")
            # control characters (ANSI escapes, bidi overrides) never reach an output
            texts[key] = printable(top[key], keep_newlines=key == "description")

    if top.get("variant") is not None:  # written by `glassnet generate` (grading/generate.py)
        _variant(c, top["variant"])
    net = c.mapping(top["network"], "network", NETWORK_KEYS,
                    required=("layers", "activation", "weights", "biases"))
    layers = _layers(c, net["layers"])
    _check_parameters(c, layers)
    n_layers = len(layers) - 1
    activations = _activations(c, net["activation"], n_layers)
    weights = _params(c, net["weights"], "network.weights", layers, matrix=True)
    biases_spec = net["biases"]
    if biases_spec is None or (isinstance(biases_spec, str) and biases_spec.lower() == "none"):
        biases = None
    else:
        biases = _params(c, biases_spec, "network.biases", layers, matrix=False)
    update_biases = True
    if "update_biases" in net:
        if not isinstance(net["update_biases"], bool):
            raise c.fail("network.update_biases", f"expected true or false, got "
                                                  f"{_describe(net['update_biases'])}")
        update_biases = net["update_biases"]

    loss = _loss(c, top["loss"])
    _check_domain(c, loss, activations[-1], layers[-1])
    learning_rate = c.number(top["learning_rate"], "learning_rate", minimum=0.0)
    mode = top["mode"]
    if mode not in MODES:
        close = difflib.get_close_matches(str(mode), MODES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise c.fail("mode", f"expected one of {', '.join(MODES)}{hint}, got {_describe(mode)}")
    epochs = 1
    if "epochs" in top:
        epochs = int(c.number(top["epochs"], "epochs", minimum=1, integer=True))
        if epochs > LIMITS["epochs"]:
            raise c.fail("epochs", f"expected at most {LIMITS['epochs']} epochs for an exercise, "
                                   f"got {epochs}")

    X, T = _samples(c, top["samples"], layers, loss)
    per_epoch = len(X) if mode == "sgd" else 1
    if epochs * per_epoch > LIMITS["updates"]:
        raise c.fail("epochs", f"{epochs} epochs of {per_epoch} update(s) is more than the "
                               f"{LIMITS['updates']} updates an exercise may have")
    query = None
    if "query" in top and top["query"] is not None:
        query = _query(c, top["query"], layers[0])
    _check_numbers(c, layers, len(X), mode, epochs, 0 if query is None else len(query))

    ex = Exercise(
        layers=layers, activations=activations, weights=weights, biases=biases,
        update_biases=update_biases, loss=loss, learning_rate=learning_rate, mode=mode,
        epochs=epochs, X=X, T=T, query=query, title=texts.get("title"),
        description=texts.get("description"), source_note=texts.get("source"),
        source=source, raw=dict(top),
    )
    if "notation" in top and top["notation"] is not None:  # symbols for glassnet derive
        from ..derive.notation import parse_notation

        ex.notation = parse_notation(top["notation"], source)
    if "answers" in top and top["answers"] is not None:
        ex.answers = _answers(c, top["answers"], ex)
    return ex


def _variant(c: _Checker, value: Any) -> None:
    """``variant``: which generated variant this is (id, student, seed, ...): a mapping of text,
    integers and lists of text, kept in ``Exercise.raw`` for ``glassnet grade``."""
    if not isinstance(value, Mapping):
        raise c.fail("variant", f"expected a mapping such as {{id: v01, student: ann}}, got "
                                f"{_describe(value)}")
    for key, item in value.items():
        if not isinstance(key, str):
            raise c.fail("variant", f"expected text keys, got {_describe(key)}")
        ok = (isinstance(item, (str, int)) and not isinstance(item, bool)) or (
            isinstance(item, (list, tuple)) and all(isinstance(v, str) for v in item))
        if item is not None and not ok:
            raise c.fail(f"variant.{key}", f"expected text, an integer or a list of text, got "
                                           f"{_describe(item)}")


def parameter_count(layers: Sequence[int]) -> int:
    """Weights and biases of a dense network with these layer sizes."""
    return sum(layers[l] * layers[l + 1] + layers[l + 1] for l in range(len(layers) - 1))


def printed_numbers(layers: Sequence[int], n_samples: int, mode: str, epochs: int,
                    n_query: int = 0) -> int:
    """An upper estimate of the numbers the text worked solution prints: its size.

    Every sample of an update shows its forward pass (each z as Σ w·x + b, numbers
    substituted), its deltas (each hidden δ as Σ w·δ · f'(z)) and its share of every
    gradient: about 5 numbers per weight and 15 per unit; every update shows each
    parameter's gradient total and its update (about 8 numbers per parameter). Fitted
    on counted outputs; time and memory of every output format of ``glassnet explain``
    grow in proportion (measurements in docs/explain.md, "Limits").
    """
    params = parameter_count(layers)
    weights, units = params - sum(layers[1:]), sum(layers[1:])
    per_sample = 5 * weights + 15 * units + 20
    per_update_samples = 1 if mode == "sgd" else n_samples
    updates = epochs * (n_samples if mode == "sgd" else 1)
    return (updates * (8 * params + per_update_samples * per_sample) + 2 * params
            + n_query * per_sample)


def _check_parameters(c: _Checker, layers: list[int]) -> None:
    n = parameter_count(layers)
    if n > LIMITS["parameters"]:
        raise c.fail("network.layers", f"{n} weights and biases; an exercise may have at most "
                                       f"{LIMITS['parameters']} (its worked solution prints "
                                       f"every one of them for every update)")


def _check_numbers(c: _Checker, layers: list[int], n_samples: int, mode: str, epochs: int,
                   n_query: int) -> None:
    n = printed_numbers(layers, n_samples, mode, epochs, n_query)
    if n > LIMITS["numbers"]:
        updates = epochs * (n_samples if mode == "sgd" else 1)
        raise c.fail("epochs" if updates > 1 else "network.layers",
                     f"the worked solution would print {n} numbers ({updates} update"
                     f"{'s' if updates != 1 else ''} of a network with "
                     f"{parameter_count(layers)} parameters); an exercise may print at most "
                     f"{LIMITS['numbers']}: use fewer epochs, samples or units")


def _check_domain(c: _Checker, loss: str, activation: Any, units: int) -> None:
    """A log loss after an output that can leave its domain (tanh + cross_entropy): refused."""
    from ..activations import get_activation
    from ..losses import get_loss

    try:
        get_loss(loss).check_output(get_activation(activation), units)
    except GlassnetError as exc:
        raise c.fail("loss", str(exc)) from None


def _layers(c: _Checker, value: Any) -> list[int]:
    path = "network.layers"
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise c.fail(path, f"expected a list of at least 2 layer sizes (input layer first), got "
                           f"{_describe(value)}")
    if len(value) > LIMITS["layers"] + 1:
        raise c.fail(path, f"expected at most {LIMITS['layers'] + 1} layers for an exercise, "
                           f"got {len(value)}")
    sizes = []
    for i, v in enumerate(value):
        n = c.number(v, f"{path}[{i}]", integer=True, minimum=1)
        if n > LIMITS["units"]:
            raise c.fail(f"{path}[{i}]", f"expected at most {LIMITS['units']} units for an "
                                         f"exercise, got {int(n)}")
        sizes.append(int(n))
    return sizes


def _activations(c: _Checker, value: Any, n_layers: int) -> list[Any]:
    from ..activations import get_activation

    path = "network.activation"
    if isinstance(value, (list, tuple)):
        if len(value) != n_layers:
            raise c.fail(path, f"expected one activation per non-input layer ({n_layers}), "
                               f"got {len(value)}")
        items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
    else:
        items = [(path, value)] * n_layers
    out = []
    for l, (p, spec) in enumerate(items):
        if isinstance(spec, Mapping):
            spec = dict(spec)
            if not all(isinstance(k, str) for k in spec):
                raise c.fail(p, "expected an activation name or {name: ..., parameters}")
        elif not isinstance(spec, str):
            raise c.fail(p, f"expected an activation name (sigmoid, tanh, relu, linear, "
                            f"softmax, ...), got {_describe(spec)}")
        try:
            act = get_activation(spec)
        except GlassnetError as exc:
            raise c.fail(p, str(exc)) from None
        if not act.elementwise and l < n_layers - 1:
            raise c.fail(p, f"{act.name} is only supported on the output layer (layer "
                            f"{n_layers}), not on hidden layer {l + 1}")
        out.append(spec)
    return out


def _loss(c: _Checker, value: Any) -> str:
    from ..losses import get_loss

    if not isinstance(value, str):
        raise c.fail("loss", f"expected a loss name (half_sse, sse, mse, cross_entropy, "
                             f"binary_cross_entropy), got {_describe(value)}")
    try:
        return get_loss(value).name
    except GlassnetError as exc:
        raise c.fail("loss", str(exc)) from None


def _params(c: _Checker, spec: Any, path: str, layers: list[int], matrix: bool) -> Any:
    kind = "matrix" if matrix else "vector"
    n_layers = len(layers) - 1
    if isinstance(spec, bool):
        raise c.fail(path, f"expected a number, a list with one {kind} per non-input layer, or "
                           f"an initializer {{init: name, seed: 0}}, got {_describe(spec)}")
    if isinstance(spec, (int, float)):
        return c.number(spec, path)
    if isinstance(spec, Mapping):
        return _initializer(c, spec, path)
    if not isinstance(spec, (list, tuple)):
        extra = " or none" if not matrix else ""
        raise c.fail(path, f"expected a number, a list with one {kind} per non-input layer, an "
                           f"initializer {{init: name, seed: 0}}{extra}, got {_describe(spec)}")
    if len(spec) != n_layers:
        raise c.fail(path, f"expected one {kind} per non-input layer ({n_layers}), "
                           f"got {len(spec)}")
    arrays = []
    for l, value in enumerate(spec):
        p = f"{path}[{l}]"
        units, prev = layers[l + 1], layers[l]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shape = (units, prev) if matrix else (units,)
            arrays.append(np.full(shape, c.number(value, p)))
        elif matrix:
            arrays.append(c.matrix(value, p, units, prev,
                                   f"units of layer {l + 1} × units of layer {l}"))
        else:
            arrays.append(c.vector(value, p, units, f"one per unit of layer {l + 1}"))
    return arrays


def _initializer(c: _Checker, spec: Mapping[str, Any], path: str) -> dict[str, Any]:
    from ..initializers import INITIALIZERS, get_initializer

    params = dict(spec)
    name = params.pop("init", None)
    if name is None:
        name = params.pop("name", None)
    if not isinstance(name, str):
        raise c.fail(f"{path}.init", f"expected an initializer name ({', '.join(INITIALIZERS)}),"
                                     f" got {_describe(name)}")
    seed = params.pop("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise c.fail(f"{path}.seed", f"expected a non-negative integer, got {_describe(seed)}")
    from ..validate import Real, ValidationError, validate

    for key in params:
        if not isinstance(key, str):
            raise c.fail(path, f"unknown key {key!r}")
        try:  # e.g. limit: 1e308 would overflow the generator's range (high − low)
            validate(params[key], Real(max_abs=INIT_PARAM_MAX), "")
        except ValidationError as exc:
            raise c.fail(f"{path}.{key}", str(exc).lstrip(": ")) from None
    try:
        init = get_initializer({"init": name, **params})
    except GlassnetError as exc:
        raise c.fail(path, str(exc)) from None
    return {"init": init.name, "seed": seed, **init.params}


def _samples(c: _Checker, value: Any, layers: list[int], loss: str) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    if not isinstance(value, (list, tuple)) or not value:
        raise c.fail("samples", f"expected a non-empty list of samples {{x: [...], t: [...]}}, "
                                f"got {_describe(value)}")
    if len(value) > LIMITS["samples"]:
        raise c.fail("samples", f"expected at most {LIMITS['samples']} samples for an exercise, "
                                f"got {len(value)}")
    n_in, n_out = layers[0], layers[-1]
    X = np.empty((len(value), n_in))
    T = np.empty((len(value), n_out))
    for s, sample in enumerate(value):
        p = f"samples[{s}]"
        sample = c.mapping(sample, p, SAMPLE_KEYS, required=SAMPLE_KEYS)
        X[s] = c.vector(sample["x"], f"{p}.x", n_in, "one per input unit")
        T[s] = c.vector(sample["t"], f"{p}.t", n_out, "one per output unit")
        _check_target(c, T[s], f"{p}.t", loss)
    return X, T


def _check_target(c: _Checker, t: np.ndarray, path: str, loss: str) -> None:
    if loss == "cross_entropy":
        if (t < 0).any():
            i = int(np.argmax(t < 0))
            raise c.fail(f"{path}[{i}]", f"a cross_entropy target must be a probability "
                                         f"vector (entries >= 0, sum 1), got {t[i]:g}")
        if abs(t.sum() - 1.0) > 1e-9:
            raise c.fail(path, f"a cross_entropy target must sum to 1 (a probability vector, "
                               f"e.g. one-hot), got sum {t.sum():.12g}")
    elif loss == "binary_cross_entropy":
        bad = (t < 0) | (t > 1)
        if bad.any():
            i = int(np.argmax(bad))
            raise c.fail(f"{path}[{i}]", f"a binary_cross_entropy target must be between 0 and "
                                         f"1, got {t[i]:g}")


def _query(c: _Checker, value: Any, n_in: int) -> np.ndarray:
    if not isinstance(value, (list, tuple)) or not value:
        raise c.fail("query", f"expected a list of input vectors, e.g. [[1, 0]], got "
                              f"{_describe(value)}")
    if len(value) > LIMITS["queries"]:
        raise c.fail("query", f"expected at most {LIMITS['queries']} query points")
    if n_in > 1 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise c.fail("query", f"expected a list of input vectors (a list of lists, e.g. "
                              f"[{list(value)}]), got a single list of numbers")
    return np.array([c.vector(v, f"query[{i}]", n_in, "one per input unit")
                     for i, v in enumerate(value)], dtype=np.float64)


# ----------------------------------------------------------------------------- answers
def _answers(c: _Checker, value: Any, ex: Exercise) -> dict[str, Any]:
    top = c.mapping(value, "answers", ANSWER_KEYS)
    out: dict[str, Any] = {}
    single = {k: top[k] for k in UPDATE_ANSWER_KEYS if k in top}
    per_update_only = [k for k in single if k not in ("W", "b")]
    if per_update_only and ex.n_updates > 1:
        k = per_update_only[0]
        raise c.fail(f"answers.{k}", f"this exercise has {ex.n_updates} updates, so a "
                                     f"top-level {k!r} is ambiguous; give it per update under "
                                     f"answers.updates[i].{k} (W and b at the top level mean "
                                     f"the final parameters)")
    out.update(_update_answers(c, single, "answers", ex, final=True))
    if "updates" in top and top["updates"] is not None:
        ups = top["updates"]
        if not isinstance(ups, (list, tuple)):
            raise c.fail("answers.updates", f"expected a list with one mapping per update, got "
                                            f"{_describe(ups)}")
        if len(ups) > ex.n_updates:
            raise c.fail("answers.updates", f"this exercise has {ex.n_updates} update(s), got "
                                            f"{len(ups)} entries")
        out["updates"] = []
        for u, entry in enumerate(ups):
            p = f"answers.updates[{u}]"
            if entry is None:
                out["updates"].append(None)
                continue
            entry = c.mapping(entry, p, UPDATE_ANSWER_KEYS + NAMED_ANSWER_KEYS)
            out["updates"].append(_update_answers(c, entry, p, ex, final=False))
    if "query" in top and top["query"] is not None:
        out["query"] = _query_answers(c, top["query"], ex)
    if top.get("values") is not None:
        out["values"] = _answer_values(c, top["values"], "answers.values")
    if top.get("formulas") is not None:
        out["formulas"] = _answer_formulas(c, top["formulas"], "answers.formulas")
    return out


_NAME = re.compile(r"^[^\s\[\]{}:,]{1,64}$")


def _answer_values(c: _Checker, value: Any, path: str) -> dict[str, Answer | None]:
    """``values``: a flat mapping name → number (names are resolved by glassnet.grading)."""
    if not isinstance(value, Mapping):
        raise c.fail(path, f"expected a mapping from a name to a number (W_2_1_1: 1.0077), got "
                           f"{_describe(value)}")
    out: dict[str, Answer | None] = {}
    for name, v in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise c.fail(path, f"expected names such as loss, a_2_1, W_2_1_1, got {name!r}")
        out[name] = _answer_number(c, v, f"{path}.{name}")
    return out


def _answer_formulas(c: _Checker, value: Any, path: str) -> dict[str, str]:
    """``formulas``: a mapping name → formula text, checked symbolically by ``check``."""
    if not isinstance(value, Mapping):
        raise c.fail(path, f"expected a mapping from a name to a formula (delta_2_1: "
                           f"\"(a_2_1 - t_1)*a_2_1*(1 - a_2_1)\"), got {_describe(value)}")
    out: dict[str, str] = {}
    for name, v in value.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise c.fail(path, f"expected names such as delta_2_1, got {name!r}")
        if v is None:
            continue
        if not isinstance(v, str) or not v.strip() or len(v) > 2000:
            raise c.fail(f"{path}.{name}", f"expected a formula as text (at most 2000 "
                                           f"characters), got {_describe(v)}")
        out[name] = v
    return out


def _update_answers(c: _Checker, entry: Mapping[str, Any], path: str, ex: Exercise,
                    final: bool) -> dict[str, Any]:
    layers = ex.layers
    S = ex.samples_per_update
    L = len(layers) - 1
    out: dict[str, Any] = {}
    for key, value in entry.items():
        p = f"{path}.{key}"
        if value is None:
            continue
        if key == "loss":
            out[key] = _answer_number(c, value, p)
        elif key == "values":
            out[key] = _answer_values(c, value, p)
        elif key == "outputs":
            out[key] = _answer_samples(c, value, p, S, layers[-1], "output unit")
        elif key in ("z", "a", "deltas"):
            if not isinstance(value, (list, tuple)) or len(value) != L:
                raise c.fail(p, f"expected one entry per non-input layer ({L}), got "
                                f"{_describe(value)}")
            out[key] = [None if v is None else
                        _answer_samples(c, v, f"{p}[{l}]", S, layers[l + 1],
                                        f"unit of layer {l + 1}")
                        for l, v in enumerate(value)]
        elif key in ("W", "grad_W", "b", "grad_b"):
            matrix = key in ("W", "grad_W")
            if not matrix and ex.biases is None:
                raise c.fail(p, "this network has no biases (network.biases is none)")
            if not isinstance(value, (list, tuple)) or len(value) != L:
                raise c.fail(p, f"expected one {'matrix' if matrix else 'vector'} per "
                                f"non-input layer ({L}), got {_describe(value)}")
            shapes = [(layers[l + 1], layers[l]) if matrix else (layers[l + 1],)
                      for l in range(L)]
            out[key] = [None if v is None else _answer_array(c, v, f"{p}[{l}]", shapes[l])
                        for l, v in enumerate(value)]
    return out


def _answer_samples(c: _Checker, value: Any, path: str, S: int, units: int,
                    unit_name: str) -> list[Any]:
    """Per-sample values of an update, shape (S, units); a flat list is accepted when S == 1."""
    if S == 1 and isinstance(value, (list, tuple)) and value and not any(
            isinstance(v, (list, tuple)) for v in value):
        return _answer_array(c, [value], path, (1, units), flat_ok=True)
    return _answer_array(c, value, path, (S, units))


def _answer_array(c: _Checker, value: Any, path: str, shape: tuple[int, ...],
                  flat_ok: bool = False) -> Any:
    if len(shape) == 0:
        return _answer_number(c, value, path)
    if value is None:
        return None
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        # one number for a whole layer: every entry has that value (like network.weights)
        return _broadcast(_answer_number(c, value, path), shape)
    n = shape[0]
    if not isinstance(value, (list, tuple)):
        dims = "×".join(str(s) for s in shape)
        raise c.fail(path, f"expected a list of {n} (shape {dims}), got {_describe(value)}")
    if len(value) != n:
        dims = "×".join(str(s) for s in shape)
        raise c.fail(path, f"expected {n} {'entry' if n == 1 else 'entries'} (shape {dims}), "
                           f"got {len(value)}")
    if flat_ok:  # value is [row] wrapped by us: report paths without the artificial [0]
        return [_answer_array(c, value[0], path, shape[1:])]
    return [_answer_array(c, v, f"{path}[{i}]", shape[1:]) for i, v in enumerate(value)]


def _broadcast(answer: Any, shape: tuple[int, ...]) -> Any:
    if not shape:
        return answer
    return [_broadcast(answer, shape[1:]) for _ in range(shape[0])]


def _answer_number(c: _Checker, value: Any, path: str) -> Answer | None:
    if value is None:
        return None
    if isinstance(value, str):
        if "_" in value:  # a written answer is graded on its digits: "1_000" is not how one
            raise c.fail(path, f"expected a number written with digits only, got {value!r} "
                               f"(leave out the '_')")
        d = parse_decimal(value)
        if d is None:
            raise c.fail(path, f"expected a number (or a number in quotes, e.g. \"1.0000065\"), "
                               f"got {_describe(value)}")
        f = float(d)
        if not math.isfinite(f):
            raise c.fail(path, f"expected a finite number, got {value!r}")
        text = value.strip().replace("\u2212", "-")
        _guard_answer(c, f, text, path)
        return Answer(f, text, path)
    f = c.number(value, path)
    _guard_answer(c, f, written_text(value), path)
    return Answer(f, written_text(value), path)


def _guard_answer(c: _Checker, value: float, text: str, path: str) -> None:
    """Refuse answers that no comparison can judge: absurd magnitudes, absurd precision.

    ``"0e9"`` is the number 0 written to the nearest 10⁹, so it would claim every value
    within ±5·10⁸; a zero must be written with its precision (0, 0.0, 0.000).
    """
    if len(text) > ANSWER_MAX_CHARS:
        raise c.fail(path, f"an answer of {len(text)} characters; write at most "
                           f"{ANSWER_MAX_CHARS}")
    if abs(value) > ANSWER_MAX:
        raise c.fail(path, f"expected a number of magnitude at most {ANSWER_MAX:g}, got "
                           f"{text}")
    d = parse_decimal(text)
    if d is None:
        return
    if d != 0 and not -400 <= d.adjusted() <= 400:
        raise c.fail(path, f"expected a number representable in float64, got {text}")
    exponent = d.as_tuple().exponent
    if d == 0 and isinstance(exponent, int) and exponent > 0:
        raise c.fail(path, f"{text} is 0 written to the nearest 10^{exponent}: it would claim "
                           f"every value within ±5·10^{exponent - 1}; write 0, 0.0, 0.00, ...")


def _query_answers(c: _Checker, value: Any, ex: Exercise) -> list[Any]:
    if ex.query is None:
        raise c.fail("answers.query", "the exercise has no query points (add a top-level "
                                      "'query' list)")
    n_q = len(ex.query)
    if not isinstance(value, (list, tuple)) or len(value) != n_q:
        raise c.fail("answers.query", f"expected one entry per query point ({n_q}), got "
                                      f"{_describe(value)}")
    out: list[Any] = []
    K = ex.layers[-1]
    for q, entry in enumerate(value):
        p = f"answers.query[{q}]"
        if entry is None:
            out.append(None)
            continue
        entry = c.mapping(entry, p, QUERY_ANSWER_KEYS)
        item: dict[str, Any] = {}
        if entry.get("output") is not None:
            item["output"] = _answer_array(c, entry["output"], f"{p}.output", (K,)) \
                if isinstance(entry["output"], (list, tuple)) or K != 1 \
                else [_answer_number(c, entry["output"], f"{p}.output")]
        if entry.get("class") is not None:
            cls = entry["class"]
            n_classes = 2 if K == 1 else K
            if isinstance(cls, bool) or not isinstance(cls, int) or not 0 <= cls < n_classes:
                raise c.fail(f"{p}.class", f"expected a class index 0..{n_classes - 1}, got "
                                           f"{_describe(cls)}")
            item["class"] = Answer(float(cls), str(cls), f"{p}.class")
        out.append(item)
    return out
