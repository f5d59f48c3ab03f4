"""Misconceptions: the classic slips of backpropagation, as switches of the engine's equations.

A teacher recognises a wrong answer by the mistake that produces it: a δ
without f'(z), a hidden δ computed with the already updated weights (the
slip in Mazur's well-known worked example that many readers repeat), an
update with the wrong sign. ``glassnet check`` names such answers by running
the **engine itself** with one misconception switched on and comparing.

This module is the one small, explicit place where the switches live. Each
:class:`Misconception` changes one equation of the engine, in one of three
ways, and never re-implements backpropagation:

* through the network's *equation tap* (``Network.tap``, ``None`` in
  training): after the engine computed the output δ or a hidden δ, the
  switch recomputes that one δ with the engine's own activation and loss
  objects, changed in the one way the misconception says (no f'; f' of a
  instead of z; the updated or transposed weights; the opposite sign; a
  factor 2);
* through the update: the step ``W ← W − η·∂E/∂W`` with the sign flipped or
  η left out or applied twice (:meth:`Misconception.step_lr`);
* through the network's conventions: biases updated that are frozen (or the
  other way), the batch gradient summed where it is averaged (or the other way)
  (:meth:`Misconception.run_options`).

>>> [m.key for m in CATALOGUE][:4]
['sign/update', 'sign/delta', 'missing_fprime/output', 'missing_fprime/hidden']
>>> import numpy as np
>>> from glassnet import Network
>>> net = Network([1, 1], "sigmoid", "half_sse", weights=[[[0.0]]], biases=0.0)
>>> net.tap = MisconceptionTap(get_misconception("missing_fprime/output"), lr=0.1)
>>> _ = net.forward([[1.0]]); _ = net.backward([[1.0]])
>>> float(net.layers[0].delta[0, 0])      # y − t = 0.5 − 1, without σ'(0) = 0.25
-0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import unknown_name

__all__ = ["Misconception", "MisconceptionTap", "CATALOGUE", "IDS", "get_misconception",
           "applicable"]

#: the ids of the mistake catalogue (docs/check.md, grading.md)
IDS = ("sign", "missing_fprime", "fprime_of_a", "updated_weights", "factor_2",
       "batch_sum_mean", "transposed_W", "bias_update", "learning_rate")


@dataclass(frozen=True)
class Misconception:
    """One variant of one catalogue entry: ``id`` (catalogue id), ``variant``, and the
    sentence a student reads under a wrong answer that this misconception explains."""

    id: str
    variant: str
    description: str

    @property
    def key(self) -> str:
        return f"{self.id}/{self.variant}"

    # ------------------------------------------------------------ the update
    def step_lr(self, lr: float) -> float:
        """The (signed) learning rate of the update W ← W − lr·∂E/∂W under this misconception."""
        if self.key == "sign/update":
            return -lr
        if self.key == "learning_rate/omitted":
            return 1.0
        if self.key == "learning_rate/squared":
            return lr * lr
        return lr

    # ------------------------------------------------------- the conventions
    def run_options(self, exercise: Any) -> dict[str, Any]:
        """Changes to how the exercise is run: ``mode`` and ``update_biases``."""
        if self.id == "batch_sum_mean":
            return {"mode": {"batch": "batch_mean", "batch_mean": "batch"}[exercise.mode]}
        if self.id == "bias_update":
            return {"update_biases": not exercise.update_biases}
        return {}


CATALOGUE: tuple[Misconception, ...] = (
    Misconception("sign", "update", "the update goes the wrong way: w + η·∂E/∂w instead of "
                                    "w − η·∂E/∂w"),
    Misconception("sign", "delta", "the output δ has the opposite sign (t − y instead of y − t)"),
    Misconception("missing_fprime", "output", "this δ has no f'(z): the output δ is ∂E/∂y "
                                              "alone"),
    Misconception("missing_fprime", "hidden", "this hidden δ has no f'(z): it is (Wᵀδ) "
                                              "alone"),
    Misconception("missing_fprime", "all", "the δs have no f'(z)"),
    Misconception("fprime_of_a", "output", "the derivative was taken at a instead of z: "
                                           "σ(a)(1 − σ(a)) for σ'(z) in the output δ"),
    Misconception("fprime_of_a", "hidden", "the derivative was taken at a instead of z: "
                                           "f'(a) for f'(z) in this hidden δ"),
    Misconception("fprime_of_a", "all", "the derivative was taken at a instead of z in "
                                        "every δ"),
    Misconception("updated_weights", "hidden", "this hidden δ used the already updated "
                                               "weights of the layer above"),
    Misconception("factor_2", "double", "a factor 2 too many: the ½ of the loss forgotten "
                                        "(E and every gradient doubled)"),
    Misconception("factor_2", "half", "a factor ½ too many: the ½ of the loss counted twice "
                                      "(E and every gradient halved)"),
    Misconception("batch_sum_mean", "swapped", "the batch gradient summed where it is "
                                               "averaged, or averaged where it is summed"),
    Misconception("transposed_W", "backward", "the weight matrix was used transposed (wᵢⱼ "
                                              "for wⱼᵢ) in this hidden δ"),
    Misconception("bias_update", "swapped", "a frozen bias was updated, or a bias that "
                                            "should move was not"),
    Misconception("learning_rate", "omitted", "η was left out of the update"),
    Misconception("learning_rate", "squared", "η was applied twice in the update"),
)

_BY_KEY = {m.key: m for m in CATALOGUE}


def get_misconception(key: str) -> Misconception:
    """A misconception by ``id/variant`` (``"missing_fprime/output"``)."""
    if key not in _BY_KEY:
        raise unknown_name("misconception", key, _BY_KEY)
    return _BY_KEY[key]


def applicable(exercise: Any) -> list[Misconception]:
    """The variants that can change some value of this exercise (the others are skipped)."""
    from .activations import get_activation
    from .losses import get_loss

    n_layers = len(exercise.layers) - 1
    acts = [get_activation(a) for a in exercise.activations]
    acts = acts * n_layers if len(acts) == 1 else acts
    fused = get_loss(exercise.loss).is_canonical(acts[-1])
    out: list[Misconception] = []
    for m in CATALOGUE:
        hidden = n_layers > 1
        if m.variant == "hidden" and not hidden:
            continue
        if m.id in ("missing_fprime", "fprime_of_a"):
            output_ok = not fused and acts[-1].elementwise  # a canonical pair has no f' to drop
            if m.variant == "output" and not output_ok:
                continue
            if m.variant == "all" and not (output_ok and hidden):  # else the same as another
                continue
        if m.id == "batch_sum_mean" and (exercise.mode == "sgd" or exercise.n_samples < 2):
            continue
        if m.id == "bias_update" and exercise.biases is None:
            continue
        if m.id == "transposed_W" and not any(
                exercise.layers[l + 1] == exercise.layers[l] for l in range(1, n_layers)):
            continue
        if m.id == "learning_rate" and exercise.learning_rate in (0.0, 1.0):
            continue
        out.append(m)
    return out


class MisconceptionTap:
    """The switch in the engine: an equation tap (``Network.tap``) for one misconception.

    Each hook runs right after the engine computed the quantity and rewrites it
    in place, with the engine's own activation and loss objects.
    """

    def __init__(self, misconception: Misconception, lr: float):
        self.m = misconception
        self.lr = lr
        #: set by a follow-through tap: writes the student's own updated weights (if they gave
        #: them) into the array the ``updated_weights`` slip uses
        self.own_updated_weights: Any = None

    # forward: no misconception of this catalogue changes z or a
    def z(self, net: Any, l: int, z: np.ndarray) -> None:
        return None

    def a(self, net: Any, l: int, a: np.ndarray) -> None:
        return None

    def output_delta(self, net: Any, T: np.ndarray, delta: np.ndarray, loss: float) -> float:
        key, out = self.m.key, net.layers[-1]
        n = T.shape[0]
        scale = 1.0 / n if net.reduction == "mean" and n > 1 else 1.0
        act = out.activation
        if key == "sign/delta":
            np.negative(delta, out=delta)
        elif key in ("missing_fprime/output", "missing_fprime/all") and not net.fused_output_delta:
            delta[...] = net.loss.grad_output(out.a, T) * scale
        elif key in ("fprime_of_a/output", "fprime_of_a/all") and not net.fused_output_delta \
                and act.elementwise:
            fa = act.forward(np.array(out.a))
            delta[...] = act.backward(out.a, fa, net.loss.grad_output(out.a, T)) * scale
        elif self.m.id == "factor_2":
            factor = 2.0 if self.m.variant == "double" else 0.5
            delta *= factor
            if net.losses is not None:
                net.losses *= factor
            return loss * factor
        return loss

    def hidden_delta(self, net: Any, l: int) -> None:
        key, below, above = self.m.key, net.layers[l], net.layers[l + 1]
        act = below.activation
        if key in ("missing_fprime/hidden", "missing_fprime/all"):
            below.delta[...] = above.delta @ above.W
        elif key in ("fprime_of_a/hidden", "fprime_of_a/all"):
            fa = act.forward(np.array(below.a))
            below.delta[...] = act.backward(below.a, fa, above.delta @ above.W)
        elif key == "updated_weights/hidden":
            W_new = above.W - self.lr * above.grad_W
            if self.own_updated_weights is not None:
                self.own_updated_weights(l + 1, W_new)
            below.delta[...] = act.backward(below.z, below.a, above.delta @ W_new)
        elif key == "transposed_W/backward" and above.W.shape[0] == above.W.shape[1]:
            below.delta[...] = act.backward(below.z, below.a, above.delta @ above.W.T)

    def gradients(self, net: Any, l: int) -> None:
        return None
