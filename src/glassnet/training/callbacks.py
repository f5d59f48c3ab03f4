"""Callbacks: code that runs at fixed points of a training run (Keras' hooks).

A callback subclasses :class:`Callback` and overrides any of

* ``on_train_begin(logs)`` / ``on_train_end(logs)``
* ``on_epoch_begin(epoch, logs)`` / ``on_epoch_end(epoch, logs)``, where the
  end-of-epoch ``logs`` is the epoch's History record (``loss``,
  ``val_loss``, ``val_accuracy``, ``seconds``)
* ``on_batch_begin(batch, logs)`` / ``on_batch_end(batch, logs)``, with
  ``logs = {"loss": mean loss of the batch, "size": rows}``.

Batch hooks are called only when some callback overrides them, so the
fast training loop pays nothing for them otherwise.

During ``fit`` each callback's ``state`` is the run's :class:`FitState`:
``state.network``, ``state.optimizer``, ``state.params`` (epochs, batch size,
sample counts, the metric names available) and ``state.stop_training``, which
a callback sets to end the run after the current epoch.

>>> class Print(Callback):
...     def on_epoch_end(self, epoch, logs):
...         print(epoch, round(logs["loss"], 2))
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import GlassnetError

__all__ = ["Callback", "CallbackList", "EarlyStopping", "ReduceLROnPlateau", "StepDecay",
           "FitState", "KeepBest"]


@dataclass
class FitState:
    """What a callback can see and change during ``fit``."""

    network: Any
    optimizer: Any
    params: dict[str, Any] = field(default_factory=dict)
    history: Any = None
    stop_training: bool = False
    #: why a callback stopped the run: a short kind ("early_stopping") and a sentence
    stop_reason: str = ""
    stop_message: str = ""
    #: set by a callback that has put other weights into the network at the end
    restored_epoch: int | None = None


class Callback:
    """Base class: every hook does nothing."""

    state: FitState | None = None

    def set_state(self, state: FitState) -> None:
        self.state = state

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        pass


def _overrides(cb: Callback, name: str) -> bool:
    return getattr(type(cb), name, None) is not getattr(Callback, name)


class CallbackList:
    """Calls each hook on every callback in order; knows whether batch hooks exist."""

    def __init__(self, callbacks: Iterable[Callback] | None, state: FitState):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise GlassnetError(f"callbacks: expected Callback objects, got {cb!r}")
            cb.set_state(state)
        self._batch_begin = [cb for cb in self.callbacks if _overrides(cb, "on_batch_begin")]
        self._batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_batch_end")]
        #: True when some callback wants batch hooks (the loop checks this once per batch)
        self.has_batch_hooks = bool(self._batch_begin or self._batch_end)

    def on_train_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        for cb in self._batch_begin:
            cb.on_batch_begin(batch, logs)

    def on_batch_end(self, batch, logs=None):
        for cb in self._batch_end:
            cb.on_batch_end(batch, logs)


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise GlassnetError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if ("accuracy" in monitor or monitor.endswith("f1")) else "min"
    return mode


class _Monitor(Callback):
    """Shared logic: watch one logged number and decide what counts as better."""

    def __init__(self, monitor: str, min_delta: float, mode: str):
        if not isinstance(monitor, str) or not monitor:
            raise GlassnetError(f"monitor must be a metric name such as 'val_loss', "
                                f"got {monitor!r}")
        if not (isinstance(min_delta, (int, float)) and math.isfinite(min_delta)
                and min_delta >= 0):
            raise GlassnetError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.mode = _resolve_mode(mode, monitor)

    def _check_monitor_available(self) -> None:
        metrics = (self.state.params.get("metrics") if self.state else None) or []
        if self.monitor not in metrics:
            hint = ""
            if self.monitor.startswith("val_"):
                hint = (" (fit has no validation data: pass validation_split or "
                        "validation_data, or monitor 'loss')")
            raise GlassnetError(f"{type(self).__name__} monitors {self.monitor!r}, which this "
                                f"run does not log{hint}; it logs: {', '.join(metrics)}")

    def _is_improvement(self, current: float, best: float) -> bool:
        if current is None or not math.isfinite(current):
            return False
        if self.mode == "min":
            return current < best - self.min_delta
        return current > best + self.min_delta

    def _initial_best(self) -> float:
        return math.inf if self.mode == "min" else -math.inf


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor:
        A logged number: ``"val_loss"`` (default), ``"val_accuracy"``, ``"loss"``.
    patience:
        Stop at the end of the ``patience``-th consecutive epoch without
        improvement (Keras' meaning); at least 1.
    min_delta:
        An epoch improves only if it beats the best value by more than this.
    mode:
        ``"min"``, ``"max"`` or ``"auto"`` (max for accuracies, min otherwise).
    restore_best_weights:
        At the end of training put the weights of the best epoch back into the
        network, *whether or not stopping fired* (Keras used to restore only
        when it did, so a run that used up its epochs kept its last weights).
        Default True: this is what one nearly always wants.

    After training: ``best_epoch``, ``best`` (its value), ``stopped_epoch``
    (None if stopping never fired), ``restored_epoch``.

    Example
    -------
    >>> import numpy as np
    >>> from glassnet import Network
    >>> from glassnet.training import fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4)); y = (X[:, 0] > 0).astype(int)
    >>> net = Network([4, 8, 1], ["relu", "sigmoid"], "binary_cross_entropy",
    ...               weights="he_normal", reduction="mean", dtype="float32")
    >>> stop = EarlyStopping(patience=2)
    >>> h = fit(net, X, y, epochs=200, validation_split=0.2, callbacks=[stop],
    ...         optimizer="adam", progress=False)
    >>> h.best_epoch == stop.best_epoch and h["val_loss"][stop.best_epoch] == min(h["val_loss"])
    True
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True):
        super().__init__(monitor, min_delta, mode)
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 1:
            raise GlassnetError(f"patience must be an integer >= 1, got {patience!r}")
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.best = self._initial_best()
        self.best_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None
        self.stopped_epoch: int | None = None
        self.restored_epoch: int | None = None
        self._last_epoch: int | None = None

    def on_train_begin(self, logs=None):
        self._reset()
        self._check_monitor_available()

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch
        current = (logs or {}).get(self.monitor)
        if self._is_improvement(current, self.best):
            self.best = float(current)
            self.best_epoch = epoch
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.state.network.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.state.stop_training = True
            self.state.stop_reason = "early_stopping"
            self.state.stop_message = (
                f"early stopping: {self.monitor} did not improve for {self.wait} epoch(s) "
                f"after epoch {self.best_epoch + 1} (best {self.monitor} {self.best:.6g})")

    def on_train_end(self, logs=None):
        if (self.restore_best_weights and self.best_weights is not None
                and self.best_epoch != self._last_epoch):
            self.state.network.set_weights(self.best_weights)
            self.restored_epoch = self.best_epoch
            self.state.restored_epoch = self.best_epoch


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs.

    Pairs well with Adam on MNIST: a few epochs at a smaller step once the
    validation loss stops falling gain a few tenths of a percent of accuracy.
    ``min_lr`` bounds the reduction. The optimizer's ``lr`` attribute is changed
    in place (every glassnet optimizer reads it on each step).
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.5, patience: int = 2,
                 min_delta: float = 0.0, mode: str = "auto", min_lr: float = 1e-6):
        super().__init__(monitor, min_delta, mode)
        if not (isinstance(factor, (int, float)) and 0 < factor < 1):
            raise GlassnetError(f"factor must be a number in (0, 1), got {factor!r}")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 1:
            raise GlassnetError(f"patience must be an integer >= 1, got {patience!r}")
        if not (isinstance(min_lr, (int, float)) and min_lr >= 0):
            raise GlassnetError(f"min_lr must be a number >= 0, got {min_lr!r}")
        self.factor, self.patience, self.min_lr = float(factor), int(patience), float(min_lr)
        self.reductions: list[tuple[int, float]] = []

    def on_train_begin(self, logs=None):
        self._check_monitor_available()
        self.best = self._initial_best()
        self.wait = 0
        self.reductions = []

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if self._is_improvement(current, self.best):
            self.best, self.wait = float(current), 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            opt = self.state.optimizer
            new_lr = max(opt.lr * self.factor, self.min_lr)
            if new_lr < opt.lr:
                opt.lr = new_lr
                self.reductions.append((epoch, new_lr))
            self.wait = 0


class StepDecay(Callback):
    """Multiply the learning rate by ``factor`` when given epochs begin (a fixed schedule).

    ``milestones`` count finished epochs: the learning rate is multiplied by
    ``factor`` once that many epochs are done (just before the epoch with that
    0-based index starts). ``StepDecay([15, 22], 0.3)`` trains epochs 1–15
    (counted from 1, as the progress display counts) at lr, 16–22 at 0.3·lr
    and 23 on at 0.09·lr.

    Why a fixed schedule: with data augmentation the validation loss keeps
    creeping down for many epochs, noisily, and a plateau detector
    (:class:`ReduceLROnPlateau`) fires at random moments of that noise; a
    schedule tied to the run's length does the same thing every time. Use
    :meth:`at_fractions` to place the steps at fractions of the run.

    >>> StepDecay.at_fractions(30, (0.5, 0.75), 0.3).milestones
    [15, 22]
    """

    def __init__(self, milestones: Iterable[int], factor: float = 0.3):
        ms = list(milestones)
        if any(isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1 for m in ms):
            raise GlassnetError(f"milestones must be epoch numbers >= 1, got {ms!r}")
        if not (isinstance(factor, (int, float)) and not isinstance(factor, bool)
                and 0 < factor < 1):
            raise GlassnetError(f"factor must be a number in (0, 1), got {factor!r}")
        self.milestones = sorted({int(m) for m in ms})
        self.factor = float(factor)
        self.reductions: list[tuple[int, float]] = []

    @classmethod
    def at_fractions(cls, epochs: int, fractions: Iterable[float],
                     factor: float = 0.3) -> StepDecay:
        """Milestones at ``round(f * epochs)`` for each fraction f in (0, 1)."""
        fr = list(fractions)
        if any(not (isinstance(f, (int, float)) and 0 < f < 1) for f in fr):
            raise GlassnetError(f"fractions must be numbers in (0, 1), got {fr!r}")
        return cls([m for m in (int(round(f * epochs)) for f in fr) if m >= 1], factor)

    def on_train_begin(self, logs=None):
        self.reductions = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch in self.milestones:
            opt = self.state.optimizer
            opt.lr = opt.lr * self.factor
            self.reductions.append((epoch, opt.lr))

    def __repr__(self) -> str:
        return f"StepDecay(milestones={self.milestones}, factor={self.factor})"


class KeepBest(Callback):
    """Keep a copy of the best epoch's weights, so that an interrupted run can still be saved.

    ``fit`` restores the best weights itself when a run ends normally; but
    Ctrl-C (``KeyboardInterrupt``) can arrive anywhere, even in the middle of
    an update, and leaves ``fit`` at once. This callback copies the weights
    after every epoch that improves ``monitor`` (the number ``fit`` judges
    epochs by: ``val_loss``, or ``loss`` without validation), and
    :meth:`interrupted` puts them back and says so in the run's History.
    ``Classifier.fit(save_on_interrupt=True)`` (``glassnet train
    --save-on-interrupt``) uses it.

    >>> import numpy as np
    >>> from glassnet import Network
    >>> from glassnet.training import fit
    >>> class CtrlC(Callback):
    ...     def on_epoch_begin(self, epoch, logs=None):
    ...         if epoch == 3:
    ...             raise KeyboardInterrupt
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
    >>> net = Network([2, 4, 1], ["tanh", "sigmoid"], "binary_cross_entropy", seed=0,
    ...               reduction="mean")
    >>> keep = KeepBest("loss")
    >>> try:
    ...     h = fit(net, X, y, epochs=10, callbacks=[keep, CtrlC()], progress=False)
    ... except KeyboardInterrupt:
    ...     h = keep.interrupted()
    >>> len(h), h.stop_reason, h.restored_epoch == h.best_epoch == int(np.argmin(h["loss"]))
    (3, 'interrupted', True)
    """

    def __init__(self, monitor: str = "val_loss"):
        self.monitor = monitor
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None
        self._epoch: int | None = None

    def on_train_begin(self, logs=None):
        self.best, self.best_epoch, self.best_weights, self._epoch = math.inf, None, None, None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and math.isfinite(value) and value < self.best:
            self.best, self.best_epoch = float(value), epoch
            self.best_weights = self.state.network.get_weights()

    def interrupted(self) -> Any:
        """After a KeyboardInterrupt: restore the best weights; return the run's History.

        The History gets ``stop_reason = "interrupted"``, ``best_epoch`` and
        ``restored_epoch`` (None when no epoch had finished: then the network
        keeps whatever it holds and nothing should be saved) and a message
        that counts epochs from 1.
        """
        state = self.state
        history = state.history
        history.stop_reason = "interrupted"
        history.best_epoch = self.best_epoch
        during = f"during epoch {self._epoch + 1}" if self._epoch is not None else "at the start"
        if self.best_weights is None:
            history.restored_epoch = None
            history.message = f"interrupted {during}, before any epoch had finished"
        else:
            state.network.set_weights(self.best_weights)
            history.restored_epoch = state.restored_epoch = self.best_epoch
            history.message = (f"interrupted {during}; restored the weights of epoch "
                               f"{self.best_epoch + 1}, the best so far ({self.monitor} "
                               f"{self.best:.6g})")
        return history
