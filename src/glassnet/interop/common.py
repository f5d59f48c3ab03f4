"""What the three exporters share: the optional imports, the layout, the scaling, the writing.

Why one place: ONNX, PyTorch and safetensors all describe the same network
the same way. glassnet's ``W`` of layer l has shape (units of l, units of
l−1) and z = x Wᵀ + b, which is exactly ``torch.nn.Linear``'s ``weight``
and ONNX ``Gemm`` with ``transB=1``; so every format stores the arrays
unchanged, under PyTorch's state-dict names (``0.weight``, ``0.bias``,
``2.weight``, ...: a Linear at every even index of an ``nn.Sequential``, its
activation at the odd index after it).

>>> from glassnet import Network
>>> net = Network([3, 4, 2], ["relu", "softmax"], "cross_entropy")
>>> [key for key, _ in torch_state_items(net)]
['0.weight', '0.bias', '2.weight', '2.bias']
>>> scale_divisor("pixel / 255"), scale_divisor("none")
(255.0, None)
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..data.preprocess import pixel_divisor
from ..errors import GlassnetError
from ..fileio import atomic_write_bytes, check_output_file

__all__ = ["InteropError", "require", "as_network", "check_activations", "torch_state_items",
           "scale_divisor", "input_scaling", "describe_scaling", "torch_code",
           "network_metadata", "write_bytes_atomic", "check_out_path", "ACTIVATION_NAMES"]

#: the glassnet activations every exporter knows (name -> PyTorch module, for messages)
ACTIVATION_NAMES = {
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU",
    "linear": "nn.Identity()",
    "softmax": "nn.Softmax(dim=-1)",
}


class InteropError(GlassnetError):
    """A model or module that cannot be converted, or a missing optional dependency."""


def require(module: str, extra: str, what: str) -> Any:
    """Import an optional dependency, or say which pip extra provides it.

    >>> require("json", "onnx", "test").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InteropError(f"{what} needs the {module.split('.')[0]} package: "
                           f"pip install 'glassnet[{extra}]'") from None


def as_network(model: Any) -> Any:
    """A :class:`~glassnet.Network` from a Network or a Classifier (its ``.network``)."""
    from ..network import Network

    net = getattr(model, "network", model)
    if not isinstance(net, Network):
        raise InteropError(f"expected a glassnet Network or Classifier, got "
                           f"{type(model).__name__}")
    return net


def check_activations(net: Any, target: str) -> None:
    """Refuse, naming the layer, an activation this exporter has no equivalent for."""
    for l, layer in enumerate(net.layers, start=1):
        name = layer.activation.name
        if name not in ACTIVATION_NAMES:
            raise InteropError(f"layer {l}: activation {name!r} has no {target} equivalent; "
                               f"supported: {', '.join(ACTIVATION_NAMES)}")


def torch_state_items(net: Any) -> list[tuple[str, np.ndarray]]:
    """(key, array) pairs in PyTorch's state-dict order; arrays C-contiguous copies.

    The Linear of layer l sits at index 2(l−1) of the Sequential, so its
    weight is ``f"{2*(l-1)}.weight"`` with glassnet's ``W`` unchanged (shape
    (out, in)), and its bias ``f"{2*(l-1)}.bias"``.
    """
    items = []
    for l, layer in enumerate(net.layers):
        items.append((f"{2 * l}.weight", np.ascontiguousarray(layer.W).copy()))
        if layer.b is not None:
            items.append((f"{2 * l}.bias", np.ascontiguousarray(layer.b).copy()))
    return items


def scale_divisor(scaling: str | None) -> float | None:
    """The divisor of a model's input scaling ``"pixel / N"``; None for ``"none"``.

    Any other scaling is refused: an export that silently dropped it would
    give different probabilities from ``glassnet predict``.
    """
    try:
        if str(scaling).replace(" ", "").lower() == "standardize":
            raise GlassnetError("standardize without a stored mean and scale")
        return pixel_divisor(scaling)
    except GlassnetError:
        raise InteropError(f"input scaling {scaling!r} is not supported by the exporters (they "
                           "know 'none', 'pixel / N' and a stored per-feature mean and scale)") \
            from None


def input_scaling(preprocessing: dict[str, Any] | None) -> tuple[str, Any]:
    """What a model does to its raw input rows before the network sees them.

    ``("none", None)``, ``("divide", N)`` for ``"pixel / N"`` (the built-in
    image datasets), or ``("standardize", (mean, scale))``, float64 arrays, for
    a model trained with ``--data`` (``(x − mean) / scale`` per feature).
    """
    pre = preprocessing or {}
    if "mean" in pre or "scale" in pre:
        mean = np.asarray(pre.get("mean"), dtype=np.float64)
        scale = np.asarray(pre.get("scale"), dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape or not (
                np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise InteropError("preprocessing: 'mean' and 'scale' must be lists of finite "
                               "numbers of equal length, the scales positive")
        return "standardize", (mean, scale)
    divisor = scale_divisor(pre.get("scaling"))
    return ("none", None) if divisor is None else ("divide", divisor)


def describe_scaling(preprocessing: dict[str, Any] | None) -> str:
    """The input scaling in words, for the CLI and file metadata."""
    kind, value = input_scaling(preprocessing)
    if kind == "divide":
        return f"raw values divided by {value:g} ({preprocessing['scaling']})"
    if kind == "standardize":
        return ("each feature standardized, (x - mean) / scale, with the mean and scale "
                "stored in the model's preprocessing")
    return "none (the network's inputs as they are)"


def torch_code(net: Any, state_file: str | None = None) -> str:
    """Python source that rebuilds the ``nn.Sequential`` the exported weights load into."""
    check_activations(net, "PyTorch")
    lines = ["import torch", "from torch import nn", "", "model = nn.Sequential("]
    bias = "" if net.has_biases else ", bias=False"
    for l, layer in enumerate(net.layers):
        linear = f"    nn.Linear({layer.n_in}, {layer.n_out}{bias}),"
        params = f"W{l + 1}, b{l + 1}" if net.has_biases else f"W{l + 1}"
        lines.append(f"{linear:<40} # {2 * l}: {params} of glassnet")
        act = layer.activation
        module = (f"nn.LeakyReLU(negative_slope={act.alpha!r})" if act.name == "leaky_relu"
                  else ACTIVATION_NAMES[act.name])
        lines.append(f"{'    ' + module + ',':<40} # {2 * l + 1}: {act.name}")
    dtype = "torch.float64" if net.dtype == np.float64 else "torch.float32"
    lines.append(f").to({dtype})")
    if state_file is not None:
        lines.append(f"model.load_state_dict(torch.load({state_file!r}, weights_only=True))")
    return "\n".join(lines)


def network_metadata(model: Any) -> dict[str, str]:
    """String-valued facts about a model for a file's metadata (JSON where structured)."""
    from .._version import __version__

    net = as_network(model)
    meta = {
        "glassnet_version": __version__,
        "network": json.dumps(net.get_config()),
        "layout": "key N.weight = W of the Linear at index N of the nn.Sequential, shape "
                  "(units out, units in), z = x W^T + b; N.bias = b",
        "torch_sequential": torch_code(net),
    }
    if model is not net:
        meta["class_names"] = json.dumps(list(model.class_names))
        meta["preprocessing"] = json.dumps(dict(model.preprocessing))
    return meta


def check_out_path(out: str | os.PathLike) -> Path:
    """Check before any work that ``out`` can be written: a file name in an existing folder."""
    return check_output_file(out, what="--out")


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` so that a reader sees the old file or the whole new one, never a part."""
    atomic_write_bytes(path, data, what="--out")
