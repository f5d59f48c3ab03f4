"""Pictures of a training run: learning curves, a confusion matrix, misclassified samples.

matplotlib is an optional extra (``pip install glassnet[plot]``), imported
only when a picture is drawn, with the non-interactive Agg backend (no
window, works on servers and in CI). Each function writes one file; the
format follows the file name (``.png``, ``.svg``, ``.pdf``).

>>> from glassnet.training import History
>>> h = History.from_records([{"epoch": 0, "loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.9,
...                            "seconds": 1.0}])
>>> import tempfile, os
>>> path = plot_history(h, os.path.join(tempfile.mkdtemp(), "curves.png"))
>>> os.path.getsize(path) > 0
True
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GlassnetError

__all__ = ["require_matplotlib", "plot_history", "plot_confusion_matrix",
           "plot_misclassified", "training_plots", "SUFFIXES"]

SUFFIXES = (".png", ".svg", ".pdf")


def require_matplotlib() -> Any:
    """Import matplotlib with the Agg backend, or explain how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise GlassnetError("plots need matplotlib, which is not installed: "
                            "pip install 'glassnet[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _target(path: str | os.PathLike) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise GlassnetError(f"{path}: picture file names must end in "
                            f"{', '.join(SUFFIXES)}")
    if not path.parent.exists():
        raise GlassnetError(f"{path}: folder {path.parent} does not exist")
    return path


def _save(fig: Any, path: Path) -> Path:
    plt = require_matplotlib()
    from .fileio import atomic_write_bytes

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, dpi=120, format=path.suffix.lower().lstrip("."))
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue(), what="picture")  # all or nothing
    return path


def plot_history(history: Any, path: str | os.PathLike, title: str | None = None) -> Path:
    """Training and validation loss per epoch, and validation accuracy (second panel).

    ``history`` is a :class:`~glassnet.training.History` or a ``--history`` file.
    The best epoch (and the restored one, if any) is marked.
    """
    from .training.history import History

    if not isinstance(history, History):
        history = History.read_jsonl(history)
    path = _target(path)
    plt = require_matplotlib()
    epochs = np.array(history["epoch"], dtype=float) + 1  # counted from 1, as in the progress
    loss = np.array([np.nan if v is None else v for v in history["loss"]], dtype=float)
    val = np.array([np.nan if v is None else v for v in history["val_loss"]], dtype=float)
    acc = np.array([np.nan if v is None else v for v in history["val_accuracy"]], dtype=float)
    has_acc = bool(np.isfinite(acc).any())
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 6, 4),
                             squeeze=False)
    ax = axes[0, 0]
    ax.plot(epochs, loss, "o-", ms=3, label="training loss (epoch mean)")
    if np.isfinite(val).any():
        ax.plot(epochs, val, "s-", ms=3, label="validation loss")
        best = int(np.nanargmin(val))
        ax.axvline(epochs[best], color="gray", ls="--", lw=1,
                   label=f"best epoch {int(epochs[best])}")
    ax.set_xlabel("epoch")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epoch 1, 2, ... never 2.5
    ax.set_ylabel("mean loss per sample")
    finite = np.concatenate([loss[np.isfinite(loss)], val[np.isfinite(val)]])
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 20:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title or "learning curves")
    if has_acc:
        ax2 = axes[0, 1]
        ax2.plot(epochs, 100 * acc, "s-", ms=3, color="C2")
        ax2.set_xlabel("epoch")
        ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax2.set_ylabel("validation accuracy (%)")
        ax2.grid(alpha=0.3)
        ax2.set_title(f"validation accuracy (max {100 * np.nanmax(acc):.2f}%)")
    return _save(fig, path)


def plot_confusion_matrix(cm: Any, class_names: Sequence[str], path: str | os.PathLike,
                          title: str | None = None) -> Path:
    """A heat map of counts, rows = true class, columns = predicted, counts written in."""
    cm = np.asarray(cm)
    k = len(class_names)
    if cm.shape != (k, k):
        raise GlassnetError(f"confusion matrix of shape {cm.shape} for {k} classes")
    path = _target(path)
    plt = require_matplotlib()
    size = max(4.0, 0.55 * k + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    # colour by the share of each true class, so small classes are as visible as big ones
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), labels=list(class_names), rotation=45 if k > 4 else 0, ha="right"
                  if k > 4 else "center")
    ax.set_yticks(range(k), labels=list(class_names))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {100 * acc:.2f}%)")
    fig.colorbar(im, ax=ax, label="share of the true class")
    return _save(fig, path)


def plot_misclassified(X: Any, y_true: Any, y_pred: Any, image_shape: Sequence[int],
                       class_names: Sequence[str], path: str | os.PathLike,
                       proba: Any = None, count: int = 25) -> Path:
    """A grid of (up to ``count``) misclassified images, titled "true → predicted (p)"."""
    X, y_true, y_pred = np.asarray(X), np.asarray(y_true), np.asarray(y_pred)
    h, w = (int(s) for s in image_shape)
    if X.ndim != 2 or X.shape[1] != h * w:
        raise GlassnetError(f"images of shape {image_shape} need rows of {h * w} values, "
                            f"got {X.shape}")
    path = _target(path)
    plt = require_matplotlib()
    wrong = np.flatnonzero(y_true != y_pred)
    if proba is not None:  # most confident mistakes first: the instructive ones
        proba = np.asarray(proba)
        wrong = wrong[np.argsort(-proba[wrong, y_pred[wrong]], kind="stable")]
    wrong = wrong[:count]
    cols = min(5, max(1, len(wrong)))
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong, strict=False):
        ax.imshow(X[i].reshape(h, w), cmap="gray_r" if X[i].mean() < 0.5 else "gray",
                  vmin=0, vmax=1)
        p = f" ({proba[i, y_pred[i]]:.2f})" if proba is not None else ""
        ax.set_title(f"{class_names[y_true[i]]} → {class_names[y_pred[i]]}{p}", fontsize=8)
    if not len(wrong):
        axes[0, 0].text(0.5, 0.5, "no misclassified samples", ha="center", va="center")
    fig.suptitle(f"misclassified: {len(np.flatnonzero(y_true != y_pred))} of {len(y_true)} "
                 "(true → predicted)", fontsize=10)
    return _save(fig, path)


def evaluation_plots(model: Any, X: Any, y: Any, directory: str | os.PathLike,
                     what: str = "") -> list[Path]:
    """Confusion matrix and misclassified samples of ``model`` on (X, y), into ``directory``."""
    from .metrics import confusion_matrix

    directory = Path(directory)
    proba = model.predict_proba(X)
    pred = model.predict(X)
    written = [plot_confusion_matrix(confusion_matrix(y, pred, model.n_classes),
                                     model.class_names, directory / "confusion_matrix.png",
                                     title=None if not what else
                                     f"{what}: accuracy {100 * np.mean(pred == y):.2f}%")]
    if model.image_shape is not None:
        written.append(plot_misclassified(X, y, pred, model.image_shape, model.class_names,
                                          directory / "misclassified.png", proba=proba))
    return written


def training_plots(model: Any, history: Any, directory: str | os.PathLike,
                   train: Any = None) -> list[Path]:
    """What ``glassnet train --plots DIR`` writes: learning curves, and (given the
    training Dataset) the confusion matrix and misclassified images of the
    validation rows."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GlassnetError(f"--plots {directory}: cannot create the folder: {exc.strerror}") \
            from None
    written = [plot_history(history, directory / "learning_curves.png")]
    idx = getattr(history, "validation_indices", None)
    if train is not None and idx is not None and len(idx):
        X = train.X[idx].astype(model.network.dtype, copy=False)
        written += evaluation_plots(model, X, train.y[idx], directory, what="validation set")
    return written
