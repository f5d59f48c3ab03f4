"""Export to (and read back from) safetensors: the weights plus the architecture as metadata.

Why safetensors: a file of plain arrays with a JSON header, readable by
PyTorch, JAX, NumPy and the Hugging Face tools without executing anything
(unlike a pickle). The tensors use PyTorch's state-dict names (``0.weight``,
``0.bias``, ``2.weight``, ...; shapes as in ``nn.Linear``), so
``safetensors.torch.load_file`` feeds ``model.load_state_dict`` of the
Sequential :func:`glassnet.interop.to_torch` builds. The metadata (strings
only, as the format requires) holds:

* ``format``: ``"pt"`` (the PyTorch layout, what Hugging Face tools check);
* ``network``: glassnet's architecture (JSON of ``Network.get_config()``);
* ``torch_sequential``: the Python code of the matching ``nn.Sequential``;
* ``layout``, ``glassnet_version``, and for a trained model ``class_names``
  and ``preprocessing`` (JSON).

safetensors is optional: ``pip install 'glassnet[safetensors]'`` (NumPy
only, no PyTorch needed).

>>> import os, tempfile
>>> from glassnet import Network
>>> net = Network([2, 3, 1], "sigmoid", "half_sse", weights=0.5, biases=0.1)
>>> path = os.path.join(tempfile.mkdtemp(), "net.safetensors")
>>> _ = open(path, "wb").write(safetensors_bytes(net))
>>> back = read_safetensors(path)
>>> back.sizes, bool((back.layers[1].W == net.layers[1].W).all())
([2, 3, 1], True)
"""

from __future__ import annotations

import json
import os
from typing import Any

from .common import (
    InteropError,
    as_network,
    check_activations,
    network_metadata,
    require,
    torch_state_items,
)

__all__ = ["safetensors_bytes", "read_safetensors"]


def safetensors_bytes(model: Any) -> bytes:
    """The content of a ``.safetensors`` file for a glassnet Network or Classifier."""
    st_numpy = require("safetensors.numpy", "safetensors", "safetensors export")
    net = as_network(model)
    check_activations(net, "safetensors")
    metadata = {"format": "pt", **network_metadata(model)}
    return st_numpy.save(dict(torch_state_items(net)), metadata=metadata)


def read_safetensors(path: str | os.PathLike) -> Any:
    """The glassnet :class:`~glassnet.Network` stored in a file :func:`safetensors_bytes` wrote.

    The architecture comes from the ``network`` metadata; every tensor must be
    there with the right shape and dtype, and nothing else.
    """
    require("safetensors.numpy", "safetensors", "reading safetensors")
    from safetensors import SafetensorError, safe_open

    from ..errors import GlassnetError
    from ..network import Network

    path = os.fspath(path)
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except (SafetensorError, OSError) as exc:
        raise InteropError(f"{path}: not a readable safetensors file: {exc}") from None
    if "network" not in metadata:
        raise InteropError(f"{path}: no 'network' metadata (not written by glassnet export)")
    try:
        config = json.loads(metadata["network"])
        net = Network.from_config(config)
    except (ValueError, TypeError, KeyError) as exc:
        raise InteropError(f"{path}: metadata 'network' is not a glassnet architecture: "
                           f"{exc}") from None
    expected = dict(torch_state_items(net))
    if set(tensors) != set(expected):
        missing = sorted(set(expected) - set(tensors))
        extra = sorted(set(tensors) - set(expected))
        raise InteropError(f"{path}: tensors do not match the architecture (missing "
                           f"{missing or 'none'}, unexpected {extra or 'none'})")
    weights = {}
    for l in range(len(net.layers)):
        for kind, name in (("weight", f"W{l + 1}"), ("bias", f"b{l + 1}")):
            key = f"{2 * l}.{kind}"
            if key not in tensors:
                continue
            arr = tensors[key]
            want = expected[key]
            if arr.shape != want.shape or arr.dtype != want.dtype:
                raise InteropError(f"{path}: tensor {key} has shape {arr.shape} and dtype "
                                   f"{arr.dtype}, expected {want.shape} {want.dtype}")
            weights[name] = arr
    try:
        net.set_weights(weights)
    except GlassnetError as exc:
        raise InteropError(f"{path}: {exc}") from None
    return net
