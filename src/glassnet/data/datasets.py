"""The three datasets the trainer knows by name, loaded into one :class:`Dataset` shape.

* ``digits``: the 8x8 handwritten digits bundled with scikit-learn (1797
  images, read from a file inside scikit-learn: no download). It has no
  official train/test split, so glassnet fixes one: a stratified split with
  :data:`DIGITS_TEST_FRACTION` = 25 % of every class in ``test`` and seed
  :data:`DIGITS_SPLIT_SEED` = 0, the same on every run and machine.
  Pixels 0..16 are scaled to [0, 1].
* ``mnist``: 60,000 + 10,000 handwritten digits, 28x28, pixels 0..255
  scaled to [0, 1]. Files found or downloaded as in :mod:`glassnet.data.sources`.
* ``fashion-mnist``: the same format with 10 kinds of clothing.

Why one shape for all: the trainer, metrics and CLI only see ``X`` (float
rows in [0, 1]), ``y`` (int64 labels 0..k-1) and ``class_names``; which
dataset it was matters only here.

Memory: an MNIST image file is read once into a uint8 array, the selected
classes (if any) are taken from that, and there is exactly one conversion
to float, scaled in place.

>>> ds = load_dataset("digits", "test", classes=[5, 6])
>>> ds.X.shape, ds.class_names, ds.image_shape
((91, 64), ['5', '6'], (8, 8))
>>> float(ds.X.min()), float(ds.X.max())
(0.0, 1.0)
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import unknown_name
from .errors import DataError
from .idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from .preprocess import select_classes, stratified_split
from .sources import locate_files

__all__ = [
    "DATASETS", "DIGITS_SPLIT_SEED", "DIGITS_TEST_FRACTION", "Dataset", "load_dataset",
]

#: the dataset names load_dataset knows
DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist")

#: class names in label order
CLASS_NAMES: dict[str, list[str]] = {
    "digits": [str(d) for d in range(10)],
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
}

#: share of each digit class that forms the fixed ``digits`` test split
DIGITS_TEST_FRACTION = 0.25
#: seed of the fixed ``digits`` train/test split
DIGITS_SPLIT_SEED = 0

_SPLITS = ("train", "test")
_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


class LabelledRows:
    """What every labelled table of rows tells: its sample, feature and class counts.

    Shared by :class:`Dataset` and :class:`~glassnet.data.userdata.UserData`
    (both have ``X`` of shape (N, D) and ``class_names``).
    """

    X: np.ndarray
    class_names: list[str]

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


@dataclass(eq=False)
class Dataset(LabelledRows):
    """One split of a dataset, ready for a network.

    Attributes: ``name`` and ``split`` (``"train"`` or ``"test"``); ``X`` of
    shape (N, D), float in [0, 1] (one row per image, pixels row by row);
    ``y`` of shape (N,), int64 labels 0..k-1; ``class_names``, the original
    name of each label (``class_names[y[i]]`` names sample i); and
    ``image_shape`` (rows, columns) of one image, or None for non-image data.
    """

    name: str
    split: str
    X: np.ndarray
    y: np.ndarray
    class_names: list[str]
    image_shape: tuple[int, int] | None = None

    def subset(self, indices: Any) -> Dataset:
        """A new Dataset with the rows ``indices`` (e.g. from :func:`stratified_split`), copied.

        >>> from glassnet.data import load_dataset, stratified_split
        >>> ds = load_dataset("digits")
        >>> train_idx, val_idx = stratified_split(ds.y, 0.1, seed=0)
        >>> ds.subset(val_idx).n_samples
        136
        """
        indices = np.asarray(indices)
        if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iub"):
            raise DataError(f"subset indices must be a 1-D array of integers or booleans, got "
                            f"{indices.dtype} of shape {indices.shape}")
        try:
            X, y = self.X[indices], self.y[indices]
        except IndexError as exc:
            raise DataError(f"subset of {self.name} {self.split} ({self.n_samples} samples): "
                            f"{exc}") from None
        return Dataset(self.name, self.split, X, y, list(self.class_names), self.image_shape)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, split={self.split!r}, X={self.X.dtype}{self.X.shape}, "
            f"y={self.y.dtype}{self.y.shape}, class_names={self.class_names!r}, "
            f"image_shape={self.image_shape!r})"
        )


def _class_labels(name: str, classes: Sequence[Any]) -> list[int]:
    """Turn the user's class list (labels or names, e.g. 5, "5", "Sandal") into labels."""
    names = CLASS_NAMES[name]
    if isinstance(classes, (str, bytes)):
        classes = [c.strip() for c in str(classes).split(",")]
    by_name = {n.lower(): i for i, n in enumerate(names)}
    labels = []
    for c in classes:
        if isinstance(c, (bool, np.bool_)):
            label = None
        elif isinstance(c, (int, np.integer)):
            label = int(c)
        elif isinstance(c, str):
            key = c.strip().lower()
            if key in by_name:
                label = by_name[key]
            elif key.lstrip("-").isdigit():
                label = int(key)
            else:
                label = None
        else:
            label = None
        if label is None:
            raise DataError(
                f"class {c!r} of {name}: expected a label 0..{len(names) - 1} or a class name "
                f"({', '.join(names)})"
            )
        labels.append(label)
    return labels


def load_dataset(
    name: str,
    split: str = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    classes: Sequence[Any] | None = None,
    download: bool = True,
    progress: bool = True,
    dtype: Any = "float32",
    mirrors: Sequence[str] | str | None = None,
) -> Dataset:
    """Load one split of ``digits``, ``mnist`` or ``fashion-mnist`` as a :class:`Dataset`.

    ``classes`` keeps only those labels (ints, digit strings or class names
    such as ``"Sandal"``), re-indexed 0..k-1 in the given order; classes that
    do not exist or are repeated raise :class:`DataError`. ``data_dir``,
    ``download``, ``progress`` and ``mirrors`` say where MNIST files come from
    (see :func:`glassnet.data.sources.locate_files`); ``digits`` ignores
    them. ``dtype`` is ``"float32"`` (the training fast path) or ``"float64"``.

    >>> ds = load_dataset("digits")
    >>> ds.n_samples, ds.n_features, ds.n_classes, ds.y.dtype
    (1346, 64, 10, dtype('int64'))
    """
    if name not in DATASETS:
        raise DataError(str(unknown_name("dataset", name, DATASETS)))
    if split not in _SPLITS:
        raise DataError(f"unknown split {split!r}; expected 'train' or 'test'")
    try:
        float_dtype = _DTYPES[str(np.dtype(dtype))]
    except (TypeError, KeyError):
        raise DataError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from None
    labels = None if classes is None else _class_labels(name, classes)
    all_names = CLASS_NAMES[name]
    if labels is not None:
        unknown = [c for c in labels if not 0 <= c < len(all_names)]
        if unknown:
            raise DataError(
                f"classes not in {name}: {', '.join(map(str, unknown))}; available classes: "
                + ", ".join(f"{i} ({n})" if n != str(i) else n for i, n in enumerate(all_names))
            )

    if name == "digits":
        pixels, y, image_shape, scale = _load_digits(split)
    else:
        images_path, labels_path = locate_files(
            name, split, data_dir=data_dir, download=download, progress=progress,
            mirrors=mirrors,
        )
        pixels, y = _read_image_pair(images_path, labels_path, len(all_names))
        image_shape, scale = (int(pixels.shape[1]), int(pixels.shape[2])), 255.0
        pixels = pixels.reshape(len(pixels), -1)  # a view: no copy

    if labels is not None:
        pixels, y = select_classes(pixels, y, labels)
        class_names = [all_names[c] for c in labels]
    else:
        y = y.astype(np.int64)
        class_names = list(all_names)

    # The one conversion: cast and scale in a single pass into the new float array.
    X = np.empty(pixels.shape, dtype=float_dtype)
    np.divide(pixels, float_dtype.type(scale), out=X, dtype=float_dtype)
    return Dataset(name=name, split=split, X=X, y=y, class_names=class_names,
                   image_shape=image_shape)


def _read_image_pair(images_path, labels_path, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; expected the same number (files from different splits?)"
        )
    if images.shape[1:] != (28, 28):
        raise DataError(
            f"{images_path}: images are {images.shape[1]}x{images.shape[2]}; expected 28x28"
        )
    if len(labels) and labels.max() >= n_classes:
        bad = int(np.flatnonzero(labels >= n_classes)[0])
        raise DataError(
            f"{labels_path}: label {int(labels[bad])} at position {bad}; expected labels "
            f"0..{n_classes - 1}"
        )
    return images, labels


def _load_digits(split: str) -> tuple[np.ndarray, np.ndarray, tuple[int, int], float]:
    """scikit-learn's 8x8 digits (pixels 0..16) and glassnet's fixed stratified split."""
    pixels, y = _digits_arrays()
    train_idx, test_idx = stratified_split(y, DIGITS_TEST_FRACTION, seed=DIGITS_SPLIT_SEED)
    idx = train_idx if split == "train" else test_idx
    return pixels[idx], y[idx], (8, 8), 16.0


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as (pixels float64 (1797, 64), labels int64), read once per process.

    Why not just ``sklearn.datasets.load_digits()``: importing
    ``sklearn.datasets`` takes over a second, several times longer than
    reading the data. So the CSV file that ``load_digits`` reads
    (``sklearn/datasets/data/digits.csv.gz``: 64 pixels then the label per
    line) is located without importing scikit-learn and parsed here; if it
    is not where expected or not as expected, ``load_digits`` is used.
    The tests check both ways give identical arrays.
    """
    table = _read_digits_csv()
    if table is None:
        try:
            from sklearn.datasets import load_digits
        except ImportError:  # pragma: no cover - scikit-learn is a dependency
            raise DataError("the digits dataset needs scikit-learn: pip install scikit-learn") \
                from None
        bunch = load_digits()
        pixels, y = np.asarray(bunch.data, dtype=np.float64), bunch.target.astype(np.int64)
    else:
        pixels, y = table[:, :64], table[:, 64].astype(np.int64)
    pixels.flags.writeable = False
    y.flags.writeable = False
    return pixels, y


def _read_digits_csv() -> np.ndarray | None:
    try:
        spec = importlib.util.find_spec("sklearn")
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(list(spec.submodule_search_locations)[0]) / "datasets/data/digits.csv.gz"
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError, EOFError, ImportError):
        return None
    ok = (
        table.shape == (1797, 65)
        and np.all((table >= 0) & (table <= 16))
        and np.all(table == np.round(table))
        and np.all(table[:, 64] <= 9)
    )
    return table if ok else None
