"""glassnet ⇄ PyTorch: the same MLP as a ``torch.nn.Sequential``, weights bit for bit.

Why both ways: :func:`to_torch` lets a model trained here continue in
PyTorch (a bigger machine, distributed training); :func:`from_torch` lets a
small PyTorch MLP be explained here, every number of its training step
shown (:func:`explain_torch_step`), which no PyTorch tool does.

The layout needs no transposes: glassnet's ``W`` of layer l has shape (units
of l, units of l−1) and z = x Wᵀ + b, exactly ``nn.Linear``'s ``weight``.
:func:`to_torch` builds ``Linear, activation, Linear, activation, ...`` (the
output activation included; a linear layer gets ``nn.Identity()``), so the
state-dict keys are ``0.weight``, ``0.bias``, ``2.weight``, ...

PyTorch is optional: ``pip install 'glassnet[torch]'``.

Example (needs torch)::

    >>> import torch
    >>> from glassnet import Network
    >>> from glassnet.interop import to_torch, from_torch
    >>> net = Network([2, 3, 1], "sigmoid", "half_sse", weights=0.5, biases=0.1)
    >>> seq = to_torch(net)
    >>> seq
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): Sigmoid()
      (2): Linear(in_features=3, out_features=1, bias=True)
      (3): Sigmoid()
    )
    >>> back = from_torch(seq, loss="half_sse")
    >>> bool((back.layers[0].W == net.layers[0].W).all())
    True
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from .common import (
    ACTIVATION_NAMES,
    InteropError,
    as_network,
    check_activations,
    require,
    torch_state_items,
)

__all__ = ["to_torch", "from_torch", "explain_torch_step", "torch_state_dict_bytes"]

_TORCH_EXTRA = "torch"


def _torch(what: str) -> Any:
    return require("torch", _TORCH_EXTRA, what)


def _torch_dtype(torch: Any, dtype: np.dtype) -> Any:
    return torch.float64 if dtype == np.float64 else torch.float32


def _activation_module(nn: Any, act: Any) -> Any:
    if act.name == "sigmoid":
        return nn.Sigmoid()
    if act.name == "tanh":
        return nn.Tanh()
    if act.name == "relu":
        return nn.ReLU()
    if act.name == "leaky_relu":
        return nn.LeakyReLU(negative_slope=act.alpha)
    if act.name == "linear":
        return nn.Identity()
    if act.name == "softmax":
        return nn.Softmax(dim=-1)
    raise InteropError(f"activation {act.name!r} has no PyTorch equivalent; supported: "
                       f"{', '.join(ACTIVATION_NAMES)}")  # pragma: no cover (checked before)


def to_torch(network: Any) -> Any:
    """The ``torch.nn.Sequential`` computing what ``network`` computes, same weights and dtype.

    ``network`` is a :class:`~glassnet.Network` or a trained Classifier.
    Every Linear is followed by its activation module (``nn.Identity()`` for
    a linear layer, ``nn.Softmax(dim=-1)`` for a softmax output), so the
    Linear of layer l sits at index 2(l−1). The weights are copies: training
    the Sequential leaves ``network`` unchanged.

    To continue training a softmax classifier with ``nn.CrossEntropyLoss``
    (which wants logits), train ``seq[:-1]``: the same modules without the
    final softmax, sharing the parameters.
    """
    torch = _torch("to_torch")
    nn = torch.nn
    net = as_network(network)
    check_activations(net, "PyTorch")
    dtype = _torch_dtype(torch, net.dtype)
    modules = []
    state = dict(torch_state_items(net))
    for l, layer in enumerate(net.layers):
        linear = nn.Linear(layer.n_in, layer.n_out, bias=layer.b is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(state[f"{2 * l}.weight"]))
            if layer.b is not None:
                linear.bias.copy_(torch.from_numpy(state[f"{2 * l}.bias"]))
        modules += [linear, _activation_module(nn, layer.activation)]
    return nn.Sequential(*modules)


def torch_state_dict_bytes(network: Any) -> bytes:
    """``torch.save`` of the state dict of :func:`to_torch`'s Sequential, as bytes.

    Plain tensors under ``0.weight``, ``0.bias``, ``2.weight``, ...: loadable
    with ``torch.load(file, weights_only=True)`` (no pickled code).
    """
    torch = _torch("PyTorch export")
    net = as_network(network)
    check_activations(net, "PyTorch")
    state = {key: torch.from_numpy(arr) for key, arr in torch_state_items(net)}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------- from_torch
_FLOAT_DTYPES = {"torch.float32": "float32", "torch.float64": "float64"}


def _module_activation(nn: Any, module: Any, index: str, last: bool) -> Any:
    """The glassnet activation (name or config) of a PyTorch activation module, or None."""
    kind = type(module)
    if kind is nn.Sigmoid:
        return "sigmoid"
    if kind is nn.Tanh:
        return "tanh"
    if kind is nn.ReLU:
        return "relu"
    if kind is nn.LeakyReLU:
        slope = float(module.negative_slope)
        if not (np.isfinite(slope) and slope >= 0):
            raise InteropError(f"module {index} (LeakyReLU): negative_slope must be a finite "
                               f"number >= 0 for glassnet, got {slope!r}")
        return {"name": "leaky_relu", "alpha": slope}
    if kind is nn.Identity:
        return "linear"
    if kind is nn.Softmax:
        if module.dim not in (-1, 1):
            raise InteropError(f"module {index} (Softmax): glassnet's softmax runs over each "
                               f"sample's outputs, Softmax(dim=-1); got dim={module.dim!r}")
        if not last:
            raise InteropError(f"module {index} (Softmax): softmax is only supported as the "
                               "last module (the output layer)")
        return "softmax"
    return None


def _cannot_take(module: Any, index: str, reason: str = "") -> InteropError:
    name = type(module).__name__
    return InteropError(
        f"module {index} ({name}) cannot be converted{reason}: glassnet takes an "
        f"nn.Sequential of Linear layers, each followed by at most one of Sigmoid, Tanh, "
        f"ReLU, LeakyReLU, Identity, or Softmax(dim=-1) as the last module")


def from_torch(sequential: Any, *, loss: str | None = None, reduction: str = "mean",
               update_biases: bool = True) -> Any:
    """A glassnet :class:`~glassnet.Network` with the weights of a PyTorch MLP (bit for bit).

    ``sequential`` is an ``nn.Sequential`` of ``nn.Linear`` layers, each
    optionally followed by one activation module (Sigmoid, Tanh, ReLU,
    LeakyReLU, Identity, or Softmax(dim=-1) as the last module); a Linear
    followed directly by a Linear gets the identity. All Linear layers have
    biases, or none has. The dtype (float32 or float64) is kept.

    ``loss`` picks the glassnet loss whose gradient the training step
    follows (default: ``cross_entropy`` after a final Softmax, otherwise
    ``mse``). Matching PyTorch exactly:

    * ``nn.MSELoss()`` (the mean over all N·K entries): ``loss="mse"``, mode ``batch_mean``;
    * ``nn.MSELoss(reduction="sum")``: ``"sse"``, mode ``batch``;
    * ``nn.MSELoss(reduction="sum") / 2``: ``"half_sse"``, mode ``batch``;
    * ``nn.CrossEntropyLoss()`` on ``seq[:-1]`` (the logits): ``"cross_entropy"``,
      mode ``batch_mean``;
    * ``nn.BCELoss(reduction="sum")`` on a sigmoid output: ``"binary_cross_entropy"``,
      mode ``batch``.

    (``nn.BCELoss()``'s mean divides by N·K, glassnet's ``batch_mean`` by N:
    the same for one output unit.) The first module it cannot take is named
    in the error, e.g. ``module 0 (Conv2d) cannot be converted``.
    """
    torch = _torch("from_torch")
    nn = torch.nn
    from ..losses import get_loss
    from ..network import Network

    if not isinstance(sequential, nn.Sequential):
        raise InteropError(f"from_torch expects a torch.nn.Sequential, got "
                           f"{type(sequential).__name__}")
    children = list(sequential.named_children())
    modules = [module for _, module in children]
    if not modules:
        raise InteropError("from_torch: the Sequential is empty")
    sizes: list[int] = []
    acts: list[Any] = []
    Ws: list[np.ndarray] = []
    bs: list[np.ndarray | None] = []
    dtype_name: str | None = None
    expect_linear = True
    for position, (child, module) in enumerate(children):
        last = position == len(modules) - 1
        # "module 2", or "module 2 'fc2'" in a Sequential built from an OrderedDict
        index = str(position) if child == str(position) else f"{position} {child!r}"
        if isinstance(module, nn.Linear) and type(module).forward is nn.Linear.forward:
            if isinstance(module.weight, nn.parameter.UninitializedParameter):
                raise _cannot_take(module, index, " (an uninitialized lazy layer)")
            if Ws and not expect_linear:
                acts.append("linear")  # a Linear followed directly by a Linear
            W = module.weight.detach().cpu()
            name = _FLOAT_DTYPES.get(str(W.dtype))
            if name is None:
                raise InteropError(f"module {index} (Linear): weights of dtype {W.dtype}; "
                                   "glassnet computes in float32 or float64")
            if dtype_name is not None and name != dtype_name:
                raise InteropError(f"module {index} (Linear): weights are {name} but earlier "
                                   f"layers are {dtype_name}; convert the model with "
                                   f".float() or .double() first")
            dtype_name = name
            if sizes and module.in_features != sizes[-1]:
                raise InteropError(f"module {index} (Linear): in_features is "
                                   f"{module.in_features} but the previous layer has "
                                   f"{sizes[-1]} units")
            if not sizes:
                sizes.append(int(module.in_features))
            sizes.append(int(module.out_features))
            has_bias = module.bias is not None
            if bs and (bs[0] is not None) != has_bias:
                raise InteropError(f"module {index} (Linear): bias={has_bias} but the first "
                                   f"Linear has bias={not has_bias}; glassnet needs biases on "
                                   "every layer or on none")
            Ws.append(W.numpy().copy())
            bs.append(module.bias.detach().cpu().numpy().copy() if has_bias else None)
            expect_linear = False
            continue
        act = _module_activation(nn, module, index, last)
        if act is None:
            raise _cannot_take(module, index)
        if expect_linear:
            where = "before the first Linear" if not Ws else "right after another activation"
            raise _cannot_take(module, index, f" ({where}; glassnet applies one activation "
                                              "after each Linear)")
        acts.append(act)
        expect_linear = True
    if not expect_linear:
        acts.append("linear")  # the last Linear had no activation after it
    if loss is None:
        loss = "cross_entropy" if acts[-1] == "softmax" else "mse"
    loss_obj = get_loss(loss)
    return Network(sizes, acts, loss_obj, weights=Ws,
                   biases=None if bs[0] is None else bs, update_biases=update_biases,
                   reduction=reduction, dtype=dtype_name)


def explain_torch_step(sequential: Any, X: Any, T: Any, *, lr: float, loss: str | None = None,
                       mode: str = "batch_mean", epochs: int = 1) -> Any:
    """The worked solution of training a PyTorch MLP on (X, T) with plain SGD.

    Converts ``sequential`` with :func:`from_torch` and solves it as an
    exercise (float64, every z, a, δ, gradient and new weight), returning a
    :class:`~glassnet.exercise.Solution`: ``.to_text()``, ``.to_markdown()``,
    ``.updates[0].layers[l].W_after``. ``mode`` is ``batch_mean`` (one update
    with the mean gradient: PyTorch's ``reduction="mean"`` losses),
    ``batch`` (the summed gradient: ``reduction="sum"``) or ``sgd`` (one
    update per sample). The Sequential itself is not changed.
    """
    from ..exercise import parse_exercise, solve

    net = from_torch(sequential, loss=loss)
    X = np.asarray(X, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    X = X.reshape(1, -1) if X.ndim == 1 else X
    T = T.reshape(-1, 1) if T.ndim == 1 and net.n_outputs == 1 and len(T) == len(X) else T
    T = T.reshape(1, -1) if T.ndim == 1 else T
    if X.ndim != 2 or T.ndim != 2 or len(X) != len(T):
        raise InteropError(f"explain_torch_step: X and T must be matching rows of samples, got "
                           f"shapes {X.shape} and {T.shape}")
    config = net.get_config()
    doc = {
        "title": "one training step of a PyTorch nn.Sequential",
        "network": {
            "layers": config["layers"],
            "activation": config["activation"],
            "weights": [layer.W.astype(np.float64).tolist() for layer in net.layers],
            "biases": (None if not net.has_biases
                       else [layer.b.astype(np.float64).tolist() for layer in net.layers]),
        },
        "loss": net.loss.name,
        "learning_rate": float(lr),
        "mode": mode,
        "epochs": epochs,
        "samples": [{"x": x.tolist(), "t": t.tolist()} for x, t in zip(X, T, strict=True)],
    }
    return solve(parse_exercise(doc, source="PyTorch model"))
