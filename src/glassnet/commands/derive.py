"""``glassnet derive``: write, in the reader's notation, and prove the formulas of backpropagation.

``glassnet derive FILE`` (an exercise file; its numbers, when it has them,
give every formula its instance from the engine's trace) or ``glassnet
derive --layers 2,3,1 --activation sigmoid --loss half_sse``. Formats: text,
markdown (LaTeX), json (``glassnet.derive/1``, derive-format.md). SymPy is
imported in :func:`run`, never by ``glassnet --help``.
"""

from __future__ import annotations

import argparse

FORMATS = ("text", "markdown", "md", "json")


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "derive",
        help="derive (and prove) the backpropagation formulas of a network, step by step",
        description="Write the derivation of backpropagation for a network: definitions, the "
                    "output layer by the chain rule with every factor derived, every hidden "
                    "layer by the sum over paths, biases, the update and batch rules, the "
                    "vectorised form; every formula proved with SymPy. With an exercise file "
                    "that has numbers, each formula is followed by its instance.",
        epilog="examples:\n"
               "  glassnet derive examples/exercises/seed004_1b.yaml\n"
               "  glassnet derive --layers 3,4,3 --activation sigmoid,softmax "
               "--loss cross_entropy --biases none\n"
               "  glassnet derive seed004_1b.yaml --weight w1       (every path from w1 to E)\n"
               "  glassnet derive --layers 2,3,1 --activation tanh --loss half_sse "
               "--notation nielsen -f markdown",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", nargs="?", default=None,
                   help="exercise file (.yaml, .yml or .json); only the network, loss and mode "
                        "are required")
    p.add_argument("--layers", metavar="SIZES", default=None,
                   help="layer sizes, input first, e.g. 2,3,1 (instead of FILE)")
    p.add_argument("--activation", metavar="NAMES", default=None,
                   help="one activation for every layer, 'hidden,output' (e.g. relu,softmax), "
                        "or one per non-input layer")
    p.add_argument("--loss", metavar="NAME", default=None,
                   help="half_sse, sse, mse, cross_entropy or binary_cross_entropy")
    p.add_argument("--biases", choices=("updated", "frozen", "none"), default="updated",
                   help="biases updated (default), frozen (derived but not applied) or none")
    p.add_argument("--mode", choices=("sgd", "batch", "batch_mean"), default="sgd",
                   help="online updates (sgd, default), a summed batch or an averaged batch")
    p.add_argument("--weight", "-w", metavar="PARAM", default=None,
                   help="also write one parameter's chain of partial derivatives along every "
                        "path, e.g. W_1_1_1, W1[1,1] or a notation name such as w1")
    p.add_argument("--notation", "-n", metavar="NAME", default=None,
                   help="built-in notation: glassnet, deeplearning.ai, nielsen, bishop, haykin, "
                        "seed000 … seed004 (numbered); default: the file's notation section")
    p.add_argument("--format", "-f", choices=FORMATS, default="text",
                   help="text (default), markdown (LaTeX maths), json (glassnet.derive/1)")
    p.add_argument("--output", "-o", metavar="OUT_FILE", default=None,
                   help="write to OUT_FILE instead of standard output")
    return p


def run(args: argparse.Namespace) -> int:
    from ..derive import derive
    from ..errors import GlassnetError
    from .explain import emit

    if args.file is None and args.layers is None:
        raise GlassnetError("derive: give an exercise FILE, or --layers, --activation and --loss")
    if args.file is not None and any(v is not None for v in (args.layers, args.activation,
                                                             args.loss)):
        raise GlassnetError("derive: give an exercise FILE or --layers/--activation/--loss, "
                            "not both")
    if args.file is not None and (args.biases != "updated" or args.mode != "sgd"):
        raise GlassnetError("derive: --biases and --mode go with --layers; an exercise file "
                            "states its own bias handling and mode")
    from ..fileio import check_outputs

    check_outputs([("--output", args.output)], [("exercise file", args.file)])
    if args.file is not None:
        d = derive(args.file, notation=args.notation, weight=args.weight)
    else:
        d = derive(layers=args.layers, activation=args.activation, loss=args.loss,
                   biases=args.biases, mode=args.mode, notation=args.notation,
                   weight=args.weight)
    fmt = "markdown" if args.format == "md" else args.format
    text = {"json": d.to_json, "markdown": d.to_markdown, "text": d.to_text}[fmt]()
    emit(text, args.output)
    return 0
