"""Classification metrics, computed from whole-set confusion counts.

Every number here comes from one confusion matrix over all the samples,
never from averaging per-batch values (a batch mean of accuracies or
precisions is not the accuracy or precision of the set).

Definitions, for class c with tp = true positives, fp = false positives and
fn = false negatives (counts from the confusion matrix, rows = true class,
columns = predicted class):

* accuracy  = (correct predictions) / n
* precision = tp / (tp + fp)
* recall    = tp / (tp + fn)
* F1        = 2 tp / (2 tp + fp + fn)   (the harmonic mean of the two)

A ratio 0/0 (a class never predicted, or never present) is defined as 0,
as scikit-learn does with ``zero_division=0``. For a binary task precision,
recall and F1 are those of the positive class, label 1. For more classes
they are macro averages: the unweighted mean over *all* k classes, including
classes absent from both y_true and y_pred (scikit-learn with
``labels=range(k)``), and ``per_class`` gives each class's values.

>>> y_true = [0, 0, 1, 1, 1]
>>> y_pred = [0, 1, 1, 1, 0]
>>> confusion_matrix(y_true, y_pred).tolist()
[[1, 1], [1, 2]]
>>> m = classification_metrics(y_true, y_pred)
>>> m["accuracy"], round(m["precision"], 4), round(m["recall"], 4), round(m["f1"], 4)
(0.6, 0.6667, 0.6667, 0.6667)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import GlassnetError, ShapeError

__all__ = ["confusion_matrix", "accuracy", "precision_recall_f1", "classification_metrics",
           "format_metrics"]


def _labels(y: Any, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ShapeError(f"{what} must be a 1-D array of class labels, got shape {y.shape}")
    if y.size and y.dtype.kind not in "iub":
        if y.dtype.kind != "f" or not np.isfinite(y).all() or (y != np.round(y)).any():
            raise GlassnetError(f"{what} must be integer class labels 0..k-1, got {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise GlassnetError(f"{what} contains the negative label {int(y.min())}")
    return y


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of samples of true class i predicted as class j (int64, k×k).

    ``n_classes`` defaults to 1 + the largest label seen (at least 2).

    >>> confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2]).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    """
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ShapeError(f"y_true has {t.shape[0]} labels but y_pred has {p.shape[0]}")
    seen = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if n_classes is None:
        k = max(seen, 2)
    else:
        k = int(n_classes)
        if k < 1:
            raise GlassnetError(f"n_classes must be >= 1, got {n_classes!r}")
        if seen > k:
            raise GlassnetError(f"label {seen - 1} is out of range for {k} classes")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den element-wise, with 0/0 (and x/0) defined as 0."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def precision_recall_f1(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix (0/0 := 0)."""
    cm = np.asarray(cm)
    tp = np.diag(cm).astype(float)
    fp = cm.sum(axis=0) - tp  # predicted c, but another class
    fn = cm.sum(axis=1) - tp  # class c, predicted another
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of samples whose predicted label equals the true one."""
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ShapeError(f"y_true has {t.shape[0]} labels but y_pred has {p.shape[0]}")
    if t.size == 0:
        raise GlassnetError("accuracy of an empty set is undefined")
    return float(np.count_nonzero(t == p) / t.size)


def classification_metrics(
    y_true: Any,
    y_pred: Any,
    n_classes: int | None = None,
    *,
    class_names: Sequence[str] | None = None,
    loss: float | None = None,
) -> dict[str, Any]:
    """accuracy, precision, recall, f1, loss, n, classes, confusion_matrix, per_class.

    Binary (k = 2): precision/recall/F1 of the positive class, label 1.
    Otherwise macro averages over all k classes, plus ``per_class``: one
    ``{"class", "precision", "recall", "f1", "support"}`` per class. ``loss``
    (if given) is passed through, so one dict describes an evaluation.
    """
    cm = confusion_matrix(y_true, y_pred, n_classes)
    k = cm.shape[0]
    n = int(cm.sum())
    if n == 0:
        raise GlassnetError("cannot compute metrics of an empty set")
    if class_names is not None and len(class_names) != k:
        raise GlassnetError(f"{len(class_names)} class names given for {k} classes")
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    prec, rec, f1 = precision_recall_f1(cm)
    out: dict[str, Any] = {"accuracy": float(np.trace(cm) / n)}
    if k == 2:
        out.update(precision=float(prec[1]), recall=float(rec[1]), f1=float(f1[1]),
                   average="binary", positive_class=names[1])
    else:
        out.update(precision=float(prec.mean()), recall=float(rec.mean()), f1=float(f1.mean()),
                   average="macro")
    out["loss"] = None if loss is None else float(loss)
    out["n"] = n
    out["classes"] = names
    out["confusion_matrix"] = cm.tolist()
    per_class = [
        {"class": names[c], "precision": float(prec[c]), "recall": float(rec[c]),
         "f1": float(f1[c]), "support": int(cm[c].sum())}
        for c in range(k)
    ]
    out["per_class"] = per_class  # given for a pair too: the negative class's numbers
    return out


def format_metrics(m: dict[str, Any]) -> str:
    """A plain-text report: the headline numbers, per-class table, confusion matrix."""
    lines = [f"samples    {m['n']}",
             f"accuracy   {100 * m['accuracy']:.2f}%"]
    if m.get("loss") is not None:
        lines.append(f"loss       {m['loss']:.4f}")
    which = (f"(positive class {m['positive_class']!r})" if m.get("average") == "binary"
             else "(macro average)")
    for key in ("precision", "recall", "f1"):
        lines.append(f"{key:<10} {100 * m[key]:.2f}% {which}")
    names = m["classes"]
    w = max(5, *(len(n) for n in names))
    lines += ["", f"{'class':<{w}}  precision  recall     f1         support"]
    for row in m["per_class"]:
        lines.append(f"{row['class']:<{w}}  {100 * row['precision']:6.2f}%    "
                     f"{100 * row['recall']:6.2f}%    {100 * row['f1']:6.2f}%    {row['support']}")
    cm = np.asarray(m["confusion_matrix"])
    cw = max(len(str(int(cm.max()))), *(len(n) for n in names)) + 1
    lines += ["", "confusion matrix (rows = true class, columns = predicted)",
              " " * (w + 1) + "".join(f"{n:>{cw}}" for n in names)]
    for name, row in zip(names, cm, strict=True):
        lines.append(f"{name:<{w}} " + "".join(f"{v:>{cw}d}" for v in row))
    return "\n".join(lines)
