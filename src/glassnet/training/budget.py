"""Training within a time budget: ``glassnet train --time-budget SECONDS``.

A user who says "I have 30 seconds" wants the best test accuracy 30 seconds
of training can buy, not a setting to tune. The library decides:

* **the network's size**, from a measurement: each candidate width trains a
  few batches on this machine (at the threads in force), which gives the
  epochs it could run in the budget; the widest network that still gets
  enough epochs wins, preferring one with enough epochs for augmentation to
  pay (a short budget buys a small network several times, a long one a wide
  network with distortions);
* **the optimizer**: SGD with momentum from ``SHORT_BUDGET`` seconds on (three
  passes over the weights per step where Adam makes ten: more epochs for the
  same accuracy per epoch), Adam below it (a few epochs, where Adam gets
  further per epoch); see ``BUDGET_OPTIMIZER``;
* **the schedule**, tied to the clock rather than to epochs: the learning
  rate warms up over the first 3 % of the budget, then follows a half cosine
  to zero exactly when the budget is spent (:class:`TimeBudget`), so the run
  ends on small steps whatever the machine's speed;
* **label smoothing** (``BUDGET_LABEL_SMOOTHING``) when the plan expects
  ``MIN_EPOCHS_SMOOTHING`` epochs or more, where the network comes to fit its
  training rows;
* **augmentation**, when the budget allows enough epochs for it to pay: a
  bank of precomputed elastic + affine displacement fields
  (:class:`~glassnet.training.augment.DistortionBank`) for digit-like images,
  one-pixel shifts for Fashion-MNIST's clothes;
* **when to stop**: after the batch that spends the budget; the ``seconds``
  of the epochs (the ``--history`` numbers) add up to the budget give or take
  one batch. Early stopping is off: the schedule, not the validation loss,
  ends the run.

Options the user gives explicitly (``--hidden``, ``--batch-size``,
``--optimizer``, ``--lr``, ``--augment``, ``--epochs``, ``--label-smoothing``)
still win; ``--epochs`` then caps the run below the budget.

Because the schedule follows the clock, two runs with the same seed on a
busier or quieter machine take different numbers of steps: a time budget
trades exact reproducibility for a fixed wall-clock cost.

>>> tb = TimeBudget(10.0, warmup=0.1)
>>> [round(tb.lr_factor(f), 3) for f in (0.0, 0.05, 0.1, 0.55, 1.0)]
[0.0, 0.5, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GlassnetError
from .callbacks import Callback

__all__ = ["TimeBudget", "BudgetPlan", "Standby", "plan_budget", "check_budget",
           "scratch_step", "measure_step_seconds", "measure_augment_seconds", "WIDTHS"]

#: candidate hidden layers, smallest first
WIDTHS: tuple[tuple[int, ...], ...] = ((128,), (256,), (512,), (1024,), (1024, 1024))
#: the smallest budget the command accepts (seconds)
MIN_BUDGET = 0.5


def check_budget(value: Any, what: str = "--time-budget") -> float:
    """A finite number of seconds >= MIN_BUDGET, else a clear error."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < MIN_BUDGET:
        raise GlassnetError(f"{what}: expected a number of seconds >= {MIN_BUDGET}, "
                            f"got {value!r}")
    return float(value)


class TimeBudget(Callback):
    """Stop after ``seconds`` of training passes, with the learning rate on a clock-driven
    warm-up + half-cosine schedule (``schedule=False`` keeps the optimizer's rate).

    The clock is the same as History's ``seconds``: the finished epochs' seconds
    plus the time since the current epoch began; validation is not counted.
    A batch is not started when the average batch so far would end more than
    half a batch past the budget.

    ``standby``: an augmentation (:class:`Standby`) to switch on after an epoch
    once the real pace, plus ``standby_seconds_per_epoch`` for augmenting, leaves
    room for at least ``MIN_EPOCHS_AUGMENT`` augmented epochs.
    """

    def __init__(self, seconds: float, *, schedule: bool = True, warmup: float = 0.03,
                 final: float = 0.0, standby: Standby | None = None,
                 standby_seconds_per_epoch: float = 0.0):
        self.seconds = check_budget(seconds, "time budget")
        if not (0 <= warmup < 1) or not (0 <= final < 1):
            raise GlassnetError("TimeBudget: warmup and final must lie in [0, 1)")
        self.schedule = bool(schedule)
        self.warmup = float(warmup)
        self.final = float(final)
        self.spent = 0.0
        self.steps = 0
        self._epoch_start = 0.0
        self._lr0: float | None = None
        self._batch_seconds = 0.0
        #: the BudgetPlan this budget belongs to, when the library chose the settings
        self.plan: BudgetPlan | None = None
        self.standby = standby
        self.standby_seconds_per_epoch = float(standby_seconds_per_epoch)
        self._epochs_done = 0

    def lr_factor(self, fraction: float) -> float:
        """The learning rate as a fraction of the peak, at ``fraction`` of the budget spent."""
        f = min(max(fraction, 0.0), 1.0)
        if f < self.warmup:
            return f / self.warmup
        rest = (f - self.warmup) / (1.0 - self.warmup)
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * rest))

    def on_train_begin(self, logs=None):
        self.spent, self.steps, self._batch_seconds, self._epochs_done = 0.0, 0, 0.0, 0
        self._lr0 = float(self.state.optimizer.lr)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()

    def _elapsed(self) -> float:
        return self.spent + (time.perf_counter() - self._epoch_start)

    def on_batch_begin(self, batch, logs=None):
        if self.schedule:
            # never exactly 0: an optimizer may refuse a zero step, and the first step
            # of the warm-up should move the weights
            factor = max(self.lr_factor(self._elapsed() / self.seconds), 1e-3)
            self.state.optimizer.lr = self._lr0 * factor

    def on_batch_end(self, batch, logs=None):
        self.steps += 1
        elapsed = self._elapsed()
        self._batch_seconds = elapsed / self.steps
        if elapsed + 0.5 * self._batch_seconds >= self.seconds:
            self.state.stop_training = True
            self.state.stop_reason = "time_budget"
            self.state.stop_message = f"the time budget of {self.seconds:g} s is spent"

    def on_epoch_end(self, epoch, logs=None):
        self.spent += float((logs or {}).get("seconds", 0.0))
        self._epochs_done += 1
        sb = self.standby
        if sb is not None and not sb.enabled and self.spent < self.seconds:
            pace = self.spent / self._epochs_done + self.standby_seconds_per_epoch
            # on while at least MIN_EPOCHS_AUGMENT augmented epochs still fit in what is left
            if (self.seconds - self.spent) / pace >= MIN_EPOCHS_AUGMENT:
                sb.enabled, sb.switched_on_at = True, epoch + 1

    def on_train_end(self, logs=None):
        if self._lr0 is not None:
            self.state.optimizer.lr = self._lr0 * max(self.lr_factor(1.0), 1e-3)

    def __repr__(self) -> str:
        return f"TimeBudget({self.seconds:g} s, schedule={'cosine' if self.schedule else 'off'})"


# ------------------------------------------------------------------ planning
def scratch_step(sizes: Sequence[int], batch_size: int, dtype: str = "float32",
                 optimizer: str = "adam", seed: int = 0) -> Any:
    """A function that runs one training step (forward, backward, update) of a scratch
    network of ``sizes`` (ReLU hidden layers, softmax + cross-entropy) on random rows.

    The same engine calls ``fit`` makes, with a tiny learning rate so that repeated
    steps stay finite: what timing it says about a real run's step is the point.
    """
    from ..network import Network
    from ..optimizers import get_optimizer

    sizes = [int(s) for s in sizes]
    net = Network(sizes, ["relu"] * (len(sizes) - 2) + ["softmax"], "cross_entropy",
                  weights="he_normal", reduction="mean", dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed)
    X = rng.random((batch_size, sizes[0]), dtype=np.float32).astype(dtype, copy=False)
    T = np.zeros((batch_size, sizes[-1]), dtype=dtype)
    T[np.arange(batch_size), rng.integers(0, sizes[-1], batch_size)] = 1
    opt = get_optimizer(optimizer, lr=1e-4)

    def step() -> None:
        net._forward(X)
        net._backward(T)
        opt.step(net)

    return step


def measure_step_seconds(sizes: Sequence[int], batch_size: int, dtype: str = "float32",
                         optimizer: str = "adam", steps: int = 6, seed: int = 0) -> float:
    """Seconds per training step (forward, backward, update) of a scratch network.

    Random inputs, the median of ``steps`` steps after one warm-up: the same engine
    calls ``fit`` makes, so the measurement includes whatever the threads in
    force and the machine's load make of them.
    """
    step = scratch_step(sizes, batch_size, dtype, optimizer, seed)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        step()
        if i:
            times.append(time.perf_counter() - t0)
    return float(np.median(times))  # the median: a shared machine is not always this quiet


def measure_augment_seconds(spec: str, image_shape: Sequence[int], batch_size: int,
                            dtype: str = "float32", reps: int = 5) -> float:
    """Seconds to augment one batch with ``spec`` (median of a few random batches)."""
    from .augment import parse_augment

    augment = parse_augment(spec, image_shape, what="time budget augment")
    if augment is None:
        return 0.0
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, int(np.prod(image_shape))), dtype=np.float32)
    x = x.astype(dtype, copy=False)
    times = []
    for _ in range(reps + 1):
        t0 = time.perf_counter()
        augment(x, rng)
        times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]))


@dataclass
class BudgetPlan:
    """What the library chose for a budget, and why (``reasons``, for the progress display)."""

    seconds: float
    hidden: list[int]
    batch_size: int
    optimizer: str
    lr: float
    augment: str
    epochs: int
    expected_epochs: float
    reasons: list[str] = field(default_factory=list)
    #: an augmentation to switch on during the run if the real pace allows (see Standby)
    standby_augment: str | None = None
    #: its measured cost per epoch (seconds), for that decision
    standby_seconds_per_epoch: float = 0.0
    #: label smoothing ε (0: one-hot targets)
    label_smoothing: float = 0.0

    def describe(self) -> str:
        aug = self.augment
        if self.standby_augment:
            aug += f" ({self.standby_augment} switched on if the pace allows)"
        smooth = f", label smoothing {self.label_smoothing:g}" if self.label_smoothing else ""
        return (f"time budget {self.seconds:g} s: hidden {','.join(map(str, self.hidden))}, "
                f"batch {self.batch_size}, {self.optimizer} lr {self.lr:g} (warm-up + cosine "
                f"to 0 over the budget), augment {aug}{smooth}, about "
                f"{self.expected_epochs:.0f} epochs")

    def as_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "hidden": list(self.hidden),
                "batch_size": self.batch_size, "optimizer": self.optimizer, "lr": self.lr,
                "augment": self.augment, "standby_augment": self.standby_augment,
                "label_smoothing": self.label_smoothing,
                "expected_epochs": round(self.expected_epochs, 1)}


class Standby:
    """An augmentation held in reserve: ``fit`` calls it on every batch, and it does
    nothing until :class:`TimeBudget` switches it on (``enabled = True``) because the
    run's real pace leaves enough epochs for it to pay.

    Why: the plan's speed estimate comes from a few steps measured before training,
    and on a shared machine the load can halve or double the pace minutes later; the
    epochs actually run tell the truth.
    """

    def __init__(self, inner: Any):
        self.inner = inner
        self.enabled = False
        self.switched_on_at: int | None = None

    @property
    def spec(self) -> str:
        inner = getattr(self.inner, "spec", repr(self.inner))
        if self.switched_on_at is not None:
            return f"{inner} (from epoch {self.switched_on_at + 1})"
        return f"none ({inner} on standby)"

    def __call__(self, x_batch: np.ndarray, rng: np.random.Generator) -> Any:
        if self.enabled:
            return self.inner(x_batch, rng)
        return None


#: epochs a network needs within the budget to be worth choosing: at all; with
#: augmentation (measured on MNIST: 30 s, 512 units, 19 epochs: 98.92 % with shift:1,
#: 98.35 % without; 120 s, 1024 units: 98.91 % in 14 epochs with distortions, 98.48 % in
#: 23 without); and with a second hidden layer
MIN_EPOCHS = 4.0
MIN_EPOCHS_AUGMENT = 12.0
MIN_EPOCHS_DEEP = 60.0
#: a batch inside fit costs more than the same step measured on a small hot array:
#: gathering shuffled rows from the whole data set, cold caches, Python, and on a shared
#: machine the load seldom stays as light as during the short measurement (measured:
#: 784-128-10, batch 256, one thread: step 1.23 ms alone, 1.88 ms per batch in fit;
#: distorting a batch 2.0 ms alone, 3.2 ms in fit; two 60 s runs made half the epochs the
#: 1.5 factor predicted while the load rose)
STEP_OVERHEAD = 2.0
AUGMENT_OVERHEAD = 1.6
#: budgets shorter than this (seconds) train with batches of SHORT_BATCH
SHORT_BUDGET = 60.0
SHORT_BATCH = 256
#: the learning rate peak per optimizer under the cosine schedule (batch 128; scaled by
#: the square root of the batch size)
BUDGET_LR = {"adam": 2e-3, "sgd": 0.1, "momentum": 0.05}
#: the optimizer a budget trains with. Momentum, not Adam: measured on Fashion-MNIST,
#: 784-1024-10, shift:1, 40 epochs under the cosine schedule, 1 thread: momentum (lr 0.05)
#: 90.09 % test in 72 s, Adam (lr 2e-3) 89.86 % in 175 s. Adam's ten passes over every
#: weight per step cost more than the matrix products of a wide layer; momentum's three
#: do not, so a budget buys 2.4 times the epochs for the same accuracy per epoch.
BUDGET_OPTIMIZER = "momentum"
#: ... except in budgets shorter than SHORT_BUDGET, a few epochs long, where Adam's
#: per-weight step sizes get further per epoch: MNIST, 5 s, quiet machine: Adam 98.04 %
#: (784-256-10, 12 epochs), momentum 97.77 % (784-512-10, 9 epochs); 60 s: Adam 98.81 %,
#: momentum 98.70 % (784-1024-10, distortions)
SHORT_OPTIMIZER = "adam"
#: label smoothing for long budgets, where the network comes to fit its training rows
#: almost exactly. Measured on Fashion-MNIST, 784-1024-1024-10, momentum, shift:1, all
#: 60,000 rows, 162 epochs (what 600 s buys): 91.89 % test with ε = 0.1 against 91.41 %
#: without (the 600 s run itself; decoupled weight decay 5e-4 gave 91.85 %, but costs a
#: pass over the weights per step, smoothing nothing). At 40 epochs it did not pay
#: (784-1024-10, Adam: 89.96 % against 89.86 % test, 90.20 % against 90.33 % validation).
BUDGET_LABEL_SMOOTHING = 0.1
#: ... so it is used when the plan expects at least this many epochs
MIN_EPOCHS_SMOOTHING = 60.0


def plan_budget(seconds: float, *, n_train: int, n_features: int, n_classes: int,
                image_shape: Sequence[int] | None = None, dtype: str = "float32",
                given: dict[str, Any] | None = None, dataset: str | None = None,
                step_seconds: Any = None, augment_seconds: float | None = None) -> BudgetPlan:
    """Choose size, batch, optimizer, augmentation and an epoch cap for ``seconds``.

    ``given`` holds what the user fixed (keys ``hidden``, ``batch_size``,
    ``optimizer``, ``lr``, ``augment``, ``epochs``, ``label_smoothing``; None = choose).
    ``dataset`` names a built-in dataset (its augmentation differs: Fashion-MNIST's
    clothes are shifted by a pixel, never elastically distorted).
    ``step_seconds(sizes, batch_size)`` measures a training step (default
    :func:`measure_step_seconds`) and ``augment_seconds`` is what augmenting a batch
    costs (default: measured); tests inject a model of the machine.
    """
    seconds = check_budget(seconds)
    given = {k: v for k, v in (given or {}).items() if v is not None}
    optimizer = str(given.get("optimizer", SHORT_OPTIMIZER if seconds < SHORT_BUDGET
                              else BUDGET_OPTIMIZER))
    measure = step_seconds or (lambda sizes, b: measure_step_seconds(sizes, b, dtype,
                                                                     optimizer))
    # short budgets: bigger batches do more samples per second (BLAS is more efficient on
    # them) and the few epochs there are need throughput more than gradient noise
    batch = int(given.get("batch_size", SHORT_BATCH if seconds < SHORT_BUDGET else 128))
    n_out = 1 if n_classes == 2 else n_classes
    reasons = []
    images = image_shape is not None and min(int(s) for s in image_shape) >= 16
    # what augmenting one batch costs: it comes on top of every step
    planned_augment = given.get("augment")
    if planned_augment is None and images:
        planned_augment = "shift:1" if dataset == "fashion-mnist" else "distort"
    if augment_seconds is None:
        augment_seconds = (measure_augment_seconds(planned_augment, image_shape, batch, dtype)
                           if planned_augment not in (None, "none") and image_shape is not None
                           else 0.0)
    steps_cache: dict[tuple, float] = {}

    def epochs_of(hidden: Sequence[int], augmented: bool) -> float:
        key = tuple(hidden)
        if key not in steps_cache:
            steps_cache[key] = measure([n_features, *hidden, n_out], batch)
        step = STEP_OVERHEAD * steps_cache[key] + (
            AUGMENT_OVERHEAD * augment_seconds if augmented else 0.0)
        return seconds / (step * math.ceil(n_train / batch))

    if "hidden" in given:
        hidden = [int(h) for h in given["hidden"]]
        expected = epochs_of(hidden, False)
        if images and "augment" not in given and \
                epochs_of(hidden, True) >= MIN_EPOCHS_AUGMENT:
            expected = epochs_of(hidden, True)
        reasons.append("hidden layers as given")
    else:
        # the widest network with enough epochs; with images, one that has enough epochs
        # for augmentation to pay is preferred over a wider one without
        measured = []
        for candidate in WIDTHS:
            e = epochs_of(candidate, False)
            measured.append((list(candidate), e))
            if e < MIN_EPOCHS:
                break  # wider ones are slower still
        fits = [(h, e) for h, e in measured if e >= MIN_EPOCHS] or measured[:1]
        # a second hidden layer only when it still gets many epochs (not measured to pay
        # otherwise: a wide single layer seeing more distorted epochs is the safer bet)
        fits = [(h, e) for h, e in fits if len(h) == 1 or e >= MIN_EPOCHS_DEEP] or fits[:1]
        augmentable = []
        if images and "augment" not in given:
            augmentable = [(h, epochs_of(h, True)) for h, _ in fits]
            augmentable = [(h, e) for h, e in augmentable if e >= MIN_EPOCHS_AUGMENT
                           and (len(h) == 1 or e >= MIN_EPOCHS_DEEP)]
        hidden, expected = (augmentable or fits)[-1]
        reasons.append(f"widest network with enough epochs in {seconds:g} s")
    standby = None
    if "augment" in given:
        augment = str(given["augment"])
    else:
        augment = "none"
        if images and expected >= MIN_EPOCHS_AUGMENT and planned_augment:
            augment = planned_augment
        elif images and planned_augment:
            standby = planned_augment  # decided during the run, from its real pace
    lr = float(given.get("lr", BUDGET_LR.get(optimizer, 0.01) * math.sqrt(batch / 128)))
    smoothing = float(given.get("label_smoothing", BUDGET_LABEL_SMOOTHING
                                if expected >= MIN_EPOCHS_SMOOTHING else 0.0))
    cap = int(given.get("epochs", max(2, math.ceil(expected * 3) + 2)))
    return BudgetPlan(seconds=seconds, hidden=hidden, batch_size=batch, optimizer=optimizer,
                      lr=lr, augment=augment, epochs=cap, expected_epochs=expected,
                      reasons=reasons, standby_augment=standby, label_smoothing=smoothing,
                      standby_seconds_per_epoch=AUGMENT_OVERHEAD * augment_seconds
                      * math.ceil(n_train / batch) if standby else 0.0)
