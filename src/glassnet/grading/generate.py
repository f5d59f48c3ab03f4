"""``glassnet generate``: exercise variants with fresh, nice numbers for every student.

A *template* is an exercise file in which ``network.weights``,
``network.biases`` and ``samples`` may be left out (or given as ``null`` for
one layer only), plus an optional ``generate`` section that says how to draw
them (see ``docs/teaching.md``)::

    generate:
      weights: {range: [-1, 1], decimals: 1, nonzero: true}
      biases:  {range: [-0.5, 0.5], decimals: 1}
      inputs:  {values: [0, 0.5, 1]}
      targets: {values: [0, 1]}          # one-hot for a softmax / cross_entropy output
      learning_rate: {values: [0.1, 0.5, 1]}
      samples: 1                         # samples per variant (--samples overrides)
      ask: [loss, z, a, delta, dW, db, W, b]
      max_abs_z: 4                       # no saturated sigmoid / tanh unit
      min_gradient: 0.001                # no gradient zero (or nearly) by accident

What is given in the template is fixed; what is left out is drawn. Every
candidate is solved by the engine (:func:`glassnet.exercise.solve`) and kept
only when it is *nice*: every drawn number has at most ``decimals`` decimals
(2 at most), no sigmoid/tanh unit has |z| > ``max_abs_z`` for any sample,
every ReLU unit has z > 0 for at least one sample of every update and no z
sits on the kink, and every gradient is at least ``min_gradient`` in size
unless the exercise makes it zero (an input that is 0 in every sample of
the update, a frozen bias). Variants are pairwise different.

Reproducible: the numbers of variant ``i`` (or of student ``s``) come from a
``numpy.random.Generator`` seeded with a SHA-256 hash of ``(seed, i)`` (or
``(seed, s)``), so the same seed gives the same files, ``--count 30``
extends ``--count 20`` without changing the first 20, and a student keeps
their variant whatever the class list around them.

>>> template = {"network": {"layers": [2, 2, 1], "activation": "sigmoid"},
...             "loss": "half_sse", "learning_rate": 0.5, "mode": "sgd"}
>>> a = generate_variants(template, count=2, seed=7)
>>> b = generate_variants(template, count=2, seed=7)
>>> [v.data == w.data for v, w in zip(a, b)], a[0].data != a[1].data
([True, True], True)
>>> a[0].id, a[0].data["variant"]["id"], a[0].asked[:3]
('v01', 'v01', ['loss', 'z_1_1', 'z_1_2'])
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GlassnetError

__all__ = ["GenerateError", "NumberSpec", "Template", "Variant", "load_template",
           "parse_template", "generate_variants", "write_variants", "variant_rng",
           "asked_names", "KINDS", "read_student_ids"]

#: quantity kinds a template may ask for, in sheet order
KINDS = ("loss", "z", "a", "delta", "dW", "db", "W", "b")
#: kinds that name one sample's values (only for one-sample updates, grading.md)
PER_SAMPLE = ("z", "a", "delta")
GENERATE_KEYS = ("weights", "biases", "inputs", "targets", "learning_rate", "samples", "ask",
                 "max_abs_z", "min_gradient", "attempts")
NUMBER_KEYS = ("range", "decimals", "nonzero", "values")
MAX_DECIMALS = 2
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class GenerateError(GlassnetError):
    """A problem with a template or with the options of ``glassnet generate``."""


# ------------------------------------------------------------------------ number specs
@dataclass(frozen=True)
class NumberSpec:
    """How to draw one kind of number: from ``values``, or on a grid over ``range``.

    A grid number is ``k / 10**decimals`` for an integer k, so it is written
    with at most ``decimals`` decimals; ``nonzero`` leaves 0 out.

    >>> spec = NumberSpec(lo=-1, hi=1, decimals=1, nonzero=True)
    >>> x = spec.draw(np.random.default_rng(0), (1000,))
    >>> bool((x != 0).all()), float(x.min()) >= -1, float(x.max()) <= 1
    (True, True, True)
    >>> bool(np.allclose(x * 10, np.round(x * 10)))
    True
    """

    lo: float = -1.0
    hi: float = 1.0
    decimals: int = 1
    nonzero: bool = False
    values: tuple[float, ...] | None = None

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.values is not None:
            return np.asarray(self.values, dtype=np.float64)[
                rng.integers(0, len(self.values), size=shape)]
        scale = 10 ** self.decimals
        k_lo, k_hi = math.ceil(self.lo * scale - 1e-9), math.floor(self.hi * scale + 1e-9)
        k = rng.integers(k_lo, k_hi + 1, size=shape)
        if self.nonzero:  # redraw the zeros (the grid has at least one other value)
            while (k == 0).any():
                k = np.where(k == 0, rng.integers(k_lo, k_hi + 1, size=shape), k)
        return np.round(k / scale, self.decimals) + 0.0  # + 0.0: no -0.0


def _number_spec(value: Any, path: str, default: NumberSpec) -> NumberSpec:
    if value is None:
        return default
    if not isinstance(value, Mapping):
        raise GenerateError(f"{path}: expected a mapping {{range: [lo, hi], decimals: 1}} or "
                            f"{{values: [...]}}, got {type(value).__name__}")
    for key in value:
        if key not in NUMBER_KEYS:
            raise GenerateError(f"{path}.{key}: unknown key; allowed: {', '.join(NUMBER_KEYS)}")
    if "values" in value:
        vals = value["values"]
        if not isinstance(vals, (list, tuple)) or not vals or not all(
                _is_number(v) for v in vals):
            raise GenerateError(f"{path}.values: expected a non-empty list of numbers")
        for v in vals:
            _check_decimals(float(v), f"{path}.values")
        return NumberSpec(values=tuple(float(v) for v in vals))
    lo, hi = default.lo, default.hi
    if "range" in value:
        r = value["range"]
        if not (isinstance(r, (list, tuple)) and len(r) == 2 and all(_is_number(v) for v in r)
                and float(r[0]) < float(r[1])):
            raise GenerateError(f"{path}.range: expected [lo, hi] with lo < hi, got {r!r}")
        lo, hi = float(r[0]), float(r[1])
    decimals = value.get("decimals", default.decimals)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or \
            not 0 <= decimals <= MAX_DECIMALS:
        raise GenerateError(f"{path}.decimals: expected an integer 0..{MAX_DECIMALS} (nice "
                            f"numbers), got {decimals!r}")
    nonzero = value.get("nonzero", default.nonzero)
    if not isinstance(nonzero, bool):
        raise GenerateError(f"{path}.nonzero: expected true or false, got {nonzero!r}")
    scale = 10 ** decimals
    n = math.floor(hi * scale + 1e-9) - math.ceil(lo * scale - 1e-9) + 1
    has_zero = math.ceil(lo * scale - 1e-9) <= 0 <= math.floor(hi * scale + 1e-9)
    if n - (nonzero and has_zero) < 2:
        raise GenerateError(f"{path}: the range [{lo:g}, {hi:g}] with {decimals} decimal(s) "
                            f"holds fewer than 2 numbers; widen it or allow more decimals")
    return NumberSpec(lo=lo, hi=hi, decimals=decimals, nonzero=nonzero)


def _plain(value: Any) -> Any:
    """Plain Python data (floats, not the loader's WrittenFloat): copyable, dumpable."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return float(value)
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def _check_decimals(v: float, path: str) -> None:
    if abs(round(v, MAX_DECIMALS) - v) > 1e-12:
        raise GenerateError(f"{path}: {v!r} has more than {MAX_DECIMALS} decimals (nice "
                            f"numbers only)")


# ---------------------------------------------------------------------------- template
@dataclass
class Template:
    """A parsed template: the fixed exercise parts and how to draw the rest."""

    base: dict[str, Any]
    layers: list[int]
    activations: list[str]
    loss: str
    mode: str
    weights: NumberSpec
    biases: NumberSpec
    inputs: NumberSpec
    targets: NumberSpec | None  # None: one-hot targets
    learning_rates: tuple[float, ...] | None
    n_samples: int
    ask: list[str]
    max_abs_z: float = 4.0
    min_gradient: float = 1e-3
    attempts: int = 2000
    name: str = "template"
    fixed_weights: list[Any] = field(default_factory=list)  # per layer: array or None (draw)
    fixed_biases: list[Any] | None = field(default_factory=list)  # None: no biases
    fixed_samples: Any = None

    @property
    def varies(self) -> bool:
        return (any(w is None for w in self.fixed_weights)
                or (self.fixed_biases is not None and any(b is None for b in self.fixed_biases))
                or self.fixed_samples is None or self.learning_rates is not None)


def load_template(path: str | os.PathLike[str], samples: int | None = None) -> Template:
    """Read a template file (YAML or JSON); see :func:`parse_template`."""
    from ..exercise.loader import read_document

    source = os.fspath(path)
    name = os.path.splitext(os.path.basename(source))[0]
    return parse_template(read_document(source, "template file"), name=name, source=source,
                          samples=samples)


def parse_template(data: Any, *, name: str = "template", source: str = "",
                   samples: int | None = None) -> Template:
    """Validate a template (a dict) and work out what to draw.

    The fixed parts are validated by the exercise loader itself: the template
    is completed with placeholder numbers and parsed, so a template error
    reads exactly like an exercise error (file, key path, what was expected).
    """
    from ..exercise.loader import parse_exercise

    where = f"{source}: " if source else ""
    if not isinstance(data, Mapping):
        raise GenerateError(f"{where}expected a template (an exercise mapping), got "
                            f"{type(data).__name__}")
    data = _plain(data)
    base = {k: v for k, v in data.items() if k != "generate"}
    gen = data.get("generate") or {}
    if not isinstance(gen, Mapping):
        raise GenerateError(f"{where}generate: expected a mapping")
    for key in gen:
        if key not in GENERATE_KEYS:
            raise GenerateError(f"{where}generate.{key}: unknown key; allowed: "
                                f"{', '.join(GENERATE_KEYS)}")
    for key in ("answers", "variant"):
        base.pop(key, None)
    net = base.get("network")
    if not isinstance(net, Mapping):
        raise GenerateError(f"{where}network: missing; a template needs network.layers and "
                            f"network.activation")
    net = dict(net)
    base["network"] = net
    learning_rates = None
    if gen.get("learning_rate") is not None:
        lr = _number_spec(gen["learning_rate"], f"{where}generate.learning_rate", NumberSpec())
        if lr.values is None or any(v <= 0 for v in lr.values):
            raise GenerateError(f"{where}generate.learning_rate: expected {{values: [...]}} "
                                f"with positive numbers")
        learning_rates = lr.values
        base.setdefault("learning_rate", learning_rates[0])
    # validate the fixed parts with the real loader, placeholders for the rest
    probe = copy.deepcopy(base)
    probe["network"].setdefault("weights", 0.5)
    if probe["network"].get("weights") is None:
        probe["network"]["weights"] = 0.5
    w_spec = net.get("weights")
    if isinstance(w_spec, list):
        probe["network"]["weights"] = [0.5 if w is None else w for w in w_spec]
    b_spec = net.get("biases", "draw")
    probe["network"]["biases"] = 0.1 if b_spec == "draw" else (
        [0.1 if b is None else b for b in b_spec] if isinstance(b_spec, list) else b_spec)
    layers_raw = net.get("layers")
    if "samples" not in base or base.get("samples") is None:
        try:
            n_in, n_out = int(layers_raw[0]), int(layers_raw[-1])
        except (TypeError, ValueError, IndexError, KeyError):
            n_in = n_out = 1
        probe["samples"] = [{"x": [0.5] * max(n_in, 1),
                             "t": [1.0] + [0.0] * max(n_out - 1, 0)}]
    ex = parse_exercise(probe, source=source)
    layers, loss, mode = ex.layers, ex.loss, ex.mode
    acts = [a if isinstance(a, str) else str(a.get("name")) for a in ex.activations]
    acts = acts if len(acts) == len(layers) - 1 else acts * (len(layers) - 1)
    L = len(layers) - 1

    if isinstance(ex.weights, dict) or isinstance(ex.biases, dict):
        raise GenerateError(f"{where}network: an initializer draws arbitrary numbers; leave "
                            f"the weights out to have nice ones drawn")

    def per_layer(spec: Any, parsed: Any, matrix: bool) -> list[Any]:
        """Per layer: the fixed array, or None where the template leaves it to be drawn."""
        if spec is None or spec == "draw":
            return [None] * L
        shapes = [(layers[l + 1], layers[l]) if matrix else (layers[l + 1],) for l in range(L)]
        if not isinstance(parsed, list):  # one number for every entry
            parsed = [np.full(shape, float(parsed)) for shape in shapes]
        if isinstance(spec, list):
            return [None if s is None else np.asarray(arr, dtype=np.float64)
                    for s, arr in zip(spec, parsed, strict=True)]
        return [np.asarray(arr, dtype=np.float64) for arr in parsed]

    fixed_w = per_layer(w_spec, ex.weights, True)
    fixed_b = None if ex.biases is None else per_layer(b_spec, ex.biases, False)
    fixed_samples = None
    if base.get("samples") is not None:
        fixed_samples = (ex.X, ex.T)

    out_act, out_loss = acts[-1], loss
    one_hot = out_act == "softmax" or out_loss == "cross_entropy"
    default_t = {"sigmoid": NumberSpec(values=(0.0, 1.0)), "tanh": NumberSpec(values=(-1.0, 1.0))
                 }.get(out_act, NumberSpec(lo=-1, hi=1, decimals=1))
    if out_loss == "binary_cross_entropy":
        default_t = NumberSpec(values=(0.0, 1.0))
    targets = None if one_hot else _number_spec(gen.get("targets"), f"{where}generate.targets",
                                                default_t)
    if one_hot and gen.get("targets") is not None:
        raise GenerateError(f"{where}generate.targets: a {out_act}/{out_loss} output takes "
                            f"one-hot targets; leave generate.targets out")
    n = samples if samples is not None else gen.get("samples")
    if n is None:
        n = 1 if mode == "sgd" else 2
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 20:
        what = "--samples" if samples is not None else f"{where}generate.samples"
        raise GenerateError(f"{what}: expected an integer 1..20, got {n!r}")
    if fixed_samples is not None:
        n = len(fixed_samples[0])
    per_update = 1 if mode == "sgd" else n
    ask = _ask(gen.get("ask"), where, per_update, ex.biases is not None and ex.update_biases)
    limits = {}
    for key, default, lo, hi in (("max_abs_z", 4.0, 0.5, 50.0), ("min_gradient", 1e-3, 0.0, 1.0),
                                 ("attempts", 2000, 1, 100_000)):
        v = gen.get(key, default)
        if not _is_number(v) or not lo <= float(v) <= hi:
            raise GenerateError(f"{where}generate.{key}: expected a number in [{lo:g}, "
                                f"{hi:g}], got {v!r}")
        limits[key] = v
    return Template(
        base=base, layers=layers, activations=acts, loss=loss, mode=mode,
        weights=_number_spec(gen.get("weights"), f"{where}generate.weights",
                             NumberSpec(lo=-1, hi=1, decimals=1, nonzero=True)),
        biases=_number_spec(gen.get("biases"), f"{where}generate.biases",
                            NumberSpec(lo=-0.5, hi=0.5, decimals=1)),
        inputs=_number_spec(gen.get("inputs"), f"{where}generate.inputs",
                            NumberSpec(lo=0, hi=1, decimals=1)),
        targets=targets, learning_rates=learning_rates, n_samples=n, ask=ask,
        max_abs_z=float(limits["max_abs_z"]), min_gradient=float(limits["min_gradient"]),
        attempts=int(limits["attempts"]), name=name,
        fixed_weights=fixed_w, fixed_biases=fixed_b, fixed_samples=fixed_samples,
    )


def _ask(value: Any, where: str, per_update: int, biases_learn: bool) -> list[str]:
    default = [k for k in KINDS if (per_update == 1 or k not in PER_SAMPLE)
               and (biases_learn or k not in ("db", "b"))]
    if value is None:
        return default
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(v, str) for v in value):
        raise GenerateError(f"{where}generate.ask: expected a list of quantities from "
                            f"{', '.join(KINDS)}")
    for v in value:
        if v not in KINDS:
            raise GenerateError(f"{where}generate.ask: unknown quantity {v!r}; expected some of "
                                f"{', '.join(KINDS)}")
        if v in PER_SAMPLE and per_update > 1:
            raise GenerateError(f"{where}generate.ask: {v!r} names one sample's value, but "
                                f"every update of this template has {per_update} samples "
                                f"(ask for loss, dW, db, W, b)")
        if v in ("db", "b") and not biases_learn:
            raise GenerateError(f"{where}generate.ask: {v!r}: this network's biases are not "
                                f"updated")
    return [k for k in KINDS if k in value]


def asked_names(layers: Sequence[int], ask: Sequence[str]) -> list[str]:
    """The canonical answer names (grading.md) for the asked kinds, in sheet order.

    >>> asked_names([2, 1], ["loss", "dW", "b"])
    ['loss', 'dW_1_1_1', 'dW_1_1_2', 'b_1_1']
    """
    names: list[str] = []
    L = len(layers) - 1
    for kind in KINDS:
        if kind not in ask:
            continue
        if kind == "loss":
            names.append("loss")
            continue
        for l in range(1, L + 1):
            for i in range(1, layers[l] + 1):
                if kind in ("dW", "W"):
                    names.extend(f"{kind}_{l}_{i}_{j}" for j in range(1, layers[l - 1] + 1))
                else:
                    names.append(f"{kind}_{l}_{i}")
    return names


# ---------------------------------------------------------------------------- drawing
def variant_rng(seed: int, key: str, attempt: int = 0) -> np.random.Generator:
    """The Generator for one variant: seeded by a SHA-256 hash of (seed, key, attempt).

    Stable across runs, machines and Python versions (no ``hash()``).

    >>> int(variant_rng(1, "student:ann").integers(1000)) == \\
    ...     int(variant_rng(1, "student:ann").integers(1000))
    True
    """
    digest = hashlib.sha256(f"glassnet.generate|{seed}|{key}|{attempt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "big"))


@dataclass
class Variant:
    """One generated exercise: its id, student (or None), data (the exercise dict) and solution."""

    id: str
    student: str | None
    data: dict[str, Any]
    solution: Any
    asked: list[str]
    attempt: int = 0


def _draw(t: Template, rng: np.random.Generator) -> dict[str, Any]:
    data = copy.deepcopy(t.base)
    net = data["network"]
    W = [w if w is not None else t.weights.draw(rng, (t.layers[l + 1], t.layers[l]))
         for l, w in enumerate(t.fixed_weights)]
    net["weights"] = [_nice(w) for w in W]
    if t.fixed_biases is None:
        net["biases"] = None
    else:
        b = [v if v is not None else t.biases.draw(rng, (t.layers[l + 1],))
             for l, v in enumerate(t.fixed_biases)]
        net["biases"] = [_nice(v) for v in b]
    if t.learning_rates is not None:
        data["learning_rate"] = float(t.learning_rates[rng.integers(len(t.learning_rates))])
    if t.fixed_samples is None:
        X = t.inputs.draw(rng, (t.n_samples, t.layers[0]))
        if t.targets is None:
            T = np.eye(t.layers[-1])[rng.integers(0, t.layers[-1], size=t.n_samples)]
        else:
            T = t.targets.draw(rng, (t.n_samples, t.layers[-1]))
        data["samples"] = [{"x": _nice(x), "t": _nice(y)} for x, y in zip(X, T, strict=True)]
    return data


def _nice(a: np.ndarray) -> Any:
    """Plain Python floats (ints where whole), no -0.0, for a tidy YAML file."""
    def one(v: float) -> float | int:
        v = float(v) + 0.0
        return int(v) if v.is_integer() and abs(v) < 1e15 else v
    if a.ndim == 0:
        return one(a)
    return [_nice(row) if np.ndim(row) else one(row) for row in a]


def _problems(t: Template, sol: Any) -> str | None:
    """Why this candidate is not nice (None when it is): the engine's own numbers decide."""
    if not np.abs(sol.exercise.X).max(axis=1).all():
        return "a sample with every input 0"
    for u, up in enumerate(sol.updates):
        for l, lt in enumerate(up.layers, start=1):
            z = np.asarray(lt.z)
            if lt.activation in ("sigmoid", "tanh") and (np.abs(z) > t.max_abs_z).any():
                return f"update {u + 1}: a {lt.activation} unit of layer {l} is saturated"
            if lt.activation == "relu":
                if not (z > 0).any(axis=0).all():
                    return f"update {u + 1}: a ReLU unit of layer {l} is dead for every sample"
                if (np.abs(z) < 0.01).any():
                    return f"update {u + 1}: a ReLU unit of layer {l} sits on its kink"
            x = np.asarray(lt.x)
            live = np.abs(x).max(axis=0) > 0  # columns whose input is not 0 in every sample
            gW = np.abs(np.asarray(lt.grad_W))[:, live]
            if gW.size and gW.min() < t.min_gradient:
                return f"update {u + 1}: a gradient of layer {l} is (nearly) zero"
            if lt.grad_b is not None and lt.update_bias and \
                    np.abs(np.asarray(lt.grad_b)).min() < t.min_gradient:
                return f"update {u + 1}: a bias gradient of layer {l} is (nearly) zero"
    return None


def _signature(data: Mapping[str, Any]) -> str:
    net = data["network"]
    return repr((net["weights"], net["biases"], data["samples"], data.get("learning_rate")))


def _solve_candidate(data: dict[str, Any]) -> Any:
    from ..exercise import parse_exercise, solve

    return solve(parse_exercise(data))


def generate_variants(template: Template | Mapping[str, Any], *, count: int | None = None,
                      seed: int = 0, students: Sequence[str] | None = None,
                      samples: int | None = None) -> list[Variant]:
    """Draw ``count`` variants (ids v01, v02, ...) or one per student (id = the student id).

    Raises :class:`GenerateError` when the template cannot vary, or when no
    nice candidate turns up within ``generate.attempts`` draws (the message
    says which condition failed most often).
    """
    t = template if isinstance(template, Template) else parse_template(template,
                                                                       samples=samples)
    if students is not None:
        ids = list(students)
        keys = [f"student:{s}" for s in ids]
        if count is not None and count != len(ids):
            raise GenerateError(f"--count {count} but {len(ids)} student ids; give one or the "
                                f"other")
    else:
        if count is None or count < 1:
            raise GenerateError(f"--count must be a positive integer, got {count!r}")
        width = max(2, len(str(count)))
        ids = [f"v{i:0{width}d}" for i in range(1, count + 1)]
        keys = [f"variant:{i}" for i in range(1, count + 1)]
    if count is not None and count > 10_000:
        raise GenerateError(f"--count {count}: at most 10000 variants")
    if len(ids) > 1 and not t.varies:
        raise GenerateError("the template fixes every number (weights, biases, samples); "
                            "leave some out so that variants can differ")
    seen: dict[str, str] = {}
    out: list[Variant] = []
    for vid, key in zip(ids, keys, strict=True):
        v = _one_variant(t, seed, key, vid, students is not None, seen)
        seen[_signature(v.data)] = vid
        out.append(v)
    return out


def _one_variant(t: Template, seed: int, key: str, vid: str, is_student: bool,
                 seen: Mapping[str, str]) -> Variant:
    from collections import Counter

    reasons: Counter[str] = Counter()
    for attempt in range(t.attempts):
        rng = variant_rng(seed, key, attempt)
        data = _draw(t, rng)
        if _signature(data) in seen:
            reasons["the same numbers as another variant"] += 1
            continue
        try:
            sol = _solve_candidate(data)
        except GlassnetError as exc:  # overflow and the like: just not nice
            reasons[str(exc)] += 1
            continue
        problem = _problems(t, sol)
        if problem is not None:
            reasons[re.sub(r"update \d+: ", "", re.sub(r" of layer \d+", "", problem))] += 1
            continue
        variant = {"id": vid, "template": t.name, "seed": seed, "ask": list(t.ask)}
        if is_student:
            variant["student"] = vid
        title = data.get("title") or f"{t.name}"
        ordered: dict[str, Any] = {"title": f"{title} (variant {vid})", "variant": variant}
        ordered.update({k: v for k, v in data.items() if k != "title"})
        first = ("layers", "activation", "weights", "biases")
        net = ordered["network"]
        ordered["network"] = {**{k: net[k] for k in first if k in net},
                              **{k: v for k, v in net.items() if k not in first}}
        return Variant(id=vid, student=vid if is_student else None, data=ordered,
                       solution=sol, asked=asked_names(t.layers, t.ask), attempt=attempt)
    common = "; ".join(f"{why} ({n}×)" for why, n in reasons.most_common(3))
    raise GenerateError(f"variant {vid}: no nice numbers in {t.attempts} draws ({common}); "
                        f"widen the ranges, raise max_abs_z or lower min_gradient")


def read_student_ids(path: str | None = None, inline: str | None = None) -> list[str]:
    """Student ids from a file (one per line, ``#`` comments, first CSV column) or "a,b,c".

    Ids become file names, so they are letters, digits, ``_``, ``.``, ``-``.
    """
    ids: list[str] = []
    where = "--students"
    if path is not None:
        where = path
        with open(path, encoding="utf-8-sig") as fh:
            for line in fh:
                line = line.split("#", 1)[0].strip()
                if line:
                    ids.append(line.split(",", 1)[0].strip().strip('"'))
    if inline is not None:
        ids.extend(s.strip() for s in inline.split(",") if s.strip())
    if not ids:
        raise GenerateError(f"{where}: no student ids")
    dup = sorted({s for s in ids if ids.count(s) > 1})
    if dup:
        raise GenerateError(f"{where}: student id {dup[0]!r} appears more than once")
    for s in ids:
        if not _ID.match(s):
            raise GenerateError(f"{where}: student id {s!r} is not usable as a file name "
                                f"(letters, digits, _ . - only, at most 64)")
    return ids


# ----------------------------------------------------------------------------- writing
MANIFEST = "manifest.json"
MANIFEST_FORMAT = "glassnet.generate/1"
#: the keys of a manifest row that name a file written for the variant
FILE_KEYS = ("exercise", "question_md", "question_tex", "key_md", "key_tex", "answers")


def write_variants(variants: Sequence[Variant], out_dir: str, *, template_file: str = "",
                   seed: int = 0, inputs: Sequence[tuple[str, str | None]] = ()
                   ) -> dict[str, Any]:
    """Write every variant's files under ``out_dir`` and a ``manifest.json``; return it.

    Layout: ``exercises/ID.yaml`` (valid input to explain, check, derive, with
    its ``variant``), ``sheets/ID-question.md`` / ``.tex`` (no answers),
    ``sheets/ID-key.md`` / ``.tex`` (answers and the worked solution),
    ``answers/ID.yaml`` (the blank answer file to fill in).

    ``out_dir`` must be new, empty, or a previous output of ``generate`` (recognised by
    its manifest). Re-generating there replaces and removes only the files the previous
    manifest lists, and only while they are as ``generate`` wrote them (the manifest keeps
    each file's SHA-256): a filled-in answer file, or any file of the user's, is never
    replaced or removed. Everything is checked before the first file is written
    (:func:`plan_output`); ``inputs`` (``(label, path)``: the template, the student-id file)
    are never written or removed.
    """
    import json

    from ..exercise import load_exercise
    from . import sheets

    rows = []
    texts: dict[str, str] = {}
    for v in variants:
        files = {k: rel for k, rel in zip(FILE_KEYS, (
            f"exercises/{v.id}.yaml", f"sheets/{v.id}-question.md", f"sheets/{v.id}-question.tex",
            f"sheets/{v.id}-key.md", f"sheets/{v.id}-key.tex", f"answers/{v.id}.yaml"),
            strict=True)}
        made = {
            "exercise": exercise_yaml(v.data),
            "question_md": sheets.question_markdown(v),
            "question_tex": sheets.question_latex(v),
            "key_md": sheets.key_markdown(v),
            "key_tex": sheets.key_latex(v),
            "answers": sheets.blank_answers(v),
        }
        for k, rel in files.items():
            texts[rel] = made[k]
        rows.append({"id": v.id, "student": v.student, **files,
                     "sha256": {rel: _sha256(made[k]) for k, rel in files.items()}})
    stale = plan_output(out_dir, list(texts), inputs=[("TEMPLATE", template_file or None),
                                                      *inputs])
    for sub in ("exercises", "sheets", "answers"):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    for rel, text in texts.items():
        _write(os.path.join(out_dir, rel), text)
    for v in variants:  # the file as written must load back as the same exercise
        back = load_exercise(os.path.join(out_dir, "exercises", f"{v.id}.yaml"))
        if back.raw.get("variant", {}).get("id") != v.id:
            raise GenerateError(f"exercises/{v.id}.yaml: did not read back")  # pragma: no cover
    manifest = {"format": MANIFEST_FORMAT, "template": template_file, "seed": seed,
                "count": len(rows), "variants": rows}
    _write(os.path.join(out_dir, MANIFEST), json.dumps(manifest, indent=2) + "\n")
    for rel in stale:  # the previous run's variants this run did not write again
        os.remove(os.path.join(out_dir, rel))
    return manifest


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_sha256(path: str) -> str | None:
    import hashlib

    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def previous_manifest(out_dir: str) -> dict[str, str | None] | None:
    """The files a previous ``generate`` wrote in ``out_dir`` ({relative path: SHA-256, or None
    for a manifest without hashes}), or None when there is no readable generate manifest."""
    import json

    path = os.path.join(out_dir, MANIFEST)
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(16 * 1024 * 1024).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or \
            not isinstance(data.get("variants"), list):
        return None
    files: dict[str, str | None] = {}
    for row in data["variants"]:
        if not isinstance(row, dict):
            return None
        hashes = row.get("sha256") if isinstance(row.get("sha256"), dict) else {}
        for k in FILE_KEYS:
            rel = row.get(k)
            if isinstance(rel, str) and _plain_relative(rel):
                files[os.path.normpath(rel)] = hashes.get(rel)
    return files


def _plain_relative(rel: str) -> bool:
    """A path inside the folder (no absolute path, no '..'): a manifest cannot point outside."""
    norm = os.path.normpath(rel)
    return not os.path.isabs(norm) and not norm.startswith("..") and norm != "."


def plan_output(out_dir: str, writes: Sequence[str],
                inputs: Sequence[tuple[str, str | None]] = ()) -> list[str]:
    """Check that writing ``writes`` (paths relative to ``out_dir``) destroys nothing of the
    user's; return the previous run's files to remove afterwards (listed in its manifest,
    unchanged, and not written again). Raises :class:`GenerateError` before any writing.
    """
    from ..fileio import refuse_inside_model_folder

    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise GenerateError(f"--out {out_dir}: exists and is not a folder")
    refuse_inside_model_folder(out_dir, "--out")
    if not os.path.isdir(out_dir):
        return []
    present = []
    for root, _dirs, names in os.walk(out_dir):
        present += [os.path.normpath(os.path.relpath(os.path.join(root, n), out_dir))
                    for n in names]
    if not present:
        return []
    old = previous_manifest(out_dir)
    if old is None:
        raise GenerateError(f"--out {out_dir}: the folder is not empty and holds no "
                            f"manifest.json of 'glassnet generate', so its files may be yours "
                            f"(e.g. {sorted(present)[0]}): give a new or empty folder")
    protected = {os.path.realpath(p) for _, p in inputs if p}
    new = {os.path.normpath(w) for w in writes}
    stale = [rel for rel in sorted(old) if rel not in new]
    for rel in sorted(new | set(stale)):
        path = os.path.join(out_dir, rel)
        verb = "replace" if rel in new else "remove"
        if os.path.realpath(path) in protected:
            label = next(lab for lab, p in inputs if p and
                         os.path.realpath(p) == os.path.realpath(path))
            raise GenerateError(f"--out {out_dir}: would {verb} {rel}, which is the {label} "
                                f"this command reads: give another folder")
        if not os.path.lexists(path):
            continue
        if rel not in old:
            raise GenerateError(f"--out {out_dir}: would replace {rel}, which the previous "
                                f"'glassnet generate' there did not write (its manifest does "
                                f"not list it): move it away or give another folder")
        if not os.path.isfile(path) or os.path.islink(path):
            raise GenerateError(f"--out {out_dir}: would {verb} {rel}, which is not a plain "
                                f"file: move it away or give another folder")
        if old[rel] is not None and _file_sha256(path) != old[rel]:
            raise GenerateError(f"--out {out_dir}: would {verb} {rel}, which was changed since "
                                f"'glassnet generate' wrote it (a filled-in answer file?): "
                                f"move it away or give another folder")
    return [rel for rel in stale if os.path.lexists(os.path.join(out_dir, rel))]


def exercise_yaml(data: Mapping[str, Any]) -> str:
    """The exercise as YAML: block style for mappings, one matrix row per line."""
    import yaml

    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=None,
                          allow_unicode=True, width=100)


def _write(path: str, text: str) -> None:
    try:
        from ..fileio import atomic_write_text  # H1's helper, when present
    except ImportError:  # pragma: no cover - fallback until fileio lands
        atomic_write_text = None
    if atomic_write_text is not None:
        atomic_write_text(path, text)
        return
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)
