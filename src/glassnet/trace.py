"""Traces: read-only copies of the engine's own intermediates.

A :class:`Trace` is what one forward + backward pass left on the network's
layers (inputs, z, a, δ, gradients, the parameters used), copied so that later
passes cannot change it. An :class:`Update` adds the parameters after the
optimizer step. :func:`run_updates` is the loop an exercise needs (online
SGD, summed batch, averaged batch, for some epochs) and records one Update
per weight change. Worked solutions, checks and pictures are rendered from
these objects only; nothing here recomputes the maths.

>>> import numpy as np
>>> from glassnet import Network
>>> net = Network([2, 3, 1], "sigmoid", "half_sse", weights=1.0, biases=1.0)
>>> updates = run_updates(net, [[1, 0]], [[1]], lr=0.1, mode="sgd")
>>> u = updates[0]
>>> round(u.loss, 9), round(float(u.layers[0].b_after[0]), 7)
(0.000325667, 1.0000067)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import GlassnetError

__all__ = ["LayerTrace", "Trace", "Update", "run_updates", "MODES"]

MODES = ("sgd", "batch", "batch_mean")


def _copy(a: np.ndarray | None, rows: Any = None) -> np.ndarray | None:
    if a is None:
        return None
    out = a[rows] if rows is not None else a
    out = np.array(out, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True)
class LayerTrace:
    """One non-input layer's values for the traced batch (rows = samples).

    ``x`` is the layer's input (the previous layer's a, or the samples),
    ``W``/``b`` the parameters used in the pass, ``W_after``/``b_after`` the
    parameters after the update (None in a plain trace).
    """

    activation: str
    W: np.ndarray
    b: np.ndarray | None
    x: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray | None
    update_bias: bool
    W_after: np.ndarray | None = None
    b_after: np.ndarray | None = None


@dataclass(frozen=True)
class Trace:
    """Everything one forward + backward pass computed, per layer, plus the loss.

    ``losses`` holds each sample's E; ``loss`` is their sum or mean per the
    network's ``reduction``. ``conventions`` is the network's statement of
    its conventions (see :meth:`glassnet.Network.conventions`).
    """

    layers: tuple[LayerTrace, ...]
    targets: np.ndarray | None
    loss: float
    losses: np.ndarray | None
    reduction: str
    fused_output_delta: bool
    conventions: dict = field(default_factory=dict)

    @property
    def inputs(self) -> np.ndarray:
        return self.layers[0].x

    @property
    def outputs(self) -> np.ndarray:
        return self.layers[-1].a

    @classmethod
    def capture(cls, net: Any, samples: Any = None, targets: Any = None,
                loss: float | None = None) -> Trace:
        """Copy ``net``'s current caches (optionally only rows ``samples``)."""
        if net.layers[-1].a is None:
            raise GlassnetError("nothing to trace: run forward() (and backward()) first")
        rows = None if samples is None else np.asarray(samples, dtype=np.intp)
        done = net.layers[-1].delta is not None  # backward() ran for this forward batch
        layers = []
        for layer in net.layers:
            layers.append(LayerTrace(
                activation=layer.activation.name,
                W=_copy(layer.W), b=_copy(layer.b), x=_copy(layer.x, rows),
                z=_copy(layer.z, rows), a=_copy(layer.a, rows),
                delta=_copy(layer.delta, rows),
                grad_W=_copy(layer.grad_W) if done else None,
                grad_b=_copy(layer.grad_b) if done else None,
                update_bias=layer.update_bias,
            ))
        losses = _copy(net.losses, rows)
        if loss is None and net.losses is not None:
            loss = float(net.losses.sum() if net.reduction == "sum" else net.losses.mean())
        return cls(layers=tuple(layers), targets=_copy(targets, rows),
                   loss=float("nan") if loss is None else loss, losses=losses,
                   reduction=net.reduction, fused_output_delta=net.fused_output_delta,
                   conventions=net.conventions())


@dataclass(frozen=True)
class Update(Trace):
    """A Trace plus the update it led to: epoch, sample indices, learning rate, new parameters."""

    epoch: int = 0
    samples: tuple[int, ...] = ()
    lr: float = 0.0
    mode: str = "sgd"


def run_updates(net: Any, X: Any, T: Any, *, lr: float, mode: str = "sgd", epochs: int = 1,
                optimizer: Any = None) -> list[Update]:
    """Train ``net`` in place on samples X, T and record every update.

    mode ``sgd``: one update per sample, in order (online gradient descent);
    ``batch``: one update per epoch with the summed gradient (seed 003 Q2b);
    ``batch_mean``: one update per epoch with the mean gradient.
    The network's ``reduction`` is set accordingly ("sum" or "mean").
    """
    from .optimizers import SGD

    if mode not in MODES:
        from .errors import unknown_name

        raise unknown_name("mode", mode, MODES)
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise GlassnetError(f"epochs must be a positive integer, got {epochs!r}")
    X = net._as_batch(X, net.n_inputs, "samples x", "layer 1")
    T = net._as_batch(T, net.n_outputs, "samples t", "output layer")
    if len(X) != len(T):
        raise GlassnetError(f"{len(X)} inputs but {len(T)} targets")
    net.reduction = "mean" if mode == "batch_mean" else "sum"
    opt = optimizer if optimizer is not None else SGD(lr=lr)
    groups: Sequence[Sequence[int]] = (
        [[i] for i in range(len(X))] if mode == "sgd" else [list(range(len(X)))]
    )
    updates: list[Update] = []
    for epoch in range(epochs):
        for idx in groups:
            net._forward(X[idx])
            loss = net._backward(T[idx])
            before = Trace.capture(net, targets=T[idx], loss=loss)
            opt.step(net)
            layers = tuple(
                LayerTrace(**{**lt.__dict__, "W_after": _copy(layer.W),
                              "b_after": _copy(layer.b)})
                for lt, layer in zip(before.layers, net.layers, strict=True)
            )
            updates.append(Update(
                layers=layers, targets=before.targets, loss=before.loss, losses=before.losses,
                reduction=before.reduction, fused_output_delta=before.fused_output_delta,
                conventions=before.conventions, epoch=epoch, samples=tuple(idx), lr=opt.lr,
                mode=mode,
            ))
    return updates
