"""``glassnet gradcheck``: compare backpropagation with finite differences on a random network.

Every option goes through :mod:`glassnet.validate` before anything is built: a layer size
written with 5000 digits, 10⁹ samples or a NaN tolerance is one error line, exit 2. A large
network is checked on a seeded sample of ``--checks`` parameters (200 by default), with a
progress bar on stderr when it takes longer than half a second; Ctrl-C prints what was
checked so far (exit 130). relu/leaky_relu kinks crossed by a finite-difference step are
re-checked with a smaller step or skipped and counted (see :mod:`glassnet.gradcheck`).
"""

from __future__ import annotations

import argparse

#: bounds for a network built from the command line (a gradient check is slow by design)
MAX_LAYERS = 100
MAX_UNITS = 4096
MAX_SAMPLES = 10_000
MAX_PARAMETERS = 10_000_000
DEFAULT_CHECKS = 200


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "gradcheck",
        help="check analytic gradients against central finite differences",
        description="Build a network with random weights and random data, and compare its "
                    "backpropagated gradients with central finite differences (float64). "
                    "Prints the worst relative error per parameter tensor; exit 1 above --tol. "
                    f"A network with more than --checks parameters (default {DEFAULT_CHECKS}) "
                    "is checked on a seeded uniform sample of them. With relu or leaky_relu, "
                    "a parameter whose step moves some unit's z across 0 is re-checked with a "
                    "smaller step, or skipped and counted (never an error).",
    )
    p.add_argument("--layers", default="4,5,3",
                   help=f"layer sizes, input first (default 4,5,3; at most {MAX_LAYERS + 1} "
                        f"layers of at most {MAX_UNITS} units)")
    p.add_argument("--activation", default="tanh",
                   help="one activation, or a comma list with one per non-input layer")
    p.add_argument("--loss", default="half_sse",
                   help="half_sse (default), sse, mse, cross_entropy, binary_cross_entropy")
    p.add_argument("--reduction", choices=["sum", "mean"], default="sum",
                   help="how the samples' losses combine: sum (default) or mean")
    p.add_argument("--samples", type=str, default="4",
                   help=f"random samples in the batch (default 4, at most {MAX_SAMPLES})")
    p.add_argument("--no-biases", action="store_true", help="a network without biases")
    p.add_argument("--seed", type=str, default="0",
                   help="seed of the weights, the data and the sample of parameters (default 0)")
    p.add_argument("--tol", type=str, default="1e-6",
                   help="largest accepted relative error (default 1e-6)")
    p.add_argument("--checks", type=str, default=str(DEFAULT_CHECKS), metavar="N",
                   help=f"check at most N parameters, drawn uniformly with --seed (plus one "
                        f"of any tensor the draw missed); 0 checks all (default "
                        f"{DEFAULT_CHECKS})")
    return p


def run(args: argparse.Namespace) -> int:
    import sys

    import numpy as np

    from ..errors import GlassnetError
    from ..gradcheck import gradient_check
    from ..network import Network
    from ..validate import parse_float, parse_int

    parts = args.layers.split(",")
    if len(parts) > MAX_LAYERS + 1:
        raise GlassnetError(f"--layers: at most {MAX_LAYERS + 1} layer sizes, got {len(parts)}")
    try:
        sizes = [parse_int(s, "--layers", 0, MAX_UNITS) for s in parts]
    except GlassnetError:
        shown = args.layers if len(args.layers) <= 40 else args.layers[:37] + "..."
        raise GlassnetError(f"--layers: expected comma-separated integers, got {shown!r} "
                            f"(each at most {MAX_UNITS})") from None
    n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    if n_params > MAX_PARAMETERS:
        raise GlassnetError(f"--layers: {n_params} parameters; gradcheck builds networks of at "
                            f"most {MAX_PARAMETERS}")
    acts = args.activation.split(",")
    if len(acts) > MAX_LAYERS:
        raise GlassnetError(f"--activation: at most {MAX_LAYERS} names, got {len(acts)}")
    samples = parse_int(args.samples, "--samples", None, MAX_SAMPLES)
    if samples < 1:
        raise GlassnetError("--samples must be at least 1")
    seed = parse_int(args.seed, "--seed", 0, 2**63 - 1)
    tol = parse_float(args.tol, "--tol", 0, None, lo_closed=False)
    checks = parse_int(args.checks, "--checks", 0, 10**9)
    net = Network(sizes, acts[0] if len(acts) == 1 else acts, args.loss,
                  weights="glorot_normal", biases=None if args.no_biases else "glorot_normal",
                  reduction=args.reduction, seed=seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(samples, sizes[0]))
    if net.loss.name == "cross_entropy":
        T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], samples)]
    elif net.loss.name == "binary_cross_entropy":
        T = rng.integers(0, 2, size=(samples, sizes[-1])).astype(float)
    else:
        T = rng.normal(size=(samples, sizes[-1]))
    report = gradient_check(net, X, T, max_checks=checks or None, seed=seed, progress=True)
    print(net)
    print(report)
    if report.interrupted:
        print(f"stopped: worst error so far {report.max_error:.3e} (tolerance {tol:g})")
        sys.stdout.flush()
        return 130
    if not report.errors:  # every entry tried crossed a relu kink: nothing was compared
        print(f"inconclusive: all {report.n_skipped} parameters tried cross a kink; try "
              f"fewer --samples or another --seed")
        return 1
    ok = report.ok(tol)
    verdict = "ok" if ok else "FAILED"
    skipped = f"; {report.n_skipped} skipped at kinks" if report.n_skipped else ""
    print(f"{verdict}: worst error {report.max_error:.3e} (tolerance {tol:g}){skipped}")
    return 0 if ok else 1
