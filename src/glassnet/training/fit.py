"""The training loop: mini-batch gradient descent on a :class:`~glassnet.Network`.

``fit`` is the fast path. Everything is checked once up front (shapes,
dtypes, finiteness, labels); then each epoch

1. shuffles the training rows by index with a seeded ``numpy.random.Generator``;
2. gathers each batch into preallocated buffers with
   ``np.take(X, idx, axis=0, out=buffer)`` (no per-batch allocation, and the
   dataset itself is never copied), and, when an ``augment`` callable is
   given (e.g. :class:`~glassnet.training.RandomShift`), lets it change the
   batch in place with its own seeded Generator (validation data never is);
3. calls the network's own ``_forward``, ``_backward`` and the optimizer's
   ``step``: the same three calls an exercise's trace shows, with no Python
   loop over samples;
4. accumulates the epoch's mean training loss, and after the epoch computes
   the validation loss and accuracy over the whole validation set.

The validation split is seeded and stratified (every class keeps its share),
never "the last 10% of the rows" (Keras' trap). A NaN or infinite loss stops
training at once with a clear message, and the weights of the best epoch so
far are put back.

>>> import numpy as np
>>> from glassnet import Network
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(300, 2)).astype("float32")
>>> y = (X[:, 0] * X[:, 1] > 0).astype(int)               # XOR-like quadrants
>>> net = Network([2, 16, 2], ["relu", "softmax"], "cross_entropy",
...               weights="he_normal", reduction="mean", dtype="float32", seed=0)
>>> h = fit(net, X, y, epochs=60, batch_size=32, optimizer="adam", progress=False)
>>> h["loss"][-1] < h["loss"][0], len(h)
(True, 60)
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import GlassnetError, NonFiniteError, ShapeError
from ..network import Network
from ..optimizers import Optimizer, get_optimizer
from .augment import describe_augment
from .callbacks import Callback, CallbackList, FitState
from .history import History
from .progress import make_progress

__all__ = ["fit", "evaluate_loss", "predict_labels", "prepare_targets", "DivergenceWarning",
           "CLASSIFICATION_LOSSES"]

#: losses whose outputs are class probabilities
CLASSIFICATION_LOSSES = ("cross_entropy", "binary_cross_entropy")

#: rows per forward pass when evaluating a whole set
EVAL_CHUNK = 2048


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


# ---------------------------------------------------------------- validation
def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GlassnetError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _as_inputs(X: Any, net: Network, what: str) -> np.ndarray:
    """(N, n_inputs) C-contiguous array of the network's dtype, finite; copied only if needed."""
    try:
        X = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{what}: not a rectangular array of numbers: {exc}") from None
    if X.dtype.kind not in "fiub":
        raise GlassnetError(f"{what}: must be numbers, got dtype {X.dtype}")
    if X.ndim != 2 or X.shape[1] != net.n_inputs:
        raise ShapeError(f"{what}: must have shape (samples, {net.n_inputs}) to match the "
                         f"network's {net.n_inputs} inputs, got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ShapeError(f"{what}: has no rows")
    X = np.ascontiguousarray(X, dtype=net.dtype)
    # checked in chunks of rows: a whole-array np.isfinite would allocate a boolean copy
    # of the data set (47 MB for MNIST) just to say "all fine"
    for start in range(0, X.shape[0], 4096):
        chunk = X[start:start + 4096]
        if not np.isfinite(chunk).all():
            row = start + int(np.argwhere(~np.isfinite(chunk))[0][0])
            raise NonFiniteError(f"{what}: contains a non-finite value (row {row})")
    return X


def _is_one_hot(T: np.ndarray) -> bool:
    if not np.isin(T, (0.0, 1.0)).all():
        return False
    return T.shape[1] == 1 or bool((T.sum(axis=1) == 1).all())


def prepare_targets(y: Any, net: Network, n_rows: int,
                    what: str = "y") -> tuple[np.ndarray, np.ndarray | None]:
    """Turn labels or a target matrix into (T, labels) for ``net``.

    * 1-D integer labels 0..K−1: one-hot rows for K outputs, or a single 0/1
      column for a network with one (sigmoid) output.
    * A 2-D (N, outputs) array: used as is; its labels are recovered when its
      rows are one-hot (or 0/1 for one output), else None (regression: no accuracy).
    """
    try:
        y = np.asarray(y)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{what}: not an array: {exc}") from None
    K = net.n_outputs
    if y.ndim == 2 and y.shape[1] == 1 and K > 1:
        y = y.ravel()
    if y.ndim == 1:
        if y.shape[0] != n_rows:
            raise ShapeError(f"{what}: has {y.shape[0]} labels but X has {n_rows} rows")
        if y.dtype.kind not in "iub":
            if y.dtype.kind != "f" or not np.isfinite(y).all() or (y != np.round(y)).any():
                raise GlassnetError(f"{what}: class labels must be integers 0..K-1, "
                                    f"got dtype {y.dtype}")
        labels = y.astype(np.int64)
        n_classes = 2 if K == 1 else K
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            bad = labels[(labels < 0) | (labels >= n_classes)][0]
            raise GlassnetError(
                f"{what}: label {bad} is out of range: the network has {K} output(s), so labels "
                f"must be 0..{n_classes - 1}")
        if K == 1:
            T = labels.astype(net.dtype).reshape(-1, 1)
        else:
            T = np.zeros((n_rows, K), dtype=net.dtype)
            T[np.arange(n_rows), labels] = 1
        return T, labels
    if y.ndim != 2 or y.shape != (n_rows, K):
        raise ShapeError(f"{what}: expected labels of shape ({n_rows},) or targets of shape "
                         f"({n_rows}, {K}), got shape {tuple(y.shape)}")
    if y.dtype.kind not in "fiub":
        raise GlassnetError(f"{what}: targets must be numbers, got dtype {y.dtype}")
    T = np.ascontiguousarray(y, dtype=net.dtype)
    if not np.isfinite(T).all():
        raise NonFiniteError(f"{what}: targets contain a non-finite value")
    labels = None
    if _is_one_hot(T):
        labels = T.argmax(axis=1) if K > 1 else (T[:, 0] >= 0.5).astype(np.int64)
    return T, labels


# ---------------------------------------------------------------- evaluation
def predict_labels(outputs: np.ndarray) -> np.ndarray:
    """Class indices from outputs: argmax, or ``p >= 0.5`` → 1 for a single sigmoid output."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] >= 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def evaluate_loss(net: Network, X: np.ndarray, T: np.ndarray, labels: np.ndarray | None = None,
                  chunk: int = EVAL_CHUNK) -> tuple[float, float | None]:
    """Mean per-sample loss and accuracy (None without labels) over a whole set.

    X and T must already be checked (see ``fit``). The set is run in chunks
    to bound memory; accuracy is counted over all rows, never averaged per chunk.
    """
    out_layer = net.layers[-1]
    loss_sum, correct = 0.0, 0
    for i in range(0, X.shape[0], chunk):
        y = net._forward(X[i:i + chunk])
        loss_sum += float(net.loss.value(y, T[i:i + chunk], out_layer.z,
                                         out_layer.activation).sum())
        if labels is not None:
            correct += int(np.count_nonzero(predict_labels(y) == labels[i:i + chunk]))
    n = X.shape[0]
    return loss_sum / n, (correct / n if labels is not None else None)


# ---------------------------------------------------------------------- fit
def _validation_indices(labels: np.ndarray | None, n: int, fraction: float,
                        seed: int) -> tuple[np.ndarray, np.ndarray]:
    if labels is not None:
        from ..data import stratified_split

        train_idx, val_idx = stratified_split(labels, fraction, seed)
        return np.sort(np.asarray(train_idx, dtype=np.intp)), \
            np.sort(np.asarray(val_idx, dtype=np.intp))
    rng = np.random.default_rng([seed, 2])
    perm = rng.permutation(n)
    n_val = max(1, int(round(fraction * n)))
    if n_val >= n:
        raise GlassnetError(f"validation_split {fraction} leaves no training rows out of {n}")
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def _architecture(net: Network) -> str:
    acts = [layer.activation.name for layer in net.layers]
    hidden = sorted(set(acts[:-1]))
    act = "/".join(hidden + [acts[-1]]) if hidden else acts[-1]
    return f"{'-'.join(str(s) for s in net.sizes)} ({act}, {net.loss.name}, {net.dtype.name})"


def fit(
    net: Network,
    X: Any,
    y: Any,
    *,
    epochs: int = 30,
    batch_size: int = 128,
    optimizer: str | dict | Optimizer = "adam",
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    callbacks: Sequence[Callback] | None = None,
    seed: int | None = 0,
    shuffle: bool = True,
    progress: bool | Callback = True,
    augment: Callable[[np.ndarray, np.random.Generator], np.ndarray | None] | None = None,
    threads: int | str | None = "auto",
    label_smoothing: float = 0.0,
) -> History:
    """Train ``net`` in place by mini-batch gradient descent; return the :class:`History`.

    Parameters
    ----------
    net:
        The network to train (``reduction="mean"`` is the usual choice for
        mini-batches: then the learning rate does not depend on the batch size).
    X, y:
        Inputs (N, n_inputs) and either integer labels (N,) or targets (N, outputs).
        X is converted to the network's dtype once (no copy if it already is).
    epochs, batch_size:
        Maximum passes over the training rows, and rows per update
        (1 = online SGD; the last batch of an epoch may be smaller).
    optimizer:
        A name (``"sgd"``, ``"momentum"``, ``"adam"``), a config dict, or an
        :class:`~glassnet.optimizers.Optimizer` (which keeps its state across calls).
    validation_split:
        Fraction of the rows held out, stratified by class and seeded; or give
        ``validation_data=(X_val, y_val)`` instead.
    callbacks:
        :class:`Callback` objects, e.g. :class:`~glassnet.training.EarlyStopping`.
    seed:
        Seeds the split and the shuffling (initial weights are the network's).
    shuffle:
        Reshuffle the training rows every epoch (default True).
    progress:
        True: one line per epoch on stderr (and a bar on a terminal for long
        epochs); False: silent; or a Callback of your own.
    augment:
        Optional ``augment(x_batch, rng)``, called on every gathered training
        batch (never on validation data) just before the forward pass, with a
        Generator of its own seeded from ``seed`` (``default_rng([seed, 3])``).
        It changes ``x_batch`` in place and returns None, or returns an array
        of the same shape. E.g. :class:`~glassnet.training.RandomShift`. None
        (default) costs nothing.
    threads:
        BLAS threads: a number, or ``"auto"`` (default) to choose from the
        machine's load and a measurement, re-decided after every epoch (see
        :mod:`glassnet.threads`). Inside a :class:`~glassnet.threads.ThreadManager`
        (as ``glassnet train`` runs it), ``"auto"`` uses that one.
    label_smoothing:
        ε in [0, 1): train towards (1 − ε)·t + ε/K instead of the one-hot t (K
        classes; a single sigmoid output counts K = 2), so the network is never
        pushed to infinite confidence (Szegedy et al. 2016). For one-hot or 0/1
        targets only. The training ``loss`` is then the loss against the smoothed
        targets; validation always uses the true ones.

    Returns
    -------
    History
        One record per epoch (``epoch``, ``loss``, ``val_loss``,
        ``val_accuracy``, ``seconds``) and how the run ended.
    """
    if not isinstance(net, Network):
        raise GlassnetError(f"fit: expected a glassnet Network, got {type(net).__name__}")
    epochs = _check_int("epochs", epochs, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
            or not (0.0 <= validation_split < 1.0):
        raise GlassnetError(f"validation_split must be a number in [0, 1), got "
                            f"{validation_split!r}")
    if validation_split and validation_data is not None:
        raise GlassnetError("give either validation_split or validation_data, not both")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**63))
    seed = _check_int("seed", seed, 0)
    if augment is not None and not callable(augment):
        raise GlassnetError(f"augment must be a callable augment(x_batch, rng) or None, "
                            f"got {augment!r}")

    from ..threads import ThreadManager, check_threads

    n_threads = check_threads(threads, "threads")
    label_smoothing = _check_smoothing(label_smoothing)
    X = _as_inputs(X, net, "X")
    T, labels = prepare_targets(y, net, X.shape[0], "y")
    if label_smoothing and labels is None:
        raise GlassnetError("label_smoothing needs class labels or one-hot targets, "
                            "not a regression target matrix")

    # ---- the validation set: held-out indices, or separate arrays
    X_val = T_val = labels_val = val_idx = None
    train_idx = np.arange(X.shape[0], dtype=np.intp)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise GlassnetError("validation_data must be a pair (X_val, y_val)")
        X_val = _as_inputs(validation_data[0], net, "validation_data X")
        T_val, labels_val = prepare_targets(validation_data[1], net, X_val.shape[0],
                                            "validation_data y")
    elif validation_split > 0:
        train_idx, val_idx = _validation_indices(labels, X.shape[0], float(validation_split),
                                                 seed)
        X_val = np.take(X, val_idx, axis=0)
        T_val = np.take(T, val_idx, axis=0)
        labels_val = None if labels is None else labels[val_idx]
    if label_smoothing:  # after the validation rows were taken: those keep the true targets
        K_smooth = 2 if T.shape[1] == 1 else T.shape[1]
        T = T * net.dtype.type(1 - label_smoothing) + net.dtype.type(label_smoothing / K_smooth)
    n_train = int(train_idx.shape[0])
    if n_train == 0:
        raise GlassnetError("no training rows left after the validation split")
    has_val = X_val is not None

    opt = get_optimizer(optimizer)
    n_batches = -(-n_train // batch_size)
    history = History()
    state = FitState(network=net, optimizer=opt, history=history)
    metrics = ["loss"] + (["val_loss"] + (["val_accuracy"] if labels_val is not None else [])
                          if has_val else [])
    state.params = {
        "epochs": epochs, "batch_size": batch_size, "n_train": n_train,
        "n_val": 0 if not has_val else int(X_val.shape[0]), "n_batches": n_batches,
        "metrics": metrics, "seed": seed, "architecture": _architecture(net),
        "optimizer": repr(opt), "augment": describe_augment(augment),
        "label_smoothing": label_smoothing,
    }
    history.params = dict(state.params)
    history.validation_indices = val_idx  # rows of X held out (None: none, or validation_data)
    user_cbs = CallbackList(callbacks, state)
    display = make_progress(progress, n_batches)
    every = CallbackList(list(user_cbs.callbacks) + ([display] if display else []), state)
    batch_hooks = every.has_batch_hooks

    # ---- buffers, allocated once: a full batch and the (smaller) last batch
    K, D = T.shape[1], X.shape[1]
    last = n_train % batch_size or batch_size
    xb, tb = np.empty((batch_size, D), net.dtype), np.empty((batch_size, K), net.dtype)
    xl, tl = (xb, tb) if last == batch_size else (np.empty((last, D), net.dtype),
                                                  np.empty((last, K), net.dtype))
    mean = net.reduction == "mean"
    shuffle_rng = np.random.default_rng([seed, 1])
    augment_rng = np.random.default_rng([seed, 3])  # its own stream: shuffling is unchanged
    monitor = "val_loss" if has_val else "loss"
    best_value, best_epoch = math.inf, None
    best_weights = net.get_weights()  # the weights to fall back on if training diverges
    diverged_at: tuple[int, int, float] | None = None

    # BLAS threads: the run's own manager, or the one `glassnet train` already holds
    managed = ThreadManager.active() if n_threads is None else None
    own_threads = managed is None
    if own_threads:
        managed = ThreadManager(n_threads, shape=(batch_size, D, net.sizes[1]),
                                dtype=net.dtype.name, sizes=net.sizes,
                                optimizer=_optimizer_kind(opt))
    if display is not None:
        display.set_state(state)
    # overflow in a diverging run is detected (non-finite loss) and reported below, once
    with np.errstate(over="ignore", invalid="ignore"), \
            (managed if own_threads else _no_context()):
        state.params["threads"] = history.params["threads"] = managed.describe()
        every.on_train_begin({})
        for epoch in range(epochs):
            every.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            order = np.take(train_idx, shuffle_rng.permutation(n_train)) if shuffle else train_idx
            loss_sum, rows_done = 0.0, 0
            for b in range(n_batches):
                idx = order[b * batch_size:(b + 1) * batch_size]
                xv, tv = (xb, tb) if idx.shape[0] == batch_size else (xl, tl)
                np.take(X, idx, axis=0, out=xv, mode="clip")  # "clip": no internal buffering
                np.take(T, idx, axis=0, out=tv, mode="clip")
                if augment is not None:
                    _augment_batch(augment, xv, augment_rng)
                if batch_hooks:
                    every.on_batch_begin(b, {"size": idx.shape[0]})
                net._forward(xv)
                loss = net._backward(tv)
                if not math.isfinite(loss):
                    diverged_at = (epoch, b, loss)
                    break
                opt.step(net)
                batch_total = loss * idx.shape[0] if mean else loss
                loss_sum += batch_total
                rows_done += idx.shape[0]
                if batch_hooks:
                    every.on_batch_end(b, {"loss": batch_total / idx.shape[0],
                                           "size": idx.shape[0]})
                    if state.stop_training:  # e.g. a time budget spent mid-epoch
                        break
            seconds = time.perf_counter() - t0
            if diverged_at is not None:
                history.append({"epoch": epoch, "loss": float("nan"), "val_loss": None,
                                "val_accuracy": None, "seconds": seconds})
                break
            record = {"epoch": epoch, "loss": loss_sum / max(rows_done, 1), "val_loss": None,
                      "val_accuracy": None, "seconds": seconds}
            if has_val:
                record["val_loss"], record["val_accuracy"] = evaluate_loss(net, X_val, T_val,
                                                                           labels_val)
            history.append(record)
            value = record[monitor]
            if value is not None and math.isfinite(value) and value < best_value \
                    and _finite_weights(net):  # the epoch's last update may have broken them
                best_value, best_epoch = value, epoch
                best_weights = net.get_weights()
            every.on_epoch_end(epoch, dict(record))
            if value is not None and not math.isfinite(value):
                diverged_at = (epoch, None, value)
                break
            managed.update(epoch)
            if state.stop_training:
                break
        history.params["threads"] = managed.describe()
        history.params["thread_changes"] = [list(c) for c in managed.changes]

    # ---- the weights after the very last update: without validation data nothing else
    # looks at them, and a diverging step can leave NaN/inf with every loss still finite
    if diverged_at is None and history.records and not _finite_weights(net):
        diverged_at = (epoch, _LAST_UPDATE, float("nan"))

    # ---- how the run ended
    history.best_epoch = best_epoch
    if diverged_at is not None:
        history.stop_reason = "diverged"
        net.set_weights(best_weights)
        state.restored_epoch = best_epoch
    elif state.stop_training:
        history.stop_reason = state.stop_reason or "callback"
    user_cbs.on_train_end({})
    history.restored_epoch = state.restored_epoch
    history.message = _end_message(history, state, diverged_at, monitor, best_value)
    if display is not None:
        display.on_train_end({})
    if diverged_at is not None:
        warnings.warn(history.message, DivergenceWarning, stacklevel=2)
    return history


#: ``diverged_at`` batch marker: the weights were found non-finite after the last update
_LAST_UPDATE = -1


def _check_smoothing(value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and 0 <= value < 1
    if not ok:
        raise GlassnetError(f"label_smoothing must be a number in [0, 1), got {value!r}")
    return float(value)


def _optimizer_kind(opt: Optimizer) -> str:
    """The optimizer's name as ``get_optimizer`` knows it (for timing a scratch step)."""
    if getattr(opt, "momentum", 0):
        return "momentum"
    return opt.name if opt.name in ("sgd", "adam") else "sgd"


def _finite_weights(net: Network) -> bool:
    """Are all weights and biases finite? (one small temporary per layer)"""
    return all(np.isfinite(layer.W).all() and (layer.b is None or np.isfinite(layer.b).all())
               for layer in net.layers)


class _no_context:
    """A context manager that does nothing (contextlib.nullcontext, without the import)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _augment_batch(augment: Callable, xv: np.ndarray, rng: np.random.Generator) -> None:
    """Run ``augment`` on the batch buffer; a returned array is copied back into it."""
    out = augment(xv, rng)
    if out is None or out is xv:
        return
    out = np.asarray(out)
    if out.shape != xv.shape:
        raise ShapeError(f"augment {describe_augment(augment)} returned shape "
                         f"{tuple(out.shape)} for a batch of shape {tuple(xv.shape)}")
    np.copyto(xv, out, casting="same_kind")


def _end_message(history: History, state: FitState, diverged_at: tuple | None, monitor: str,
                 best_value: float) -> str:
    restored = history.restored_epoch
    if diverged_at is not None:
        epoch, batch, value = diverged_at
        # epochs and batches are counted from 1 in messages, as in the progress display
        if batch == _LAST_UPDATE:
            what = (f"the weights became NaN or infinite in the last update (epoch {epoch + 1}), "
                    "though every loss was finite")
        elif batch is not None:
            what = f"the loss became {value} in epoch {epoch + 1}, batch {batch + 1}"
        else:
            what = f"{monitor} became {value} after epoch {epoch + 1}"
        kept = (f"restored the weights of epoch {restored + 1} ({monitor} {best_value:.6g})"
                if restored is not None else
                "restored the initial weights (no epoch ended with usable weights)")
        return (f"training diverged: {what}; stopped and {kept}. "
                f"Try a smaller learning rate.")
    parts = []
    if history.stop_reason == "early_stopping":
        parts.append(state.stop_message)
    elif history.stop_reason != "completed":
        parts.append(f"stopped by a callback after epoch {len(history)}"
                     + (f": {state.stop_message}" if state.stop_message else ""))
    if restored is not None:
        parts.append(f"restored the weights of epoch {restored + 1}, the best")
    return "; ".join(parts)
