"""``glassnet export MODEL_DIR --format onnx|torch|safetensors --out FILE``.

Why a command: a model trained here should deploy (ONNX) or keep training
elsewhere (PyTorch, safetensors) without the user knowing the ``.npz``
layout. The checks that cost nothing come first (``--out`` writable, the
format's package installed), then the model is loaded and converted, and
the file is written atomically. What was written is printed: the graph's
input and output for ONNX, the ``nn.Sequential`` to load the weights into
for PyTorch and safetensors. See docs/interop.md.
"""

from __future__ import annotations

import argparse

FORMATS = ("onnx", "torch", "safetensors")
#: the package each format needs, and the pip extra that installs it
_NEEDS = {"onnx": ("onnx", "onnx"), "torch": ("torch", "torch"),
          "safetensors": ("safetensors.numpy", "safetensors")}


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="export a model to ONNX, a PyTorch state dict, or safetensors",
        description="Write a trained model directory in another format.\n\n"
                    "  onnx         a standard ONNX graph that takes the raw inputs (the model's "
                    "input\n               scaling is inside) and outputs the probabilities "
                    "glassnet predict prints\n"
                    "  torch        a state dict (keys 0.weight, 0.bias, 2.weight, ...) for the "
                    "printed\n               nn.Sequential, loadable with torch.load(FILE, "
                    "weights_only=True)\n"
                    "  safetensors  the same tensors, with the architecture in the metadata",
        epilog="examples:\n"
               "  glassnet export models/digits --format onnx --out digits.onnx\n"
               "  glassnet export models/digits --format torch --out digits.pt\n"
               "  glassnet export models/digits --format safetensors --out digits.safetensors",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL_DIR", help="a model directory written by "
                                                      "glassnet train")
    p.add_argument("--format", required=True, choices=FORMATS,
                   help="onnx (deployment; needs glassnet[onnx]), torch (a PyTorch state "
                        "dict; needs glassnet[torch]) or safetensors (needs "
                        "glassnet[safetensors])")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="the file to write (replaced atomically if it exists)")
    p.add_argument("--opset", type=int, default=None, metavar="N",
                   help="ONNX operator set version (default 17; 13 or later)")
    return p


def run(args: argparse.Namespace) -> int:
    from ..errors import GlassnetError
    from ..interop.common import check_out_path, require, write_bytes_atomic
    from ..training import Classifier

    if args.opset is not None and args.format != "onnx":
        raise GlassnetError("--opset applies to --format onnx only")
    out = check_out_path(args.out)
    from ..fileio import check_outputs

    check_outputs([("--out", out)], [("MODEL_DIR", args.model)],
                  model_folders=[("MODEL_DIR", args.model)])  # never inside the model itself
    module, extra = _NEEDS[args.format]
    require(module, extra, f"glassnet export --format {args.format}")
    model = Classifier.load(args.model)
    if args.format == "onnx":
        from ..interop.onnx import OPSET, describe, onnx_bytes

        opset = OPSET if args.opset is None else args.opset
        data = onnx_bytes(model, opset=opset)
        summary = [f"wrote {out} (ONNX, opset {opset}, {len(data):,} bytes)", describe(model)]
    else:
        from ..interop.common import describe_scaling, torch_code

        if args.format == "torch":
            from ..interop.torch import torch_state_dict_bytes

            data = torch_state_dict_bytes(model)
            load = f"model.load_state_dict(torch.load({str(out)!r}, weights_only=True))"
            kind = "PyTorch state dict"
        else:
            from ..interop.safetensors import safetensors_bytes

            data = safetensors_bytes(model)
            load = ("from safetensors.torch import load_file\n"
                    f"model.load_state_dict(load_file({str(out)!r}))")
            kind = "safetensors, architecture in the metadata"
        outputs = (f"p({model.class_names[1]}) (one sigmoid unit)" if model.task == "binary"
                   else "p(" + "), p(".join(model.class_names) + ")")
        summary = [f"wrote {out} ({kind}, {len(data):,} bytes); load it into:", "",
                   torch_code(model.network), load,
                   f"# input scaling: {describe_scaling(model.preprocessing)}",
                   f"# outputs: {outputs}"]
    write_bytes_atomic(out, data)
    print("\n".join(summary))
    return 0
