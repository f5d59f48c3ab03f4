"""Interoperability: glassnet models in ONNX, PyTorch and safetensors, and PyTorch MLPs here.

* :func:`to_torch` / :func:`from_torch`: the same MLP as a ``torch.nn.Sequential``
  and back, weights bit for bit; :func:`explain_torch_step` shows the worked
  SGD step of a PyTorch MLP (module :mod:`glassnet.interop.torch`).
* :func:`to_onnx`: an ONNX graph including the model's input scaling, whose
  output equals ``glassnet predict``'s probabilities (:mod:`glassnet.interop.onnx`).
* :func:`safetensors_bytes` / :func:`read_safetensors`: the weights with the
  architecture in the metadata (:mod:`glassnet.interop.safetensors`).

Each format's package is optional (``pip install 'glassnet[interop]'`` for
all three) and imported only when a function here is called, so ``import
glassnet.interop`` costs nothing. See ``docs/interop.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

from .common import InteropError

__all__ = ["InteropError", "to_torch", "from_torch", "explain_torch_step", "to_onnx",
           "safetensors_bytes", "read_safetensors"]

_WHERE = {
    "to_torch": "torch", "from_torch": "torch", "explain_torch_step": "torch",
    "torch_state_dict_bytes": "torch",
    "to_onnx": "onnx", "onnx_bytes": "onnx",
    "safetensors_bytes": "safetensors", "read_safetensors": "safetensors",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'glassnet.interop' has no attribute {name!r}")
    return getattr(importlib.import_module(f"glassnet.interop.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
