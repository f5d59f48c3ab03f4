"""Small, exact preprocessing steps: class selection, stratified splits, one-hot targets.

Why stratified: MNIST's files are not in random order, so "the last 10 % of
the training file" is not a fair validation set. :func:`stratified_split`
draws the same fraction from every class with a seeded
:class:`numpy.random.Generator`, so a split is reproducible from its seed and
every class is represented in proportion.

>>> import numpy as np
>>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
>>> train_idx, val_idx = stratified_split(y, 0.5, seed=0)
>>> np.bincount(y[val_idx]).tolist()          # half of each class
[2, 3]
>>> X, y2 = select_classes(np.arange(10).reshape(10, 1), y, [1, 0])
>>> y2.tolist()                               # class 1 is now label 0, class 0 label 1
[1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
>>> one_hot([2, 0], 3).tolist()
[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import DataError

__all__ = ["one_hot", "pixel_divisor", "select_classes", "stratified_split"]


def _labels(y: Any, what: str = "y") -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"{what} must be a 1-D array of labels, got shape {y.shape}")
    return y


def stratified_split(
    y: Any, fraction: float, seed: int | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into (train, validation), drawing ``fraction`` of every class.

    Each class with ``count`` samples puts ``round(fraction * count)`` of them
    (halves rounded up) into validation, chosen at random with
    ``numpy.random.default_rng(seed)``; but at least 1 when ``fraction > 0``
    and the class has 2 or more samples, and never all of them (a class
    always keeps a training sample). ``fraction`` must be in [0, 1).

    Returns two sorted ``int64`` index arrays that are disjoint and together
    cover ``0 .. len(y) - 1``. Same ``y``, ``fraction`` and ``seed`` give the
    same split on every run and machine.

    >>> import numpy as np
    >>> train_idx, val_idx = stratified_split(np.repeat([0, 1, 2], 10), 0.2, seed=1)
    >>> len(train_idx), len(val_idx)
    (24, 6)
    """
    y = _labels(y)
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) \
            or not 0 <= fraction < 1:
        raise DataError(f"validation fraction must be a number in [0, 1), got {fraction!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(y)
    if fraction == 0 or n == 0:
        return np.arange(n, dtype=np.int64), np.empty(0, dtype=np.int64)
    # Group indices by class (classes in sorted order, indices ascending within a class).
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    order = np.argsort(inverse.reshape(-1), kind="stable")
    chosen = []
    start = 0
    for count in counts.tolist():
        members = order[start:start + count]
        start += count
        k = math.floor(fraction * count + 0.5)
        if count >= 2:
            k = max(k, 1)
        k = min(k, count - 1)
        if k > 0:
            chosen.append(members[rng.permutation(count)[:k]])
    is_val = np.zeros(n, dtype=bool)
    if chosen:
        is_val[np.concatenate(chosen)] = True
    return (np.flatnonzero(~is_val).astype(np.int64, copy=False),
            np.flatnonzero(is_val).astype(np.int64, copy=False))


def select_classes(
    X: np.ndarray, y: Any, classes: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Keep only the samples whose label is in ``classes``, relabelled 0..k-1 in that order.

    ``classes[0]`` becomes label 0, ``classes[1]`` label 1, and so on; so for
    a pair ``[5, 6]`` the second listed class (6) is the positive class of a
    binary task. Samples keep their original order. Duplicates, an empty
    list, or classes that do not occur in ``y`` raise :class:`DataError`
    naming them and the available labels.

    Returns ``(X_selected, y_selected)`` with ``y_selected`` of dtype int64;
    ``X_selected`` is a new array (rows copied), ``X`` is not modified.

    >>> import numpy as np
    >>> X, y = select_classes(np.eye(4), np.array([3, 5, 6, 5]), [6, 5])
    >>> y.tolist(), X[:, 1:3].tolist()
    ([1, 0, 1], [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    """
    y = _labels(y)
    X = np.asarray(X)
    if X.shape[:1] != y.shape:
        raise DataError(f"X has {X.shape[0] if X.ndim else 0} rows but y has {len(y)} labels")
    classes = list(classes)
    if not classes:
        raise DataError("no classes selected; give at least one class")
    duplicates = [c for c, k in Counter(classes).items() if k > 1]
    if duplicates:
        raise DataError(
            f"classes listed more than once: {', '.join(map(str, duplicates))}; "
            "each class may appear only once"
        )
    available = np.unique(y)
    present = set(available.tolist())
    absent = [c for c in classes if c not in present]
    if absent:
        raise DataError(
            f"classes not in the data: {', '.join(map(str, absent))}; available classes: "
            f"{', '.join(map(str, available.tolist()))}"
        )
    mask = np.isin(y, np.asarray(classes, dtype=y.dtype))
    y_kept = y[mask]
    new_y = np.empty(len(y_kept), dtype=np.int64)
    for i, c in enumerate(classes):
        new_y[y_kept == c] = i
    return X[mask], new_y


def one_hot(y: Any, n_classes: int, dtype: Any = np.float32) -> np.ndarray:
    """One row per label with a 1 in that label's column: targets for a softmax output.

    Labels must be integers in ``0 .. n_classes - 1``.

    >>> one_hot([1, 0], 2, dtype=np.float64)
    array([[0., 1.],
           [1., 0.]])
    """
    y = _labels(y)
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) \
            or n_classes < 1:
        raise DataError(f"n_classes must be a positive integer, got {n_classes!r}")
    if len(y) and y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise DataError(f"labels must be integers, got dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)][0]
        raise DataError(f"label {bad} is out of range; expected 0 .. {n_classes - 1}")
    out = np.zeros((len(y), int(n_classes)), dtype=dtype)
    out[np.arange(len(y)), y.astype(np.intp, copy=False)] = 1
    return out


def pixel_divisor(scaling: Any) -> float | None:
    """N of a model's input scaling ``"pixel / N"``; None for ``"none"`` and ``"standardize"``.

    One parser for every reader of ``preprocessing.scaling`` (predict, the exporters), so
    they cannot disagree on what a model does to its raw rows.

    >>> pixel_divisor("pixel / 255"), pixel_divisor("none")
    (255.0, None)
    """
    if scaling is None:
        return None
    text = str(scaling).replace(" ", "").lower()
    if text in ("", "none", "standardize"):
        return None
    name, _, number = text.partition("/")
    try:
        value = float(number) if name == "pixel" else float("nan")
    except ValueError:
        value = float("nan")
    if not (np.isfinite(value) and value > 0):
        raise DataError(f"preprocessing.scaling {scaling!r}: expected 'none', "
                            "'standardize' or 'pixel / N' with N a positive number")
    return value
