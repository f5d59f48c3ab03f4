"""What a derivation needs to know about a network: sizes, activations, loss, biases, mode.

A derivation does not need weights or samples, so :class:`NetSpec` is built
either from an exercise file (:func:`spec_from_exercise`) or from the
command-line options ``--layers 2,3,1 --activation sigmoid --loss half_sse``
(:func:`spec_from_options`). Both paths validate with the engine's own name
tables (activations, losses), so every name the engine trains is accepted,
and nothing else.

>>> s = spec_from_options("2,3,1", "sigmoid", "half_sse")
>>> s.sizes, s.activations, s.loss, s.biases, s.mode
([2, 3, 1], ['sigmoid', 'sigmoid'], 'half_sse', 'updated', 'sgd')
>>> s.n_parameters
13
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import GlassnetError

__all__ = ["NetSpec", "spec_from_options", "spec_from_exercise", "BIASES", "MODES"]

BIASES = ("updated", "frozen", "none")
MODES = ("sgd", "batch", "batch_mean")
#: a derivation is written for networks a reader can follow; beyond this the options are a typo
MAX_LAYERS, MAX_UNITS = 32, 100_000


@dataclass(frozen=True)
class NetSpec:
    """A network as a derivation sees it.

    ``activations`` holds one engine name per non-input layer; ``alphas`` the
    slope of each leaky ReLU (None elsewhere); ``biases`` is ``updated``,
    ``frozen`` or ``none``; ``mode`` is ``sgd``, ``batch`` or ``batch_mean``.
    """

    sizes: list[int]
    activations: list[str]
    loss: str
    biases: str = "updated"
    mode: str = "sgd"
    alphas: list[float | None] = field(default_factory=list)

    @property
    def L(self) -> int:
        """The number of non-input layers (the output layer is layer L)."""
        return len(self.sizes) - 1

    @property
    def has_biases(self) -> bool:
        return self.biases != "none"

    @property
    def n_parameters(self) -> int:
        n = sum(self.sizes[l] * self.sizes[l - 1] for l in range(1, self.L + 1))
        return n + (sum(self.sizes[1:]) if self.has_biases else 0)

    def alpha(self, layer: int) -> float:
        """The leaky-ReLU slope of ``layer`` (1-based)."""
        a = self.alphas[layer - 1] if self.alphas else None
        return 0.01 if a is None else float(a)

    def parameters(self) -> list[str]:
        """Every parameter's canonical name, layer by layer: W_l_i_j row by row, then b_l_i."""
        names = []
        for l in range(1, self.L + 1):
            names += [f"W_{l}_{i}_{j}" for i in range(1, self.sizes[l] + 1)
                      for j in range(1, self.sizes[l - 1] + 1)]
            if self.has_biases:
                names += [f"b_{l}_{i}" for i in range(1, self.sizes[l] + 1)]
        return names

    def to_dict(self) -> dict[str, Any]:
        acts: list[Any] = []
        for l, name in enumerate(self.activations, start=1):
            acts.append({"name": name, "alpha": self.alpha(l)} if name == "leaky_relu" else name)
        return {"layers": list(self.sizes), "activation": acts, "loss": self.loss,
                "biases": self.biases, "mode": self.mode}

    def small(self, width: int = 3) -> NetSpec:
        """The same network with at most ``width`` units per layer (for proving index formulas)."""
        sizes = [min(n, max(width, 2)) for n in self.sizes]
        return NetSpec(sizes, list(self.activations), self.loss, self.biases, self.mode,
                       list(self.alphas))


def _activation_names(spec: Any, n_layers: int, where: str) -> tuple[list[str], list[Any]]:
    from ..activations import get_activation

    items = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    if len(items) == 1:
        items = items * n_layers
    elif len(items) == 2 and n_layers > 2:
        # "relu,softmax": the first for every hidden layer, the second for the output
        items = [items[0]] * (n_layers - 1) + [items[1]]
    if len(items) != n_layers:
        raise GlassnetError(f"{where}: expected one activation, two (hidden, output) or one per "
                            f"non-input layer ({n_layers}), got {len(items)}")
    names, alphas = [], []
    for l, item in enumerate(items, start=1):
        act = get_activation(item)
        if not act.elementwise and l < n_layers:
            raise GlassnetError(f"{where}: {act.name} is only supported on the output layer "
                                f"(layer {n_layers}), not on hidden layer {l}")
        names.append(act.name)
        alphas.append(getattr(act, "alpha", None))
    return names, alphas


def spec_from_options(layers: str | list[int], activation: str | list[Any], loss: str,
                      biases: str = "updated", mode: str = "sgd") -> NetSpec:
    """Build and check a :class:`NetSpec` from ``--layers/--activation/--loss/...`` values."""
    from ..losses import get_loss

    if isinstance(layers, str):
        parts = [p.strip() for p in layers.split(",")]
        try:
            sizes = [int(p) for p in parts]
        except ValueError:
            raise GlassnetError(f"--layers: expected sizes separated by commas, input first "
                                f"(e.g. 2,3,1), got {layers!r}") from None
    else:
        sizes = [int(n) for n in layers]
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise GlassnetError(f"--layers: expected at least 2 positive sizes, input first "
                            f"(e.g. 2,3,1), got {layers!r}")
    if len(sizes) > MAX_LAYERS + 1 or max(sizes) > MAX_UNITS:
        raise GlassnetError(f"--layers: at most {MAX_LAYERS} layers of at most {MAX_UNITS} "
                            f"units, got {layers!r}")
    if isinstance(activation, str):
        activation = [a.strip() for a in activation.split(",")]
    names, alphas = _activation_names(activation, len(sizes) - 1, "--activation")
    loss_obj = get_loss(loss)
    loss_name = loss_obj.name
    check = getattr(loss_obj, "check_output", None)
    if check is not None:  # the engine's own refusal of a loss its output cannot feed
        from ..activations import get_activation

        out = {"name": names[-1], "alpha": alphas[-1]} if names[-1] == "leaky_relu" \
            else names[-1]
        check(get_activation(out), sizes[-1])
    if biases not in BIASES:
        raise GlassnetError(f"--biases: expected one of {', '.join(BIASES)}, got {biases!r}")
    if mode not in MODES:
        raise GlassnetError(f"--mode: expected one of {', '.join(MODES)}, got {mode!r}")
    return NetSpec(sizes, names, loss_name, biases, mode, alphas)


def spec_from_exercise(ex: Any) -> NetSpec:
    """The :class:`NetSpec` of a loaded :class:`~glassnet.exercise.Exercise`."""
    names, alphas = _activation_names(ex.activations, len(ex.layers) - 1, "network.activation")
    biases = "none" if ex.biases is None else ("updated" if ex.update_biases else "frozen")
    return NetSpec(list(ex.layers), names, ex.loss, biases, ex.mode, alphas)
