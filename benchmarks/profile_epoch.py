"""Where does an epoch go? Phase timers around the engine's own calls, batch by batch.

The loop makes exactly the calls ``fit`` makes (gather into a batch buffer,
augment, ``forward`` layer by layer, the loss, the output delta, ``backward``
layer by layer, the optimizer step), with a ``perf_counter`` between the
phases, and prints each phase's share of the last of three epochs. The
machine's load (``uptime``) is printed before and after, since other jobs
share the machine.

Usage::

    python benchmarks/profile_epoch.py 784-128-10 sgd none 1        # issue 12's speed check
    python benchmarks/profile_epoch.py 784-512-256-10 adam shift:2 1  # the defaults' epoch

Arguments: layer sizes, optimizer (sgd or adam), augmentation (none, shift:N,
distort), BLAS threads.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from glassnet import SGD, Adam, Network
from glassnet.data import load_dataset
from glassnet.threads import ThreadManager
from glassnet.training.augment import parse_augment

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_train import find_data_dir  # noqa: E402


def uptime() -> str:
    return "load average " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def main(argv: list[str]) -> int:
    sizes = [int(s) for s in (argv[0] if argv else "784-128-10").split("-")]
    optname = argv[1] if len(argv) > 1 else "sgd"
    augment = parse_augment(argv[2] if len(argv) > 2 else "none", (28, 28))
    threads = int(argv[3]) if len(argv) > 3 else 1
    print(f"uptime before: {uptime()}")
    train = load_dataset("mnist", "train", data_dir=find_data_dir(None), download=False,
                         progress=False)
    X, y = np.ascontiguousarray(train.X), train.y
    T = np.zeros((len(y), 10), np.float32)
    T[np.arange(len(y)), y] = 1
    net = Network(sizes, ["relu"] * (len(sizes) - 2) + ["softmax"], "cross_entropy",
                  weights="he_normal", reduction="mean", dtype="float32", seed=0)
    opt = SGD(lr=0.1) if optname == "sgd" else Adam(1e-3)
    B, n = 128, len(X)
    xb, tb = np.empty((B, sizes[0]), np.float32), np.empty((B, sizes[-1]), np.float32)
    phases: dict[str, float] = {}

    def add(key: str, seconds: float) -> None:
        phases[key] = phases.get(key, 0.0) + seconds

    rng = np.random.default_rng(0)
    layers = net.layers
    with ThreadManager(threads):
        for _ in range(3):
            phases.clear()
            perm = rng.permutation(n)
            t_epoch = time.perf_counter()
            for start in range(0, n - B + 1, B):
                idx = perm[start:start + B]
                t0 = time.perf_counter()
                np.take(X, idx, axis=0, out=xb, mode="clip")
                np.take(T, idx, axis=0, out=tb, mode="clip")
                t1 = time.perf_counter()
                add("gather", t1 - t0)
                if augment is not None:
                    augment(xb, rng)
                    t2 = time.perf_counter()
                    add("augment", t2 - t1)
                buf = net._get_buffers(B)
                a = xb
                for l, layer in enumerate(layers):
                    layer.x = a
                    ta = time.perf_counter()
                    z = np.matmul(a, layer.W.T, out=buf.z[l])
                    tb_ = time.perf_counter()
                    add("GEMM forward", tb_ - ta)
                    z += layer.b
                    layer.z = z
                    a = layer.a = layer.activation.forward(z, out=buf.a[l])
                    add("bias + activation forward", time.perf_counter() - tb_)
                t3 = time.perf_counter()
                out = layers[-1]
                net.losses = net._sample_losses(out, tb)
                float(np.add.reduce(net.losses))
                t4 = time.perf_counter()
                add("loss", t4 - t3)
                delta = buf.delta[-1]
                net.loss.fused_delta(out.activation, out.a, tb, out=delta)
                delta *= 1.0 / B
                out.delta = delta
                add("output delta", time.perf_counter() - t4)
                for l in range(len(layers) - 1, -1, -1):
                    layer = layers[l]
                    ta = time.perf_counter()
                    np.matmul(layer.x.T, layer.delta, out=layer.grad_W.T)
                    tb_ = time.perf_counter()
                    add("GEMM grad_W", tb_ - ta)
                    np.add.reduce(layer.delta, axis=0, out=layer.grad_b)
                    tc = time.perf_counter()
                    add("grad_b", tc - tb_)
                    if l == 0:
                        break
                    below = layers[l - 1]
                    g = np.matmul(layer.delta, layer.W, out=buf.delta[l - 1])
                    td = time.perf_counter()
                    add("GEMM delta", td - tc)
                    below.delta = below.activation.backward(below.z, below.a, g, out=g)
                    add("activation backward", time.perf_counter() - td)
                t5 = time.perf_counter()
                opt.step(net)
                add("optimizer", time.perf_counter() - t5)
            total = time.perf_counter() - t_epoch
    label = "-".join(map(str, sizes))
    print(f"{label} {optname}, augment {argv[2] if len(argv) > 2 else 'none'}, "
          f"{threads} BLAS thread(s): epoch {total:.3f} s (last of 3)")
    print("| phase | seconds | share |")
    print("| --- | --- | --- |")
    for key, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"| {key} | {seconds:.3f} | {100 * seconds / total:.1f} % |")
    rest = total - sum(phases.values())
    print(f"| Python, timers, the rest | {rest:.3f} | {100 * rest / total:.1f} % |")
    gemm = sum(v for k, v in phases.items() if k.startswith("GEMM"))
    print(f"matrix products: {gemm:.3f} s = {100 * gemm / total:.1f} % of the epoch")
    print(f"uptime after: {uptime()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
