"""``glassnet gradcheck``: compare backpropagation with finite differences on a random network."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "gradcheck",
        help="check analytic gradients against central finite differences",
        description="Build a network with random weights and random data, and compare its "
                    "backpropagated gradients with central finite differences (float64). "
                    "Prints the worst relative error per parameter tensor; exit 1 above --tol.",
    )
    p.add_argument("--layers", default="4,5,3", help="layer sizes, input first (default 4,5,3)")
    p.add_argument("--activation", default="tanh",
                   help="one activation, or a comma list with one per non-input layer")
    p.add_argument("--loss", default="half_sse")
    p.add_argument("--reduction", choices=["sum", "mean"], default="sum")
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--no-biases", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tol", type=float, default=1e-6)
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..errors import GlassnetError
    from ..gradcheck import gradient_check
    from ..network import Network

    try:
        sizes = [int(s) for s in args.layers.split(",")]
    except ValueError:
        raise GlassnetError(f"--layers: expected comma-separated integers, got {args.layers!r}") \
            from None
    acts = args.activation.split(",")
    if args.samples < 1:
        raise GlassnetError("--samples must be at least 1")
    net = Network(sizes, acts[0] if len(acts) == 1 else acts, args.loss,
                  weights="glorot_normal", biases=None if args.no_biases else "glorot_normal",
                  reduction=args.reduction, seed=args.seed)
    rng = np.random.default_rng(args.seed + 1)
    X = rng.normal(size=(args.samples, sizes[0]))
    if net.loss.name == "cross_entropy":
        T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], args.samples)]
    elif net.loss.name == "binary_cross_entropy":
        T = rng.integers(0, 2, size=(args.samples, sizes[-1])).astype(float)
    else:
        T = rng.normal(size=(args.samples, sizes[-1]))
    report = gradient_check(net, X, T)
    print(net)
    print(report)
    ok = report.ok(args.tol)
    verdict = "ok" if ok else "FAILED"
    print(f"{verdict}: worst error {report.max_error:.3e} (tolerance {args.tol:g})")
    return 0 if ok else 1
