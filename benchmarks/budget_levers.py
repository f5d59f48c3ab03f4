"""Which training choices pay on Fashion-MNIST? One lever at a time, fixed epochs.

The time budget (``glassnet train --time-budget``) must choose what to spend its
seconds on. This script measures candidate levers one at a time against the same
baseline, so that each choice in ``glassnet.training.budget`` rests on a number:
784-1024-10 ReLU, one-pixel shifts, batch 128, float32, a warm-up + cosine schedule
over a fixed number of epochs, trained on 54,000 rows (a seeded stratified 10 %
held out as the validation set the choice is read from), test accuracy alongside.

Levers (each off by default):

``--opt momentum --lr 0.05``  SGD with momentum 0.9 instead of Adam (2e-3)
``--ls 0.1``                   label smoothing (targets (1−ε)·one-hot + ε/K)
``--ph 0.2``                   dropout on the hidden layers' outputs (ReLU networks)
``--erase 0.5``                random erasing: a blank rectangle in half the images
``--ema 0.998``                an exponential moving average of the weights over the
                               second half of the run (evaluated besides the weights)
``--wd 5e-4``                  decoupled weight decay
``--hidden 2048`` / ``1024,1024`` / ``--epochs 100``  capacity and length
``--full``                     train on all 60,000 rows (then only the test score counts)

Dropout and erasing are done here with the engine's own hooks (``Network.tap``
and ``fit``'s ``augment``), not as library features: they are shipped only if
they pay. Each run appends a JSON line to ``--results``.

Usage::

    python benchmarks/budget_levers.py --epochs 40 --tag base
    python benchmarks/budget_levers.py --epochs 40 --opt momentum --lr 0.05 --tag mom
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from glassnet import Network
from glassnet.data import load_dataset, stratified_split
from glassnet.optimizers import get_optimizer
from glassnet.training.augment import parse_augment
from glassnet.training.callbacks import Callback
from glassnet.training.fit import fit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_train import find_data_dir  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist"])
    p.add_argument("--data-dir", default=None,
                   help="folder holding mnist/ and fashion-mnist/ (default: ../shared/data)")
    p.add_argument("--hidden", default="1024", help="hidden sizes, comma-separated")
    p.add_argument("--opt", default="adam", choices=["adam", "momentum", "sgd"])
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--augment", default="shift:1")
    p.add_argument("--ls", type=float, default=0.0, help="label smoothing ε")
    p.add_argument("--ph", type=float, default=0.0, help="hidden dropout rate")
    p.add_argument("--erase", type=float, default=0.0, help="share of images erased")
    p.add_argument("--ema", type=float, default=0.0, help="weight EMA decay per step")
    p.add_argument("--wd", type=float, default=0.0, help="decoupled weight decay")
    p.add_argument("--full", action="store_true", help="train on every row")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tag", default="")
    p.add_argument("--results", default="budget_levers.jsonl")
    return p.parse_args(argv)


class CosineEMA(Callback):
    """Warm-up (3 % of the steps) + half cosine per step; optional weight decay and EMA."""

    def __init__(self, opt, peak: float, total: int, net: Network, wd: float, ema: float):
        self.opt, self.peak, self.total, self.net = opt, peak, total, net
        self.wd, self.ema, self.step, self.avg = wd, ema, 0, None

    def on_batch_begin(self, batch, logs=None):
        f, w = self.step / self.total, 0.03
        factor = f / w if f < w else 0.5 * (1 + math.cos(math.pi * (f - w) / (1 - w)))
        self.opt.lr = self.peak * max(factor, 1e-3)

    def on_batch_end(self, batch, logs=None):
        self.step += 1
        if self.wd:
            for layer in self.net.layers:
                layer.W *= 1 - self.opt.lr * self.wd
        if self.ema and self.step > self.total // 2:
            values = self.net._flat_values
            if self.avg is None:
                self.avg = values.copy()
            else:
                self.avg *= self.ema
                self.avg += (1 - self.ema) * values


class HiddenDropout:
    """Dropout on the hidden layers' outputs through the engine's equation tap.

    For ReLU only: the mask multiplies ``a`` in place (so the next layer sees the
    dropped units) and the layer's delta (∂E/∂z = ∂E/∂a · f′(z) · mask); ReLU's
    derivative read from the masked ``a`` is 0 exactly where the mask already is.
    """

    def __init__(self, p: float, rng: np.random.Generator):
        self.p, self.rng, self.masks = p, rng, {}

    def z(self, net, l, z):
        pass

    def a(self, net, l, a):
        if l < len(net.layers) - 1:
            mask = self.rng.random(a.shape, dtype=np.float32) >= self.p
            self.masks[l] = mask.astype(a.dtype) / a.dtype.type(1 - self.p)
            a *= self.masks[l]

    def output_delta(self, net, T, delta, loss):
        return loss

    def gradients(self, net, l):
        pass

    def hidden_delta(self, net, l):
        net.layers[l].delta *= self.masks[l]


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    # find_data_dir finds the MNIST folder; load_dataset wants the folder that holds it
    data_dir = a.data_dir or find_data_dir(None).parent
    train = load_dataset(a.dataset, "train", data_dir=data_dir, download=False, progress=False)
    test = load_dataset(a.dataset, "test", data_dir=data_dir, download=False, progress=False)
    train_idx, val_idx = (np.sort(i) for i in stratified_split(train.y, 0.1, a.seed))
    X, y = np.ascontiguousarray(train.X[train_idx]), train.y[train_idx]
    if a.full:
        X, y = np.ascontiguousarray(train.X), train.y
    X_val, y_val = train.X[val_idx], train.y[val_idx]
    hidden = [int(h) for h in a.hidden.split(",")]
    net = Network([784, *hidden, 10], ["relu"] * len(hidden) + ["softmax"], "cross_entropy",
                  weights="he_normal", reduction="mean", dtype="float32", seed=a.seed)
    target: np.ndarray = y
    if a.ls:
        target = np.full((len(y), 10), a.ls / 10, np.float32)
        target[np.arange(len(y)), y] += 1 - a.ls
    opt = get_optimizer(a.opt, lr=a.lr)
    schedule = CosineEMA(opt, a.lr, math.ceil(len(y) / a.batch) * a.epochs, net, a.wd, a.ema)
    shift = parse_augment(a.augment, (28, 28))

    def augment(x, rng):
        if shift is not None:
            shift(x, rng)
        if a.erase:
            images = x.reshape(len(x), 28, 28)
            for i in np.nonzero(rng.random(len(x)) < a.erase)[0]:
                h, w = rng.integers(4, 14, 2)
                r, c = rng.integers(0, 28 - h), rng.integers(0, 28 - w)
                images[i, r:r + h, c:c + w] = 0

    if a.ph:
        net.tap = HiddenDropout(a.ph, np.random.default_rng([a.seed, 11]))
    t0 = time.perf_counter()
    history = fit(net, X, target, epochs=a.epochs, batch_size=a.batch, optimizer=opt,
                  callbacks=[schedule], augment=augment, progress=False, seed=a.seed,
                  threads=a.threads)
    seconds = time.perf_counter() - t0
    net.tap = None

    def accuracy(Xs, ys):
        return float((net.predict(Xs).argmax(axis=1) == ys).mean())

    result = {"tag": a.tag, "val": accuracy(X_val, y_val), "test": accuracy(test.X, test.y),
              "train_loss": history["loss"][-1], "seconds": round(seconds, 1),
              "load_average": Path("/proc/loadavg").read_text().split()[:3], "args": vars(a)}
    if schedule.avg is not None:
        keep = net._flat_values.copy()
        net._flat_values[...] = schedule.avg
        result["val_ema"], result["test_ema"] = accuracy(X_val, y_val), accuracy(test.X, test.y)
        net._flat_values[...] = keep
    print(json.dumps(result))
    with open(a.results, "a") as f:
        f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
