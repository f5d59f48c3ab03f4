"""Read and write IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is a tiny header followed by one big array::

    bytes 0-1   zero
    byte  2     data type (0x08 = unsigned byte, the only one MNIST uses)
    byte  3     number of dimensions d
    4*d bytes   the size of each dimension, big-endian uint32
    the rest    the values, row-major, big-endian

Read as one big-endian integer the first four bytes are the *magic number*:
2051 (0x00000803: three dimensions of bytes) for image files and 2049
(0x00000801: one dimension of bytes) for label files.

Why a reader of our own: the format is simple, but a file that is truncated,
misnamed or damaged in transit must give one clear message, not a reshape
error three functions later. :func:`read_idx` checks the header against the
bytes actually present, accepts gzip or raw files (detected from their
content, not their name), and reads the data once, straight into the array it
returns (no intermediate copy of the 47 MB MNIST training images).

>>> import tempfile, os, numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "tiny-images-idx3-ubyte.gz")
>>> write_idx(path, np.arange(12, dtype=np.uint8).reshape(2, 2, 3))
>>> read_idx(path, magic=IMAGES_MAGIC)[1]
array([[ 6,  7,  8],
       [ 9, 10, 11]], dtype=uint8)
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..fileio import open_input
from .errors import DataError

__all__ = ["IMAGES_MAGIC", "LABELS_MAGIC", "read_idx", "write_idx"]

#: magic number of an IDX file of unsigned bytes with 3 dimensions (N, rows, columns)
IMAGES_MAGIC = 0x00000803
#: magic number of an IDX file of unsigned bytes with 1 dimension (N,)
LABELS_MAGIC = 0x00000801

#: IDX type byte -> NumPy dtype (IDX stores multi-byte values big-endian)
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
#: deflate cannot compress better than about 1032:1; a header declaring more is corrupt
_MAX_DEFLATE_RATIO = 1032
#: the most data read_idx accepts from one file by default (1 GiB)
MAX_IDX_BYTES = 1 << 30
#: gzip is decompressed straight into the output array in pieces of this size
_CHUNK = 1 << 20


def _describe_magic(magic: int) -> str:
    if magic == IMAGES_MAGIC:
        return "an IDX image file"
    if magic == LABELS_MAGIC:
        return "an IDX label file"
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    if magic >> 16 == 0 and code in _IDX_DTYPES:
        return f"an IDX file of {_IDX_DTYPES[code].name} values with {ndim} dimension(s)"
    return "not an IDX file"


def read_idx(path: str | os.PathLike, *, magic: int | None = None,
             max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) into a NumPy array, checking everything.

    Checks, each failing with a :class:`DataError` that names the file and
    what was expected: the file exists and is readable; the magic number
    (``magic`` if given, e.g. :data:`IMAGES_MAGIC`; otherwise any valid IDX
    header: two zero bytes, a known type byte, at least one dimension); the
    sizes declared in the header against the bytes actually present (too few
    = truncated, too many = not the file the header describes); and, for
    gzip, the integrity of the compressed stream (truncation, bad data, CRC).
    Nothing is allocated before the header is checked against the file's
    real size (a gzip file cannot hold more than 1032 times its size) and
    against ``max_bytes`` (default :data:`MAX_IDX_BYTES`, 1 GiB; Fashion-MNIST's
    largest file holds 47 MB), and gzip is never decompressed beyond what the
    header declares plus one byte, so a decompression bomb costs nothing.

    Returns an array of shape given by the header, ``uint8`` for MNIST
    (other IDX types are converted to native byte order). The array is
    writable and owns its data.

    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> write_idx(path, np.array([5, 0, 4], dtype=np.uint8))
    >>> read_idx(path)
    array([5, 0, 4], dtype=uint8)
    >>> read_idx(path, magic=IMAGES_MAGIC)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glassnet.data.errors.DataError: ...labels-idx1-ubyte: IDX magic number is 2049 (0x00000801, \
an IDX label file); expected 2051 (0x00000803, an IDX image file)
    """
    path = Path(path)
    fh = open_input(path, str(path), DataError, expected="an IDX file")
    with fh:
        file_size = os.fstat(fh.fileno()).st_size
        compressed = fh.read(2) == _GZIP_MAGIC
        fh.seek(0)
        try:
            if compressed:
                with gzip.GzipFile(fileobj=fh, mode="rb") as stream:
                    return _read_stream(stream, path, file_size, compressed, magic,
                                        max_bytes)
            return _read_stream(fh, path, file_size, compressed, magic, max_bytes)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise DataError(
                f"{path}: the gzip stream is truncated or corrupt ({exc}); "
                "delete the file and download it again"
            ) from None
        except OSError as exc:
            raise DataError(f"{path}: read error ({exc.strerror or exc})") from None


def _read_exactly(stream, n: int) -> bytes:
    data = b""
    while len(data) < n:
        piece = stream.read(n - len(data))
        if not piece:
            break
        data += piece
    return data


def _read_stream(stream, path: Path, file_size: int, compressed: bool,
                 magic: int | None, max_bytes: int) -> np.ndarray:
    kind = "decompressed data" if compressed else "file"
    head = _read_exactly(stream, 4)
    if len(head) < 4:
        raise DataError(
            f"{path}: the {kind} is only {len(head)} bytes long; an IDX file starts with a "
            "4-byte magic number (truncated or empty file?)"
        )
    found = int.from_bytes(head, "big")
    if magic is not None and found != magic:
        raise DataError(
            f"{path}: IDX magic number is {found} (0x{found:08X}, {_describe_magic(found)}); "
            f"expected {magic} (0x{magic:08X}, {_describe_magic(magic)})"
        )
    code, ndim = head[2], head[3]
    if head[:2] != b"\0\0" or code not in _IDX_DTYPES or ndim == 0:
        raise DataError(
            f"{path}: not an IDX file: magic number 0x{found:08X}; expected two zero bytes, "
            "a type byte (0x08 unsigned byte, 0x09, 0x0B, 0x0C, 0x0D, 0x0E) and a dimension "
            "count of at least 1, e.g. 0x00000803 for images or 0x00000801 for labels"
        )
    dtype = _IDX_DTYPES[code]
    dims_bytes = _read_exactly(stream, 4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(
            f"{path}: the header is truncated: it declares {ndim} dimensions "
            f"({4 * ndim} bytes of sizes) but the {kind} ends after {4 + len(dims_bytes)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", dims_bytes)
    header_size = 4 + 4 * ndim
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    declared = f"the header declares shape {shape} = {nbytes} bytes of data"

    if not compressed and file_size - header_size != nbytes:
        present = max(file_size - header_size, 0)
        what = "truncated file?" if present < nbytes else "extra bytes after the data"
        raise DataError(
            f"{path}: {declared}, but the file holds {present} bytes after its "
            f"{header_size}-byte header ({what})"
        )
    if compressed and nbytes > _MAX_DEFLATE_RATIO * file_size + 1024:
        raise DataError(
            f"{path}: {declared}, more than a {file_size}-byte gzip file can hold "
            "(corrupt header?)"
        )
    if nbytes > max_bytes:
        raise DataError(
            f"{path}: {declared}, more than the {max_bytes} bytes glassnet reads from one IDX "
            "file (read_idx(..., max_bytes=...) raises the limit)"
        )
    try:
        data = np.empty(count, dtype=dtype)
    except MemoryError:
        raise DataError(f"{path}: {declared}, more than fits in memory") from None

    # Fill the array in place: one copy from the (decompressed) stream, no bytes object.
    view = memoryview(data.view(np.uint8))
    chunk = _CHUNK if compressed else max(nbytes, 1)
    filled = 0
    while filled < nbytes:
        n = stream.readinto(view[filled:filled + chunk])
        if not n:
            break
        filled += n
    if filled < nbytes:
        raise DataError(
            f"{path}: {declared}, but the {kind} ends after {filled} of them (truncated file?)"
        )
    # one byte more, never the rest: a bomb's tail is not decompressed (for gzip, reaching
    # the end here also checks the CRC)
    if stream.read(1):
        raise DataError(
            f"{path}: {declared}, but the {kind} has more bytes after them "
            "(not the file the header describes)"
        )
    data = data.reshape(shape)
    if dtype.byteorder == ">":
        data = data.astype(dtype.newbyteorder("="))
    return data


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file; gzip-compressed when ``path`` ends in ``.gz``.

    Useful for test fixtures and for saving data in MNIST's format. The type
    byte follows the array's dtype (uint8 -> 0x08, int8, int16, int32,
    float32, float64); anything else is a :class:`DataError`.

    >>> import tempfile, os, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x-idx2-int")
    >>> write_idx(path, np.array([[1, -2], [300, 4]], dtype=np.int32))
    >>> read_idx(path).tolist()
    [[1, -2], [300, 4]]
    """
    array = np.asarray(array)
    matches = [(code, dt) for code, dt in _IDX_DTYPES.items()
               if array.dtype.kind == dt.kind and array.dtype.itemsize == dt.itemsize]
    if not matches:
        raise DataError(
            f"{path}: cannot write dtype {array.dtype} as IDX; expected uint8, int8, int16, "
            "int32, float32 or float64"
        )
    code, dt = matches[0]
    if array.ndim == 0 or array.ndim > 255:
        raise DataError(f"{path}: IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=dt).tobytes()
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:
        fh.write(header)
        fh.write(payload)
