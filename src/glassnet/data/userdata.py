"""The user's own data: ``glassnet train --data FILE`` and ``evaluate --test-data FILE``.

Two file kinds, each read with a size bound and checked cell by cell, so a
bad file gives one message that names the file, the row and the column:

* ``.npz`` with an array ``X`` (rows of features; (N, rows, cols) images are
  flattened to rows of pixels, then treated as features like any other) and
  an array ``y`` (integer labels). Read with
  ``allow_pickle=False``: an object array is refused, never unpickled.
* ``.csv``: one sample per line, comma-separated numbers, the label in the
  last column. A first line that is not all numbers is a header (its names
  are used in messages).

Labels must be integers (``3`` or ``3.0``, not ``3.5`` or ``cat``); the
classes are the distinct labels in increasing order, re-indexed 0..k-1.

Why standardize, and why only on the training rows: features of one's own
data come in any units (a price in euros next to a ratio), and gradient
descent with one learning rate needs them on one scale. The mean and
standard deviation of each feature are learned on the training rows only
(learning them on rows that include the test rows would leak the test set
into the model) and stored in the model, so ``evaluate`` and ``predict``
apply exactly the same transformation to new rows.

>>> import numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "pts.csv")
>>> _ = open(path, "w").write("x1,x2,label\\n0,10,0\\n1,20,1\\n2,30,0\\n3,40,1\\n")
>>> d = load_user_data(path)
>>> d.X.shape, d.y.tolist(), d.class_names, d.feature_names
((4, 2), [0, 1, 0, 1], ['0', '1'], ['x1', 'x2'])
>>> s = fit_standardizer(d.X)
>>> s["mean"], s["scale"]
([1.5, 25.0], [1.118033988749895, 11.180339887498949])
>>> standardize(d.X, s)[:, 0].round(3).tolist()
[-1.342, -0.447, 0.447, 1.342]
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .datasets import LabelledRows
from .errors import DataError

__all__ = ["UserData", "load_user_data", "split_off_test", "fit_standardizer", "standardize",
           "check_model_inputs", "check_standardizer", "file_sha256", "MAX_DATA_BYTES",
           "SUFFIXES"]

#: the largest data file read (bytes, and uncompressed bytes of an .npz); bigger ones are refused
MAX_DATA_BYTES = 2 * 1024**3
#: the file kinds ``--data`` reads
SUFFIXES = (".npz", ".csv")


@dataclass
class UserData(LabelledRows):
    """Rows read from a ``--data`` file.

    ``X`` (N, D) float64 as in the file (not scaled), ``y`` (N,) int64 labels
    0..k-1, ``class_names`` the original label of each index (as text),
    ``feature_names`` (from a CSV header, else ``x1..xD``), ``path``,
    ``sha256`` of the file, and ``rows`` the file's line (CSV) or array row
    (NPZ) of each sample, for messages.
    """

    X: np.ndarray
    y: np.ndarray
    class_names: list[str]
    feature_names: list[str]
    path: Path
    sha256: str
    image_shape: tuple[int, int] | None = None
    name: str = "data"
    split: str = "all"
    rows: np.ndarray | None = field(default=None, repr=False)

    def subset(self, indices: Any, split: str) -> UserData:
        """The rows ``indices`` (copied), labelled as ``split`` ("train"/"test")."""
        idx = np.asarray(indices, dtype=np.intp)
        return UserData(self.X[idx], self.y[idx], list(self.class_names),
                        list(self.feature_names), self.path, self.sha256, self.image_shape,
                        self.name, split, None if self.rows is None else self.rows[idx])


# ------------------------------------------------------------------ reading
def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in 1 MiB pieces (to recognise the training file later)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_file(path: Path, what: str, max_bytes: int) -> None:
    if not path.exists():
        raise DataError(f"{what} {path}: no such file")
    if path.is_dir():
        raise DataError(f"{what} {path}: is a directory, expected a .npz or .csv file")
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{what} {path}: unsupported file type {path.suffix or '(none)'!r}; "
                        "expected .npz (arrays X and y) or .csv (label in the last column)")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"{what} {path}: {size:,} bytes, more than the {max_bytes:,} bytes "
                        "this command reads")
    if size == 0:
        raise DataError(f"{what} {path}: the file is empty")


def load_user_data(path: str | os.PathLike, *, what: str = "--data",
                   max_bytes: int = MAX_DATA_BYTES) -> UserData:
    """Read and check a ``.npz`` or ``.csv`` data file (see the module docstring).

    Raises :class:`DataError` naming the file, and the row and column of a
    bad value, for every problem: missing arrays, a ragged or non-numeric
    CSV, NaN or infinity, labels that are not integers, fewer than 1 row.
    """
    path = Path(path)
    _check_file(path, what, max_bytes)
    if path.suffix.lower() == ".npz":
        X, labels, feature_names, image_shape, rows = _read_npz(path, what, max_bytes)
    else:
        X, labels, feature_names, rows = _read_csv(path, what, max_bytes)
        image_shape = None
    classes, y = np.unique(labels, return_inverse=True)
    names = [str(int(c)) for c in classes]
    return UserData(X, y.reshape(-1).astype(np.int64), names, feature_names, path,
                    file_sha256(path), image_shape, name=path.name, rows=rows)


def _read_npz(path: Path, what: str, max_bytes: int):
    from ..fileio import load_npz_capped

    where = f"{what} {path}"
    # every array's header is checked against the zip directory and max_bytes before it is
    # decompressed (no zip bomb), and object arrays (pickles) are refused, never loaded
    arrays = load_npz_capped(path, max_bytes, what, error=DataError)
    missing = [k for k in ("X", "y") if k not in arrays]
    if missing:
        raise DataError(f"{where}: no array named {missing[0]!r}; the file holds "
                        f"{', '.join(arrays) or 'no arrays'} (expected X: rows of features, "
                        "y: integer labels)")
    X, y = arrays["X"], arrays["y"]
    # images become plain features: they are standardized like any column, so the [0, 1]
    # pixel conventions of the built-in image datasets (and image-file input) do not apply
    image_shape = None
    if X.dtype.kind not in "biuf":
        raise DataError(f"{where}: X has dtype {X.dtype}; expected numbers")
    if X.ndim == 3:  # (N, rows, cols) images: one row of pixels per image
        X = X.reshape(X.shape[0], -1)
    if X.ndim != 2:
        raise DataError(f"{where}: X must be 2-D (samples, features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{where}: X of shape {X.shape} holds no data")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{where}: X[{r}, {c}] is {X[r, c]}; expected finite numbers "
                        f"(row {r}, column {c})")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise DataError(f"{where}: y must be 1-D with one label per row of X ({X.shape[0]}), "
                        f"got shape {y.shape}")
    labels = _integer_labels(y, lambda i: f"{where}, y[{i}]")
    names = [f"x{j + 1}" for j in range(X.shape[1])]
    return X, labels, names, image_shape, np.arange(X.shape[0])


def _integer_labels(y: np.ndarray, where) -> np.ndarray:
    """int64 labels, or a DataError naming the first label that is not an integer."""
    if y.dtype.kind in "biu":
        return y.astype(np.int64)
    if y.dtype.kind != "f":
        raise DataError(f"{where(0)}: labels have dtype {y.dtype}; expected integers")
    ok = np.isfinite(y) & (y == np.round(y)) & (np.abs(y) < 2**53)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise DataError(f"{where(i)}: {float(y[i]):g} is not an integer; labels must be "
                        "integers")
    return y.astype(np.int64)


def _is_number(text: str) -> bool:
    """What NumPy's CSV parser reads as a number (Python's float() also takes '1_000')."""
    if "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: Path, what: str, max_bytes: int):
    from ..fileio import read_bytes_capped

    where = f"{what} {path}"
    raw = read_bytes_capped(path, max_bytes, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    header = None
    if numbered and not all(_is_number(c) for c in numbered[0][1].split(",")):
        header = [c.strip() for c in numbered[0][1].split(",")]
        numbered = numbered[1:]
    if not numbered:
        raise DataError(f"{where}: holds no rows of numbers")
    width = len(numbered[0][1].split(","))
    if width < 2:
        raise DataError(f"{where}, line {numbered[0][0]}: one column; expected features and "
                        "a label in the last column, separated by commas")
    if header is not None and len(header) != width:
        raise DataError(f"{where}: the header has {len(header)} columns, line "
                        f"{numbered[0][0]} has {width}")
    try:  # the fast path (NumPy's C parser); on any problem, find and name the bad cell
        table = np.loadtxt([line for _, line in numbered], delimiter=",", dtype=np.float64,
                           ndmin=2, comments=None)  # no comment lines: row i is numbered[i]
        if table.shape[1] != width:
            raise ValueError
    except ValueError:
        _diagnose_csv(numbered, width, header, where)
        raise DataError(f"{where}: cannot be read as comma-separated numbers") from None
    line_of = np.array([n for n, _ in numbered])
    col_name = (lambda j: f"column {j + 1} ({header[j]})") if header else \
        (lambda j: f"column {j + 1}")
    bad = ~np.isfinite(table)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{where}, line {line_of[r]}, {col_name(c)}: {table[r, c]} is not a "
                        "finite number")
    X, y = table[:, :-1], table[:, -1]
    label_col = col_name(width - 1) + ("" if header else " (the label)")
    labels = _integer_labels(y, lambda i: f"{where}, line {line_of[i]}, {label_col}")
    names = header[:-1] if header else [f"x{j + 1}" for j in range(width - 1)]
    return np.ascontiguousarray(X), labels, names, line_of


def _diagnose_csv(numbered: list[tuple[int, str]], width: int, header: list[str] | None,
                  where: str) -> None:
    """Raise a DataError for the first ragged line or non-numeric cell."""
    for lineno, line in numbered:
        cells = line.split(",")
        if len(cells) != width:
            n = f"{len(cells)} column" + ("s" if len(cells) != 1 else "")
            raise DataError(f"{where}, line {lineno}: {n}; the first row has {width}")
        for j, cell in enumerate(cells):
            if not _is_number(cell):
                col = f"column {j + 1}" + (f" ({header[j]})" if header else "")
                raise DataError(f"{where}, line {lineno}, {col}: {cell.strip()[:40]!r} is not "
                                "a number")


# --------------------------------------------------------------- splitting
def split_off_test(data: UserData, fraction: float, seed: int) -> tuple[UserData, UserData]:
    """(train, test): a seeded, stratified hold-out of ``fraction`` of every class.

    Uses its own stream (``default_rng([seed, 4])``), so the validation split
    that ``fit`` draws later with the same seed is independent of it.
    """
    from .preprocess import stratified_split

    if isinstance(fraction, bool) or not (isinstance(fraction, (int, float))
                                          and 0 < fraction < 1):
        raise DataError(f"--test-split must be a number in (0, 1), got {fraction!r}")
    train_idx, test_idx = stratified_split(data.y, fraction, np.random.default_rng([seed, 4]))
    if test_idx.size == 0:
        raise DataError(f"--data {data.path}: {data.n_samples} rows are too few to hold out a "
                        f"test split of {fraction:g}; give --test-data FILE")
    return data.subset(train_idx, "train"), data.subset(test_idx, "test")


# ----------------------------------------------------------------- scaling
def fit_standardizer(X: np.ndarray) -> dict[str, list[float]]:
    """Per-feature mean and standard deviation of the training rows ``X``.

    A constant feature gets scale 1 (it is only centred), so no division by 0.
    Computed in float64; returned as plain lists (stored in model.json).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise DataError(f"cannot standardize an array of shape {X.shape}: expected rows of "
                        "features")
    if not np.isfinite(X).all():
        r, c = (int(i) for i in np.argwhere(~np.isfinite(X))[0])
        raise DataError(f"cannot standardize: row {r}, column {c + 1} is {X[r, c]}")
    # each column divided by its largest magnitude first: the mean and the squares stay far
    # from float64's limits for every finite value (no overflow, no RuntimeWarning)
    top = np.abs(X).max(axis=0)
    top[~(top > 0)] = 1.0
    unit = X / top
    mean = unit.mean(axis=0) * top
    scale = unit.std(axis=0) * top
    scale[~(scale > 0)] = 1.0
    return {"mean": mean.tolist(), "scale": scale.tolist()}


def check_standardizer(pre: dict[str, Any], n_features: int) -> None:
    """Raise a DataError unless ``pre`` holds a usable mean/scale pair (or neither)."""
    has = [k in pre for k in ("mean", "scale")]
    if not any(has):
        return
    if not all(has):
        raise DataError("preprocessing needs both 'mean' and 'scale', or neither")
    for key in ("mean", "scale"):
        v = pre[key]
        if not isinstance(v, list) or len(v) != n_features or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                for x in v):
            raise DataError(f"preprocessing.{key} must be a list of {n_features} finite numbers")
    if not all(s > 0 for s in pre["scale"]):
        raise DataError("preprocessing.scale must be positive")


def standardize(X: np.ndarray, scaler: dict[str, Any], dtype: Any = np.float64) -> np.ndarray:
    """``(X - mean) / scale``, computed in float64, returned as ``dtype``.

    A row whose standardized value does not fit ``dtype`` (a test value far
    outside the training rows' spread) is a :class:`DataError` naming the
    row and column, never an infinity or a NumPy warning; callers that know
    the file say so first with :func:`check_model_inputs`.
    """
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        z = standardize_values(X, scaler)
    _check_fits(X, z, dtype, lambda r, c: f"X, row {r}, column {c + 1}", scaled=True)
    return z.astype(dtype, copy=False)


def _check_fits(X: np.ndarray, z: np.ndarray, dtype: Any, where, scaled: bool) -> None:
    """Raise a DataError naming ``where(row, column)`` of the first ``z`` beyond ``dtype``."""
    dtype = np.dtype(dtype)
    limit = float(np.finfo(dtype).max) if dtype.kind == "f" else np.inf
    bad = ~(np.abs(z) <= limit)  # NaN and infinity included
    if not bad.any():
        return
    r, c = (int(i) for i in np.argwhere(bad)[0])
    if scaled:
        raise DataError(f"{where(r, c)}: {X[r, c]:g} is too far outside the training rows: "
                        f"standardized it would be beyond ±{limit:.3g}, the range of the "
                        f"model's {dtype.name} numbers")
    raise DataError(f"{where(r, c)}: {X[r, c]:g} is beyond ±{limit:.3g}, the range of the "
                    f"model's {dtype.name} numbers (its inputs, also in predict and ONNX): "
                    "rescale this column, e.g. to other units")


def check_model_inputs(data: UserData, preprocessing: dict[str, Any] | None, dtype: Any,
                       where: str) -> None:
    """Refuse, naming the file's line (CSV) or array row (NPZ) and the column, a value of
    ``data`` the model cannot take in its number type ``dtype``: beyond its range as it is
    (``predict`` and the ONNX graph take the raw values in that type), or once standardized
    with ``preprocessing``'s mean and scale.

    Files are read exactly (any finite float64); this is the check at the point of use, so
    that no infinity reaches the network and NumPy never warns.
    """
    pre = preprocessing or {}
    X = data.X
    rows = data.rows if data.rows is not None else np.arange(data.n_samples)
    csv = data.path.suffix.lower() == ".csv"

    def place(r: int, c: int) -> str:
        return f"{where}, line {rows[r]}, column {c + 1}" if csv else f"{where}: X[{rows[r]}, {c}]"

    _check_fits(X, X, dtype, place, scaled=False)
    if "mean" in pre:
        with np.errstate(over="ignore", invalid="ignore"):
            z = standardize_values(X, pre)
        _check_fits(X, z, dtype, place, scaled=True)


def standardize_values(X: np.ndarray, scaler: dict[str, Any]) -> np.ndarray:
    """``(X - mean) / scale`` in float64 (may overflow: callers check, see standardize)."""
    mean = np.asarray(scaler["mean"], dtype=np.float64)
    scale = np.asarray(scaler["scale"], dtype=np.float64)
    return (np.asarray(X, dtype=np.float64) - mean) / scale

