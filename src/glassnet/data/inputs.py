"""Read the INPUT of ``glassnet predict``: rows of numbers (.npy, .csv) or one image.

What ``predict`` takes: the features as the dataset stores them, the
same input as the exported ONNX graph. For the built-in image datasets
that is raw pixels, 0..16 for digits and 0..255 for MNIST and
Fashion-MNIST (the model divides by 16 or 255 itself); for a model trained
with ``--data``, the file's columns as they are (the model standardizes
them). ``pixel_max`` says the top of the pixel range.

Why checks here: a model answers for any numbers it is given, so a wrong
input gives a confident, wrong answer. :func:`load_inputs` insists on the
number of features the model was trained with, on finite values that the
model's number type can hold, and, for models trained on images, on pixels
in [0, pixel_max]: values outside are an error naming the range the model
takes, not a silently wrong prediction. :func:`prescaled_warning` notices
rows that look divided already (all within [0, 1] for a 0..16 model).

An image file is turned into what the model saw in training: grayscale,
resized (area average) to the model's image shape, on the dataset's pixel
scale (0..pixel_max), and inverted when it looks like dark ink on a light
background (MNIST is light ink on black). Reading images needs matplotlib
(``pip install glassnet[plot]``).
Note that MNIST digits are also centred and size-normalised; a photo of a
digit predicts best when cropped to the digit with a small margin.

>>> import numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
>>> _ = open(path, "w").write("a,b,c\\n0.5,1,0\\n0,0,1\\n")
>>> load_inputs(path, 3)
array([[0.5, 1. , 0. ],
       [0. , 0. , 1. ]], dtype=float32)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["IMAGE_SUFFIXES", "load_image", "load_inputs", "prescaled_warning", "resize_area"]

#: file name endings read as images (matplotlib reads PNG itself, the rest through Pillow)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".pgm", ".ppm", ".pbm", ".bmp", ".gif", ".tif",
                  ".tiff", ".webp")
#: the most bytes of data read from one .npy/.npz input (checked against its header first)
MAX_INPUT_BYTES = 512 * 1024 * 1024
#: the most bytes read from one .csv input
MAX_CSV_BYTES = 64 * 1024 * 1024
#: the most bytes read from one image file, and the most pixels decoded (25 megapixels)
MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_IMAGE_PIXELS = 25_000_000
#: luminance weights (ITU-R BT.601) for RGB -> gray
_LUMA = np.array([0.299, 0.587, 0.114])


def load_inputs(
    path: str | os.PathLike,
    n_features: int,
    image_shape: tuple[int, int] | None = None,
    *,
    pixel_max: float = 1.0,
    dataset: str | None = None,
    dtype: np.dtype | type = np.float32,
) -> np.ndarray:
    """Load ``path`` as rows of ``n_features`` numbers of ``dtype`` (float32), checked.

    * ``.npy``: a numeric array (no pickles), shape (N, D) or (D,) for one
      row; with ``image_shape`` also (N, rows, cols) or (rows, cols).
    * ``.npz``: the array ``X`` in it (as written for ``glassnet train
      --data``; a ``y`` array beside it is ignored), no pickles.
    * ``.csv``: rows of comma-separated numbers; a first line that is not
      numbers is taken as a header and skipped.
    * an image (``.png``, ``.jpg``, ``.pgm``, ...) when ``image_shape`` is
      given: one row, prepared as described in the module docstring.

    With ``image_shape`` (a model trained on images) the values must lie in
    [0, ``pixel_max``]: 16 for a digits model, 255 for MNIST (raw pixels, as
    the dataset stores them), 1 for pixels already scaled; ``dataset`` names
    the pixels in the message. Every problem raises :class:`DataError`
    naming the file.

    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "raw.npy")
    >>> np.save(path, np.full((1, 64), 255.0))
    >>> try:
    ...     load_inputs(path, 64, (8, 8), pixel_max=16, dataset="digits")
    ... except DataError as exc:
    ...     print(str(exc).split(": ", 1)[1])
    values run from 255 to 255; this model takes digits pixels 0..16, as the dataset stores \
them (it divides them by 16 itself); for pixels 0..255 multiply by 16/255
    """
    dtype = np.dtype(dtype)
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a .npy, .csv or image file")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        rows = _load_npy(path)
    elif suffix == ".npz":
        rows = _load_npz(path)
    elif suffix == ".csv":
        rows = _load_csv(path)
    elif suffix in IMAGE_SUFFIXES:
        if image_shape is None:
            raise DataError(
                f"{path}: this model was not trained on images; give a .npy or .csv file of "
                f"rows of {n_features} numbers"
            )
        image = load_image(path, image_shape).reshape(1, -1)
        if pixel_max == 1:
            return image.astype(dtype)
        return (image.astype(np.float64) * pixel_max).astype(dtype)  # the dataset's scale
    else:
        kinds = ".npy, .npz or .csv" + (" or an image (.png, .jpg, .pgm, ...)"
                                        if image_shape else "")
        raise DataError(f"{path}: unsupported input file type {suffix or '(none)'!r}; "
                        f"expected {kinds}")

    if image_shape is not None and rows.ndim >= 2 and rows.shape[-2:] == tuple(image_shape):
        rows = rows.reshape(-1, image_shape[0] * image_shape[1])  # (rows, cols) images
    if rows.ndim == 1:
        rows = rows.reshape(1, -1)
    if rows.ndim != 2:
        raise DataError(f"{path}: expected rows of {n_features} numbers (a 2-D array), got an "
                        f"array of shape {rows.shape}")
    if rows.shape[0] == 0:
        raise DataError(f"{path}: holds no rows")
    if rows.shape[1] != n_features:
        image = f" ({image_shape[0]}x{image_shape[1]} pixels)" if image_shape else ""
        raise DataError(f"{path}: rows have {rows.shape[1]} numbers; the model expects "
                        f"{n_features}{image}")
    if not np.all(np.isfinite(rows)):
        r, c = np.argwhere(~np.isfinite(rows))[0]
        raise DataError(f"{path}: value {rows[r, c]} in row {r}, column {c}; expected finite "
                        "numbers")
    top = float(np.finfo(dtype).max) if dtype.kind == "f" else np.inf
    if rows.max() > top or rows.min() < -top:  # no copy of the rows unless one is too large
        r, c = np.argwhere(np.abs(rows) > top)[0]
        raise DataError(f"{path}: value {rows[r, c]:g} in row {r}, column {c} is beyond the "
                        f"range of the model's {dtype.name} numbers "
                        f"(±{float(np.finfo(dtype).max):.3g})")
    if image_shape is not None:
        _check_pixels(path, rows, pixel_max, dataset)
    return rows.astype(dtype, copy=False)


def _pixels(dataset: str | None, pixel_max: float) -> str:
    what = f"{dataset} pixels" if dataset else "pixels"
    if pixel_max == 1:
        return f"{what} scaled to [0, 1]"
    return (f"{what} 0..{pixel_max:g}, as the dataset stores them (it divides them by "
            f"{pixel_max:g} itself)")


def _check_pixels(path: Path, rows: np.ndarray, pixel_max: float, dataset: str | None) -> None:
    """Refuse pixels outside [0, pixel_max], naming the range this model takes."""
    lo, hi = float(rows.min()), float(rows.max())
    if lo >= 0 and hi <= pixel_max:
        return
    hint = ""
    if 0 <= lo and pixel_max < hi <= 255:
        hint = ("; for pixels 0..255 divide by 255" if pixel_max == 1
                else f"; for pixels 0..255 multiply by {pixel_max:g}/255")
    raise DataError(f"{path}: values run from {lo:g} to {hi:g}; this model takes "
                    f"{_pixels(dataset, pixel_max)}{hint}")


def prescaled_warning(path: str | os.PathLike, rows: np.ndarray, pixel_max: float,
                      dataset: str | None = None) -> str | None:
    """A warning when raw pixels 0..pixel_max look divided already (all in [0, 1], not whole).

    Raw pixels of the built-in datasets are whole numbers; rows that are all
    within [0, 1] with fractions are almost surely scaled, and the model
    would divide them again (a nearly blank image). None when all is well.

    >>> import numpy as np
    >>> prescaled_warning("x.npy", np.array([[0.0, 0.5, 1.0]]), 16, "digits")  # doctest: +ELLIPSIS
    'x.npy: values run from 0 to 1, with fractions: already scaled to [0, 1]? ...'
    >>> prescaled_warning("x.npy", np.array([[0.0, 7.0, 16.0]]), 16, "digits") is None
    True
    """
    rows = np.asarray(rows, dtype=np.float64)
    if pixel_max <= 1 or rows.size == 0:
        return None
    lo, hi = float(rows.min()), float(rows.max())
    if not (lo >= 0 and 0 < hi <= 1) or np.all(rows == np.round(rows)):
        return None
    return (f"{path}: values run from {lo:g} to {hi:g}, with fractions: already scaled to "
            f"[0, 1]? This model takes {_pixels(dataset, pixel_max)}; multiply the rows by "
            f"{pixel_max:g}")


def _load_npy(path: Path) -> np.ndarray:
    from ..fileio import load_npy_capped

    # the header is checked against the file's size and MAX_INPUT_BYTES before reading
    rows = load_npy_capped(path, MAX_INPUT_BYTES, "", error=DataError)
    if not isinstance(rows, np.ndarray):
        raise DataError(f"{path}: expected a .npy array")
    if rows.dtype.kind not in "biuf":
        raise DataError(f"{path}: array of {rows.dtype}; expected numbers")
    return rows.astype(np.float64, copy=False)


def _load_npz(path: Path) -> np.ndarray:
    import zipfile

    from ..fileio import load_npz_capped

    try:
        z = load_npz_capped(path, MAX_INPUT_BYTES, "", error=DataError)  # headers checked first
        if "X" not in z:
            raise DataError(f"{path}: no array named 'X' (the rows to predict); it holds "
                            f"{', '.join(z) or 'no arrays'}")
        rows = z["X"]
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(f"{path}: not a plain numeric .npz ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: cannot read as .npz ({exc})") from None
    if rows.dtype.kind not in "biuf":
        raise DataError(f"{path}: array X of {rows.dtype}; expected numbers")
    return rows.astype(np.float64, copy=False)


def _numbers(line: str) -> bool:
    try:
        [float(field) for field in line.split(",")]
    except ValueError:
        return False
    return True


def _load_csv(path: Path) -> np.ndarray:
    from ..fileio import read_bytes_capped

    try:
        lines = read_bytes_capped(path, MAX_CSV_BYTES, "input file").decode(
            "utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: cannot read as a text .csv file ({exc})") from None
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if numbered and not _numbers(numbered[0][1]):
        numbered = numbered[1:]  # a header
    if not numbered:
        raise DataError(f"{path}: holds no rows of numbers")
    width = None
    rows = []
    for lineno, line in numbered:
        try:
            row = [float(field) for field in line.split(",")]
        except ValueError:
            raise DataError(f"{path}, line {lineno}: expected comma-separated numbers, got "
                            f"{line[:60]!r}") from None
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise DataError(f"{path}, line {lineno}: {len(row)} numbers; the first row has "
                            f"{width}")
        rows.append(row)
    return np.array(rows, dtype=np.float64)


def load_image(path: str | os.PathLike, image_shape: tuple[int, int]) -> np.ndarray:
    """Read an image as a float32 (rows, cols) array in [0, 1], light ink on dark, MNIST-style.

    (:func:`load_inputs` multiplies it by ``pixel_max``: the dataset's own scale.)

    Color is converted to gray (transparent pixels count as white paper),
    the image is resized to ``image_shape`` by :func:`resize_area`, and
    inverted when its mean is above 0.5 (dark ink on light paper).
    """
    path = Path(path)
    try:
        import matplotlib.image as mpimg
    except ImportError:
        raise DataError(f"{path}: reading images needs matplotlib: pip install "
                        "'glassnet[plot]'") from None
    _check_image_size(path)
    try:
        img = np.asarray(mpimg.imread(path))
    except Exception as exc:  # matplotlib/Pillow raise many types for a bad image
        raise DataError(f"{path}: cannot read as an image ({type(exc).__name__}: {exc})") \
            from None
    if img.dtype.kind in "ui":
        img = img.astype(np.float64) / np.iinfo(img.dtype).max
    elif img.dtype.kind == "b":
        img = img.astype(np.float64)
    elif img.dtype.kind != "f":
        raise DataError(f"{path}: unsupported pixel type {img.dtype}")
    img = img.astype(np.float64, copy=False)
    if img.ndim == 3 and img.shape[2] in (3, 4):
        gray = img[..., :3] @ _LUMA
        if img.shape[2] == 4:  # composite over white paper
            alpha = img[..., 3]
            gray = alpha * gray + (1 - alpha)
    elif img.ndim == 3 and img.shape[2] in (1, 2):
        gray = img[..., 0]
        if img.shape[2] == 2:
            gray = img[..., 1] * gray + (1 - img[..., 1])
    elif img.ndim == 2:
        gray = img
    else:
        raise DataError(f"{path}: unexpected image array of shape {img.shape}")
    if gray.size == 0:
        raise DataError(f"{path}: empty image")
    if not np.all(np.isfinite(gray)):
        raise DataError(f"{path}: image holds non-finite values")
    gray = np.clip(gray, 0.0, 1.0)
    small = resize_area(gray, image_shape)
    if small.mean() > 0.5:
        small = 1.0 - small
    return small.astype(np.float32)


def _check_image_size(path: Path) -> None:
    """Refuse a file over MAX_IMAGE_BYTES, or an image over MAX_IMAGE_PIXELS, before decoding.

    Pillow reads only the header to learn the size; a 20 000 x 20 000 PNG of a
    few hundred kilobytes would otherwise take 6 GB once decoded.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if size > MAX_IMAGE_BYTES:
        raise DataError(f"{path}: {size} bytes, more than the {MAX_IMAGE_BYTES} glassnet reads "
                        "from an image; crop or shrink it")
    try:
        from PIL import Image
    except ImportError:  # matplotlib without Pillow reads PNG only: check its header here
        dims = _png_dimensions(path)
    else:
        try:
            with Image.open(path) as im:
                dims = im.size
        except Exception:  # not an image Pillow knows (the reader below says so), or damaged
            dims = _png_dimensions(path)
    if dims is not None and dims[0] * dims[1] > MAX_IMAGE_PIXELS:
        raise DataError(f"{path}: an image of {dims[0]} x {dims[1]} pixels, more than the "
                        f"{MAX_IMAGE_PIXELS} glassnet decodes; crop or shrink it (the model "
                        "sees it at a small size anyway)")


def _png_dimensions(path: Path) -> tuple[int, int] | None:
    with open(path, "rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix: output cell i averages the input cells it overlaps, by overlap."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    cells = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, cells + 1) - np.maximum(lo, cells), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_area(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D image to ``shape`` by area averaging (box filter), in NumPy.

    Each output pixel is the mean of the input area it covers, partial
    pixels weighted by overlap, so shrinking preserves total ink and the
    mean. Enlarging repeats pixels (blending at the borders of cells).

    >>> import numpy as np
    >>> resize_area(np.array([[0., 1, 2, 3], [4, 5, 6, 7]]), (1, 2)).tolist()
    [[2.5, 4.5]]
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise DataError(f"resize_area needs a 2-D image, got shape {image.shape}")
    rows, cols = (int(s) for s in shape)
    if rows < 1 or cols < 1:
        raise DataError(f"image shape must be positive, got {tuple(shape)}")
    return _area_weights(image.shape[0], rows) @ image @ _area_weights(image.shape[1], cols).T
