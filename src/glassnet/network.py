"""The network: a dense multilayer perceptron and its three calls, forward, backward, update.

Conventions (stated once, used everywhere):

* The weight matrix of layer l has shape (units of l, units of l−1):
  ``W[i, j]`` connects unit j of the previous layer to unit i of this one
  (seed 003 and PyTorch). For one sample z = W x + b; for a batch whose rows
  are samples, Z = X Wᵀ + b.
* δ is ∂E/∂z, where E is the loss *as the update applies it*: the sum over
  the batch's samples (``reduction="sum"``: seed 003's batch update, and
  online SGD where a batch is one sample) or their mean (``reduction="mean"``:
  Keras, PyTorch, and the trainer's default). With the mean, every δ carries
  the factor 1/N.
* Gradients are ∂E/∂W = δᵀ X and ∂E/∂b = Σ_rows δ, for that same E.

The four backpropagation equations appear literally in :meth:`Network.backward`:

1. δᴸ = ∂E/∂aᴸ ∘ f'(zᴸ)       (or y − t for the canonical pairs)
2. δˡ = (δˡ⁺¹ Wˡ⁺¹) ∘ f'(zˡ)
3. ∂E/∂Wˡ = (δˡ)ᵀ aˡ⁻¹
4. ∂E/∂bˡ = Σ_rows δˡ

After ``forward`` and ``backward`` every intermediate (z, a, δ, gradients) is
readable on the layers, and :meth:`Network.trace` copies them into a
read-only :class:`~glassnet.trace.Trace`; the worked solutions are rendered
from that, never recomputed. The training loop uses the very same calls with
preallocated buffers, so looking costs nothing when nobody looks.

Example: seed 004, problem 1(b): one SGD step on a 2-3-1 sigmoid network.

>>> import numpy as np
>>> from glassnet import Network, SGD
>>> net = Network([2, 3, 1], "sigmoid", "half_sse",
...               weights=[[[0.5, -0.25], [0.5, -0.25], [0.5, -0.25]], [[1, -1, 0]]],
...               biases=0.1)
>>> loss = net.train_step([[1, 0]], [[1]], SGD(lr=0.1))
>>> round(loss, 6), round(float(net.layers[1].W[0, 0]), 7), round(float(net.layers[1].b[0]), 6)
(0.112822, 1.0076484, 0.111846)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .activations import Activation, Softmax, get_activation
from .errors import GlassnetError, NonFiniteError, ShapeError
from .initializers import get_initializer
from .losses import CrossEntropy, Loss, get_loss

__all__ = ["Dense", "Network"]

_DTYPES = {"float32": np.float32, "float64": np.float64}
#: the smallest normal number of each dtype (np.finfo is slow to ask in a loop)
_TINY = {np.dtype(t): np.finfo(t).tiny for t in (np.float16, np.float32, np.float64)}


def _row_dot(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Σₖ A[i, k]·B[i, k] for every row i (np.vecdot where NumPy has it: 2x faster)."""
    if _vecdot is not None:
        return _vecdot(A, B)
    return np.einsum("ij,ij->i", A, B)


_vecdot = getattr(np, "vecdot", None)


def as_dtype(dtype: Any) -> np.dtype:
    """Accept 'float32'/'float64' or a NumPy float dtype; reject anything else."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise GlassnetError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return dt


class Dense:
    """One fully connected layer: z = x Wᵀ + b, a = f(z), for a batch x of rows.

    Attributes after a forward/backward pass (the last batch's values):
    ``x`` (the layer's input), ``z``, ``a``, ``delta`` (∂E/∂z), ``grad_W``,
    ``grad_b``. ``b`` is None for a layer without bias; ``update_bias`` False
    keeps the bias fixed during training (its gradient is still computed and
    shown).

    A :class:`Network` stores ``W`` (and so ``grad_W``) in column-major
    (Fortran) order. Shape, indexing and values are exactly as stated above;
    only the memory layout differs, so that the backward pass can compute
    ∂E/∂W = δᵀx as (xᵀδ)ᵀ, BLAS's faster orientation for a wide first layer,
    and write it into ``grad_W`` without a copy.
    """

    def __init__(
        self,
        W: np.ndarray,
        b: np.ndarray | None,
        activation: Activation,
        update_bias: bool = True,
    ):
        self.W = W
        self.b = b
        self.activation = activation
        self.update_bias = bool(update_bias) and b is not None
        self.grad_W = np.zeros_like(W)
        self.grad_b = None if b is None else np.zeros_like(b)
        self.x: np.ndarray | None = None
        self.z: np.ndarray | None = None
        self.a: np.ndarray | None = None
        self.delta: np.ndarray | None = None

    @property
    def n_in(self) -> int:
        return self.W.shape[1]

    @property
    def n_out(self) -> int:
        return self.W.shape[0]

    def __repr__(self) -> str:
        bias = "no bias" if self.b is None else ("bias" if self.update_bias else "frozen bias")
        return f"Dense({self.n_in} -> {self.n_out}, {self.activation.name}, {bias})"


@dataclass
class _Buffers:
    """Arrays for one batch size, allocated once and reused by every batch of that size."""

    z: list[np.ndarray]
    a: list[np.ndarray]
    delta: list[np.ndarray]


class Network:
    """A dense MLP with its loss and conventions.

    Parameters
    ----------
    layers:
        Layer sizes, input first, e.g. ``[784, 128, 10]``. At least two.
    activation:
        One name (or :class:`Activation`) for every non-input layer, or a list
        with one per non-input layer.
    loss:
        ``half_sse``, ``sse``, ``mse``, ``cross_entropy``,
        ``binary_cross_entropy`` (see :mod:`glassnet.losses`).
    weights:
        An initializer name or config dict (``"he_normal"``,
        ``{"name": "normal", "std": 0.01}``), a number (every weight equal),
        or a list with one matrix per non-input layer of shape
        (units of the layer, units of the previous layer).
    biases:
        Like ``weights`` (vectors instead of matrices), or ``None`` for a
        network without biases (seed 002).
    update_biases:
        False keeps the biases fixed (some textbooks do).
    reduction:
        ``"sum"`` or ``"mean"``: how a batch's per-sample losses combine into
        the E whose gradient the update applies.
    dtype:
        ``"float64"`` (exercises, gradient checks) or ``"float32"`` (fast training).
    seed:
        Seed, or a ``numpy.random.Generator``, for random initializers.
    """

    def __init__(
        self,
        layers: Sequence[int],
        activation: str | Activation | Sequence[str | Activation] = "sigmoid",
        loss: str | Loss = "half_sse",
        *,
        weights: Any = "glorot_uniform",
        biases: Any = 0.0,
        update_biases: bool = True,
        reduction: str = "sum",
        dtype: Any = "float64",
        seed: int | np.random.Generator | None = 0,
    ):
        sizes = _check_sizes(layers)
        self.sizes: list[int] = sizes
        self.dtype = as_dtype(dtype)
        if reduction not in ("sum", "mean"):
            raise GlassnetError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
        self.reduction = reduction
        self.loss: Loss = get_loss(loss)
        n_layers = len(sizes) - 1
        if isinstance(activation, (str, Activation, dict)):
            acts = [get_activation(activation) for _ in range(n_layers)]
        else:
            acts = [get_activation(a) for a in activation]
            if len(acts) != n_layers:
                raise ShapeError(
                    f"activation: expected one name per non-input layer ({n_layers}), "
                    f"got {len(acts)}"
                )
        for l, act in enumerate(acts[:-1], start=1):
            if not act.elementwise:
                raise GlassnetError(
                    f"layer {l}: {act.name} is only supported on the output layer"
                )
        self.loss.check_output(acts[-1], sizes[-1])  # e.g. no log loss after a tanh output
        if not (seed is None or isinstance(seed, np.random.Generator) or (
                isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0)):
            raise GlassnetError(f"seed must be a non-negative integer, a numpy Generator or None, "
                                f"got {seed!r}")
        rng = _LazyGenerator(seed)
        Ws = _make_params(weights, [(sizes[l + 1], sizes[l]) for l in range(n_layers)],
                          rng, self.dtype, "weights")
        if biases is None:
            bs: list[np.ndarray | None] = [None] * n_layers
        else:
            bs = list(_make_params(biases, [(sizes[l + 1],) for l in range(n_layers)],
                                   rng, self.dtype, "biases"))
        self.layers: list[Dense] = []
        self._flat_values, self._flat_grads, views = _pack_parameters(Ws, bs, self.dtype)
        for (W, grad_W, b, grad_b), act in zip(views, acts, strict=True):
            layer = Dense(W, b, act, update_biases)
            layer.grad_W, layer.grad_b = grad_W, grad_b
            self.layers.append(layer)
        self._flat_views = views
        self._buffers: dict[int, _Buffers] = {}
        #: an equation tap (glassnet.misconceptions): None, except when grading switches a
        #: misconception on or substitutes a student's values; one `is None` test per layer
        self.tap: Any = None
        self.losses: np.ndarray | None = None  # per-sample losses of the last backward
        self.fused_output_delta = self.loss.is_canonical(self.layers[-1].activation)

    # ------------------------------------------------------------------ info
    @property
    def has_biases(self) -> bool:
        return self.layers[0].b is not None

    @property
    def update_biases(self) -> bool:
        return any(layer.update_bias for layer in self.layers)

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    def __repr__(self) -> str:
        acts = [layer.activation.name for layer in self.layers]
        biases = ("none" if not self.has_biases
                  else ("updated" if self.update_biases else "frozen"))
        return (f"Network({self.sizes}, activation={acts}, loss={self.loss.name!r}, "
                f"reduction={self.reduction!r}, dtype={self.dtype.name!r}, "
                f"biases={biases})")

    def conventions(self) -> dict[str, str]:
        """The conventions a reader needs to match this network with a textbook."""
        out_act = self.layers[-1].activation
        if self.fused_output_delta:
            delta = ("δᴸ = y − t (the canonical pair "
                     f"{out_act.name} + {self.loss.name}: f' cancels against ∂E/∂y)")
            if self.loss.name == "cross_entropy" and out_act.name == "sigmoid":
                delta = ("δᴸ = t ∘ (y − 1) (sigmoid + cross_entropy: σ'(z) = y(1 − y) "
                         "cancels against ∂E/∂y = −t/y)")
            elif self.loss.name == "cross_entropy":
                delta = ("δᴸ = y·Σt − t = y − t for targets summing to 1 "
                         "(softmax + cross_entropy: the Jacobian cancels against ∂E/∂y)")
        elif out_act.elementwise:
            delta = (f"δᴸ = ∂E/∂y ∘ f'(zᴸ) with {self.loss.grad_formula}, "
                     f"{out_act.derivative_formula}")
        else:
            delta = (f"δᴸ = Jᵀ ∂E/∂y (softmax Jacobian {out_act.derivative_formula}), "
                     f"{self.loss.grad_formula}")
        return {
            "loss": f"{self.loss.name}: {self.loss.formula}",
            "reduction": ("sum over the samples of an update" if self.reduction == "sum"
                          else "mean over the samples of an update (δ carries 1/N)"),
            "weights": "W[l] has shape (units of l, units of l−1); z = W x + b",
            "biases": ("none" if not self.has_biases else
                       ("updated" if self.update_biases else "fixed (not updated)")),
            "delta": "δ = ∂E/∂z",
            "output_delta": delta,
            "hidden_delta": "δˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ ∘ f'(zˡ)",
            "dtype": self.dtype.name,
        }

    # ----------------------------------------------------------- validation
    def _as_batch(self, X: Any, width: int, what: str, where: str) -> np.ndarray:
        try:
            X = np.asarray(X)
        except (TypeError, ValueError) as exc:  # ragged lists and the like
            raise ShapeError(
                f"{where}: {what} is not a rectangular array of numbers: {exc}") from None
        if X.dtype.kind not in "fiub":
            raise GlassnetError(f"{where}: {what} must be numbers, got dtype {X.dtype}")
        if X.ndim == 1:
            X = X.reshape(1, -1) if width != 1 or X.size == 1 else X.reshape(-1, 1)
        if X.ndim != 2 or X.shape[1] != width:
            raise ShapeError(
                f"{where}: {what} must have shape (samples, {width}), got shape {tuple(X.shape)}"
            )
        if X.shape[0] == 0:
            raise ShapeError(f"{where}: {what} has no rows")
        X = X.astype(self.dtype, copy=False)
        if not np.isfinite(X).all():
            bad = np.argwhere(~np.isfinite(X))[0]
            raise NonFiniteError(
                f"{where}: {what} contains a non-finite value at row {bad[0]}, column {bad[1]}"
            )
        return X

    # -------------------------------------------------------------- buffers
    def _get_buffers(self, n: int) -> _Buffers:
        buf = self._buffers.get(n)
        if buf is None:
            if len(self._buffers) >= 4:  # a few batch sizes at most: full, last, predict chunk
                self._buffers.pop(next(iter(self._buffers)))
            shapes = [(n, layer.n_out) for layer in self.layers]
            buf = _Buffers(
                z=[np.empty(s, self.dtype) for s in shapes],
                a=[np.empty(s, self.dtype) for s in shapes],
                delta=[np.empty(s, self.dtype) for s in shapes],
            )
            self._buffers[n] = buf
        return buf

    # -------------------------------------------------------------- forward
    def forward(self, X: Any) -> np.ndarray:
        """Run a batch (rows = samples) forward, keep every z and a, return a copy of the output.

        >>> net = Network([2, 1], "linear", weights=[[[2.0, 3.0]]], biases=1.0)
        >>> net.forward([[1.0, 1.0]])
        array([[6.]])
        """
        X = self._as_batch(X, self.n_inputs, "input X", "layer 1")
        return self._forward(X).copy()

    def _forward(self, X: np.ndarray) -> np.ndarray:
        """forward without validation, writing into reusable buffers (the training path)."""
        buf = self._get_buffers(X.shape[0])
        self.losses = None  # the last backward's results no longer belong to these z, a
        a = X
        for l, layer in enumerate(self.layers):
            layer.x = a
            layer.delta = None
            z = np.matmul(a, layer.W.T, out=buf.z[l])
            if layer.b is not None:
                z += layer.b
            if self.tap is not None:
                self.tap.z(self, l, z)
            layer.z = z
            a = layer.a = layer.activation.forward(z, out=buf.a[l])
            if self.tap is not None:
                self.tap.a(self, l, a)
        return a

    # ------------------------------------------------------------- backward
    def backward(self, T: Any) -> float:
        """Backpropagate targets T for the last forward batch; return the loss E.

        Fills every layer's ``delta``, ``grad_W`` and ``grad_b``; E (and the
        gradients) follow the network's ``reduction``.
        """
        out = self.layers[-1]
        if out.a is None:
            raise GlassnetError("backward() needs a forward() pass first")
        T = self._as_batch(T, self.n_outputs, "targets T", f"layer {len(self.layers)} (output)")
        if T.shape[0] != out.a.shape[0]:
            raise ShapeError(
                f"targets T have {T.shape[0]} rows but the last forward batch had {out.a.shape[0]}"
            )
        return self._backward(T)

    def _backward(self, T: np.ndarray, compute_loss: bool = True) -> float:
        layers = self.layers
        n = T.shape[0]
        buf = self._get_buffers(n)
        out = layers[-1]
        loss = float("nan")
        if compute_loss:
            self.losses = self._sample_losses(out, T)
            total = np.add.reduce(self.losses)  # = losses.sum(), without the method's wrapper
            # total / n is exactly losses.mean() (one correctly rounded division), cheaper
            loss = float(total if self.reduction == "sum" else total / n)
        # (1) output delta
        delta = buf.delta[-1]
        if self.fused_output_delta:
            self.loss.fused_delta(out.activation, out.a, T, out=delta)
        else:
            out.activation.backward(out.z, out.a, self.loss.grad_output(out.a, T), out=delta)
        if self.reduction == "mean" and n > 1:
            delta *= 1.0 / n
        if self.tap is not None:
            loss = self.tap.output_delta(self, T, delta, loss)
        out.delta = delta
        for l in range(len(layers) - 1, -1, -1):
            layer = layers[l]
            # (3), (4) gradients of this layer's parameters: ∂E/∂W = δᵀ x, written
            # as (xᵀ δ)ᵀ when grad_W is column-major (see Dense)
            grad_W = layer.grad_W
            if grad_W.flags.f_contiguous and not grad_W.flags.c_contiguous:
                np.matmul(layer.x.T, layer.delta, out=grad_W.T)
            else:
                np.matmul(layer.delta.T, layer.x, out=grad_W)
            if layer.grad_b is not None:
                np.add.reduce(layer.delta, axis=0, out=layer.grad_b)
            if self.tap is not None:
                self.tap.gradients(self, l)
            if l == 0:
                break  # the input layer's gradient is never needed
            # (2) delta of the layer below
            below = layers[l - 1]
            g = np.matmul(layer.delta, layer.W, out=buf.delta[l - 1])
            below.delta = below.activation.backward(below.z, below.a, g, out=g)
            if self.tap is not None:
                self.tap.hidden_delta(self, l - 1)
        return loss

    def _sample_losses(self, out: Dense, T: np.ndarray) -> np.ndarray:
        """E for each sample of the last forward batch.

        For softmax + cross-entropy the forward's own probabilities give
        −Σₖ tₖ log yₖ with one log per value, as long as every yₖ is a normal
        number (then log yₖ is as accurate as the log-softmax of the logits);
        otherwise the loss recomputes the log-softmax from z.
        """
        if type(self.loss) is CrossEntropy and type(out.activation) is Softmax:
            y = out.a
            if np.minimum.reduce(y, axis=None) >= _TINY[y.dtype]:
                losses = _row_dot(T, np.log(y))
                return np.negative(losses, out=losses)
        return self.loss.value(out.a, T, out.z, out.activation)

    def _flat_trainable(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(values, gradients): every trainable parameter as one flat array, or None.

        The layers' W, b, grad_W and grad_b are views into two flat buffers (see
        ``_pack_parameters``), in ``parameters()`` order, so an optimizer can update
        them all with a few whole-buffer operations. None when that would be wrong:
        some biases are frozen, or a layer's array was replaced by another one.
        """
        values, grads = self._flat_values, self._flat_grads
        for layer, (W, grad_W, b, grad_b) in zip(self.layers, self._flat_views, strict=True):
            if (layer.W is not W or layer.grad_W is not grad_W or W.base is not values
                    or grad_W.base is not grads or layer.b is not b or layer.grad_b is not grad_b):
                return None
            if b is not None and (not layer.update_bias or b.base is not values
                                  or grad_b.base is not grads):
                return None
        return values, grads

    # ---------------------------------------------------------------- steps
    def parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The trainable (name, value, gradient) triples, e.g. ``("W1", W, grad_W)``.

        Frozen biases are left out, so no optimizer can move them.
        """
        params = []
        for l, layer in enumerate(self.layers, start=1):
            params.append((f"W{l}", layer.W, layer.grad_W))
            if layer.update_bias:
                params.append((f"b{l}", layer.b, layer.grad_b))
        return params

    def train_step(self, X: Any, T: Any, optimizer: Any) -> float:
        """forward + backward + one optimizer update; returns the loss before the update."""
        self.forward(X)
        loss = self.backward(T)
        optimizer.step(self)
        return loss

    def compute_loss(self, X: Any, T: Any) -> float:
        """E for a batch (reduced per ``reduction``) without computing gradients."""
        X = self._as_batch(X, self.n_inputs, "input X", "layer 1")
        T = self._as_batch(T, self.n_outputs, "targets T", f"layer {len(self.layers)} (output)")
        if T.shape[0] != X.shape[0]:
            raise ShapeError(f"X has {X.shape[0]} rows but T has {T.shape[0]}")
        self._forward(X)
        out = self.layers[-1]
        losses = self.loss.value(out.a, T, out.z, out.activation)
        return float(losses.sum() if self.reduction == "sum" else losses.mean())

    def predict(self, X: Any, batch_size: int = 4096) -> np.ndarray:
        """Outputs for any number of rows, computed in chunks to bound memory."""
        X = self._as_batch(X, self.n_inputs, "input X", "layer 1")
        outs = [self._forward(X[i:i + batch_size]).copy() for i in range(0, len(X), batch_size)]
        return np.concatenate(outs, axis=0)

    def trace(self, samples: Any = None) -> Any:
        """Copy the last forward/backward intermediates into a read-only Trace.

        ``samples`` (indices into the last batch) keeps only those rows, so a
        trace of a few samples during MNIST training is cheap.
        """
        from .trace import Trace

        return Trace.capture(self, samples)

    # ---------------------------------------------------------- persistence
    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter by name: ``W1``, ``b1``, ``W2``, ..."""
        out = {}
        for l, layer in enumerate(self.layers, start=1):
            out[f"W{l}"] = layer.W.copy()
            if layer.b is not None:
                out[f"b{l}"] = layer.b.copy()
        return out

    def set_weights(self, weights: dict[str, Any]) -> None:
        """Overwrite every parameter in place from a ``get_weights``-style dict (checked).

        Everything is checked before anything is written, so a failed call leaves the
        network unchanged.
        """
        checked = []
        for l, layer in enumerate(self.layers, start=1):
            names = [(f"W{l}", layer.W)] + ([(f"b{l}", layer.b)] if layer.b is not None else [])
            for name, target in names:
                if name not in weights:
                    raise GlassnetError(f"set_weights: missing array {name!r}")
                value = np.asarray(weights[name])
                if value.shape != target.shape:
                    raise ShapeError(f"set_weights: {name} must have shape {target.shape}, "
                                     f"got {value.shape}")
                if value.dtype.kind not in "fiu" or not np.isfinite(value).all():
                    raise NonFiniteError(f"set_weights: {name} must be finite numbers")
                checked.append((target, value))
        expected = {n for n, _, _ in self.parameters()} | {
            f"b{l}" for l, layer in enumerate(self.layers, 1) if layer.b is not None}
        extra = set(weights) - expected
        if extra:
            raise GlassnetError(f"set_weights: unexpected array {sorted(extra)[0]!r}")
        for target, value in checked:
            target[...] = value

    def get_config(self) -> dict[str, Any]:
        """A JSON-serialisable description of the architecture and conventions."""
        return {
            "layers": list(self.sizes),
            "activation": [layer.activation.get_config() for layer in self.layers],
            "loss": self.loss.name,
            "biases": self.has_biases,
            "update_biases": self.update_biases,
            "reduction": self.reduction,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], weights: dict[str, Any] | None = None) -> Network:
        """Rebuild a network from ``get_config()`` (and optionally ``get_weights()``)."""
        allowed = {"layers", "activation", "loss", "biases", "update_biases", "reduction", "dtype"}
        extra = set(config) - allowed
        if extra:
            raise GlassnetError(f"network config: unknown key {sorted(extra)[0]!r}")
        for key in ("layers", "activation", "loss"):
            if key not in config:
                raise GlassnetError(f"network config: missing key {key!r}")
        net = cls(
            config["layers"], config["activation"], config["loss"],
            weights="zeros", biases=0.0 if config.get("biases", True) else None,
            update_biases=config.get("update_biases", True),
            reduction=config.get("reduction", "sum"), dtype=config.get("dtype", "float64"),
        )
        if weights is not None:
            net.set_weights(weights)
        return net

    def copy(self, dtype: Any = None) -> Network:
        """An independent copy (optionally in another dtype)."""
        config = self.get_config()
        if dtype is not None:
            config["dtype"] = as_dtype(dtype).name
        return Network.from_config(config, self.get_weights())


class _LazyGenerator:
    """``numpy.random.default_rng(seed)``, made on first use (or ``seed`` itself when it
    is already a Generator). Importing numpy.random costs about 20 ms, which a network
    given explicit weights, like every exercise, never needs."""

    def __init__(self, seed: Any):
        self._seed, self._rng = seed, None

    def __getattr__(self, name: str) -> Any:
        if self._rng is None:
            seed = self._seed
            self._rng = seed if isinstance(seed, np.random.Generator) \
                else np.random.default_rng(seed)
        return getattr(self._rng, name)


def _pack_parameters(Ws: list[np.ndarray], bs: list[np.ndarray | None], dtype: np.dtype
                     ) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """Copy the parameters into one flat buffer (W1, b1, W2, b2, ...), with a twin for
    the gradients; return both and each layer's (W, grad_W, b, grad_b) views.

    W is a column-major view: same shape and values, but BLAS can write ∂E/∂W =
    (xᵀδ)ᵀ straight into grad_W in its faster orientation (see :class:`Dense`).
    """
    total = sum(W.size + (0 if b is None else b.size) for W, b in zip(Ws, bs, strict=True))
    values, grads = np.empty(total, dtype), np.zeros(total, dtype)
    views, offset = [], 0
    for W, b in zip(Ws, bs, strict=True):
        end = offset + W.size
        W_view = values[offset:end].reshape(W.shape, order="F")
        W_view[...] = W
        layer = [W_view, grads[offset:end].reshape(W.shape, order="F")]
        offset = end
        if b is None:
            layer += [None, None]
        else:
            end = offset + b.size
            values[offset:end] = b
            layer += [values[offset:end], grads[offset:end]]
            offset = end
        views.append(tuple(layer))
    return values, grads, views


def _check_sizes(layers: Sequence[int]) -> list[int]:
    try:
        sizes = [int(s) for s in layers]
        ok = all(float(s) == s and float(s) == int(s) for s in layers)
    except (TypeError, ValueError):
        ok, sizes = False, []
    if not ok or len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ShapeError(
            f"layers must be a list of at least 2 positive integers (input first), got {layers!r}"
        )
    return sizes


def _make_params(spec: Any, shapes: list[tuple[int, ...]], rng: Any,
                 dtype: np.dtype, what: str) -> list[np.ndarray]:
    """Build one array per layer from a number, an initializer, or explicit arrays."""
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(shapes):
            raise ShapeError(
                f"{what}: expected one array per non-input layer ({len(shapes)}), got {len(spec)}"
            )
        arrays = []
        for l, (value, shape) in enumerate(zip(spec, shapes, strict=True), start=1):
            try:
                arr = np.array(value, dtype=dtype)
            except (TypeError, ValueError):
                raise ShapeError(f"{what}[{l - 1}] (layer {l}) must be a numeric array of shape "
                                 f"{shape}") from None
            if arr.ndim == 0:
                arr = np.full(shape, arr, dtype=dtype)
            if arr.shape != shape:
                meaning = (f"(units of layer {l}, units of layer {l - 1})" if len(shape) == 2
                           else f"(one per unit of layer {l})")
                raise ShapeError(
                    f"{what}[{l - 1}] (layer {l}) must have shape {shape} {meaning}, "
                    f"got {arr.shape}"
                )
            if not np.isfinite(arr).all():
                raise NonFiniteError(f"{what}[{l - 1}] (layer {l}) contains a non-finite value")
            arrays.append(arr)
        return arrays
    if isinstance(spec, np.ndarray):
        raise GlassnetError(f"{what}: give a list with one array per layer, not a single array")
    init = get_initializer(spec)
    return [init(shape, rng, dtype) for shape in shapes]
