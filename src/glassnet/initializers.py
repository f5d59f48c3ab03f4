"""Weight initializers, each drawing from a seeded ``numpy.random.Generator``.

Why the choice matters: with every weight equal (seed 004's "all weights 1")
all hidden units of a layer stay identical forever; the variance-scaling
schemes keep the signal's variance roughly constant from layer to layer:

=================  =========================================  ===================
name               distribution                               suits
=================  =========================================  ===================
zeros, constant    every value the same                       exercises, biases
normal             N(0, std²), std = 0.05 (Keras' default)    seed 004's baseline
uniform            U(−limit, limit), limit = 0.05
he_normal          N(0, 2/fan_in)                             ReLU
he_uniform         U(±√(6/fan_in))                            ReLU
glorot_normal      N(0, 2/(fan_in + fan_out))                 tanh, sigmoid
glorot_uniform     U(±√(6/(fan_in + fan_out)))                tanh, sigmoid
lecun_normal       N(0, 1/fan_in)                             SELU, linear
=================  =========================================  ===================

For a weight matrix of shape (units, units of the previous layer),
fan_in = shape[1] and fan_out = shape[0]. A bias vector has fan_in = its length.
Unlike Keras, the normal variants are not truncated.

>>> import numpy as np
>>> init = get_initializer("he_normal")
>>> W = init((128, 784), np.random.default_rng(0), np.float32)
>>> W.dtype, W.shape, round(float(W.std() * np.sqrt(784 / 2)), 1)
(dtype('float32'), (128, 784), 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .errors import GlassnetError, unknown_name

__all__ = ["Initializer", "INITIALIZERS", "get_initializer"]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[1], shape[0]


class Initializer:
    """An initializer: a name, its parameters, and ``__call__(shape, rng, dtype)``."""

    def __init__(self, name: str, draw: Callable, **params: float):
        self.name = name
        self._draw = draw
        self.params = params

    def __call__(self, shape, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
        shape = tuple(int(s) for s in shape)
        fan_in, fan_out = _fans(shape)
        values = self._draw(shape, rng, fan_in, fan_out, **self.params)
        return np.asarray(values, dtype=dtype)

    def get_config(self) -> dict:
        return {"name": self.name, **self.params}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Initializer({self.name!r}{', ' if args else ''}{args})"


def _constant(shape, rng, fan_in, fan_out, value=0.0):
    return np.full(shape, value)


def _normal(shape, rng, fan_in, fan_out, std=0.05, mean=0.0):
    return rng.normal(mean, std, size=shape)


def _uniform(shape, rng, fan_in, fan_out, limit=0.05):
    return rng.uniform(-limit, limit, size=shape)


def _scaled_normal(scale_of):
    def draw(shape, rng, fan_in, fan_out):
        return rng.normal(0.0, math.sqrt(scale_of(fan_in, fan_out)), size=shape)

    return draw


def _scaled_uniform(scale_of):
    def draw(shape, rng, fan_in, fan_out):
        limit = math.sqrt(3.0 * scale_of(fan_in, fan_out))
        return rng.uniform(-limit, limit, size=shape)

    return draw


def _he(fi, fo):
    return 2.0 / fi


def _glorot(fi, fo):
    return 2.0 / (fi + fo)


def _lecun(fi, fo):
    return 1.0 / fi


# name -> (draw function, allowed parameters with defaults)
INITIALIZERS: dict[str, tuple[Callable, dict]] = {
    "zeros": (_constant, {}),
    "constant": (_constant, {"value": 0.0}),
    "normal": (_normal, {"std": 0.05, "mean": 0.0}),
    "uniform": (_uniform, {"limit": 0.05}),
    "he_normal": (_scaled_normal(_he), {}),
    "he_uniform": (_scaled_uniform(_he), {}),
    "glorot_normal": (_scaled_normal(_glorot), {}),
    "glorot_uniform": (_scaled_uniform(_glorot), {}),
    "lecun_normal": (_scaled_normal(_lecun), {}),
}
_ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
            "random_normal": "normal", "random_uniform": "uniform", "kaiming_normal": "he_normal",
            "kaiming_uniform": "he_uniform"}


#: the largest |std|, |limit|, |value| or |mean| accepted (rng.uniform overflows near 1e308,
#: and any z computed from weights this large is already infinite)
MAX_PARAMETER = 1e150


def get_initializer(spec: str | dict | Initializer | float | int) -> Initializer:
    """Look an initializer up by name, config dict (``{"name"|"init": ..., params}``) or number.

    A plain number means ``constant`` with that value.

    >>> get_initializer({"init": "normal", "std": 0.01})
    Initializer('normal', std=0.01, mean=0.0)
    >>> get_initializer(0.1)
    Initializer('constant', value=0.1)
    """
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        return Initializer("constant", _constant, value=float(spec))
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None) or params.pop("init", None)
    else:
        name, params = spec, {}
    key = _ALIASES.get(name, name) if isinstance(name, str) else name
    if key not in INITIALIZERS:
        raise unknown_name("initializer", name, INITIALIZERS)
    draw, allowed = INITIALIZERS[key]
    extra = set(params) - set(allowed)
    if extra:
        raise GlassnetError(
            f"initializer {key!r} takes no parameter {sorted(extra)[0]!r}; "
            f"it takes: {', '.join(allowed) or 'none'}"
        )
    merged = {**allowed, **params}
    for k, v in merged.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise GlassnetError(f"initializer {key!r}: parameter {k!r} must be a finite number, "
                                f"got {v!r}")
        if k in ("std", "limit") and v < 0:
            raise GlassnetError(f"initializer {key!r}: parameter {k!r} must be >= 0, got {v!r}")
        if abs(v) > MAX_PARAMETER:
            raise GlassnetError(f"initializer {key!r}: parameter {k!r} = {v!r} is beyond "
                                f"±{MAX_PARAMETER:g}: no forward pass survives such weights")
    return Initializer(key, draw, **{k: float(v) for k, v in merged.items()})
