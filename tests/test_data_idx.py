"""The IDX reader: round trips, every kind of damage, and the real MNIST files when present."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from shared_data import SHARED  # tests/shared_data.py

from glassnet.data import IMAGES_MAGIC, LABELS_MAGIC, DataError, read_idx, write_idx
from glassnet.errors import GlassnetError

needs_mnist = pytest.mark.skipif(
    not (SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file(),
    reason=f"MNIST IDX files not found in {SHARED / 'mnist'} (set GLASSNET_SHARED_DATA)",
)


def header(magic: int, *dims: int) -> bytes:
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)


@pytest.fixture
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(5, 4, 3), dtype=np.uint8)


# --- valid files -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["x-idx3-ubyte", "x-idx3-ubyte.gz"])
def test_round_trip_raw_and_gzip(tmp_path, images, name):
    path = tmp_path / name
    write_idx(path, images)
    # gzip is detected from the content: the .gz file really is compressed, the other is not
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    out = read_idx(path, magic=IMAGES_MAGIC)
    assert out.dtype == np.uint8 and out.shape == (5, 4, 3)
    np.testing.assert_array_equal(out, images)
    assert out.flags.writeable and out.flags.owndata is not None


def test_hand_written_bytes_are_read_as_documented(tmp_path):
    # An independent check of the format: header and data written byte by byte.
    path = tmp_path / "labels"
    path.write_bytes(header(0x00000801, 4) + bytes([7, 0, 255, 3]))
    np.testing.assert_array_equal(read_idx(path, magic=LABELS_MAGIC), [7, 0, 255, 3])
    path2 = tmp_path / "imgs"
    path2.write_bytes(header(0x00000803, 2, 1, 3) + bytes(range(6)))
    np.testing.assert_array_equal(read_idx(path2), [[[0, 1, 2]], [[3, 4, 5]]])


def test_gzip_detected_by_content_not_name(tmp_path, images):
    path = tmp_path / "compressed-but-no-suffix"
    with gzip.open(path, "wb") as fh:
        fh.write(header(IMAGES_MAGIC, 5, 4, 3) + images.tobytes())
    np.testing.assert_array_equal(read_idx(path), images)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_other_idx_types_round_trip_in_native_byte_order(tmp_path, dtype):
    a = (np.arange(-6, 6).reshape(3, 4) * 3).astype(dtype)
    path = tmp_path / "a.gz"
    write_idx(path, a)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


def test_big_endian_on_disk(tmp_path):
    path = tmp_path / "i2"
    write_idx(path, np.array([1, 258], dtype=np.int16))
    assert path.read_bytes()[4 + 4:] == b"\x00\x01\x01\x02"
    assert path.read_bytes()[:4] == b"\x00\x00\x0b\x01"


def test_zero_samples(tmp_path):
    path = tmp_path / "empty-idx1"
    path.write_bytes(header(LABELS_MAGIC, 0))
    assert read_idx(path).shape == (0,)


# --- damaged files ---------------------------------------------------------------------------

def assert_data_error(path, *fragments, magic=None):
    with pytest.raises(DataError) as info:
        read_idx(path, magic=magic)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_missing_file(tmp_path):
    assert_data_error(tmp_path / "nope.gz", "no such file")


def test_directory(tmp_path):
    assert_data_error(tmp_path, "is a directory")


def test_data_error_is_a_glassnet_error():
    assert issubclass(DataError, GlassnetError)


@pytest.mark.parametrize("gz", [False, True])
def test_wrong_magic_images_vs_labels(tmp_path, gz):
    path = tmp_path / ("labels.gz" if gz else "labels")
    write_idx(path, np.zeros(3, dtype=np.uint8))
    assert_data_error(path, "2049", "expected 2051", "label file", "image file",
                      magic=IMAGES_MAGIC)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, this is text and not an IDX file")
    assert_data_error(path, "not an IDX file")
    assert_data_error(path, "expected 2051", magic=IMAGES_MAGIC)


def test_unknown_type_byte_and_zero_dimensions(tmp_path):
    path = tmp_path / "bad-type"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00")
    assert_data_error(path, "not an IDX file", "0x00000701")
    path2 = tmp_path / "zero-dims"
    path2.write_bytes(bytes([0, 0, 0x08, 0]))
    assert_data_error(path2, "not an IDX file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert_data_error(path, "only 0 bytes")


def test_truncated_header(tmp_path):
    path = tmp_path / "short-header"
    path.write_bytes(header(IMAGES_MAGIC, 10, 28)[:10])  # 3 dims declared, not all sizes present
    assert_data_error(path, "header is truncated", "3 dimensions")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, images, gz):
    # the header says 5 images of 4x3 but only 59 of the 60 bytes follow
    raw = header(IMAGES_MAGIC, 5, 4, 3) + images.tobytes()[:-1]
    path = tmp_path / ("t.gz" if gz else "t")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    assert_data_error(path, "(5, 4, 3)", "60 bytes", "59", "truncated")


@pytest.mark.parametrize("gz", [False, True])
def test_extra_bytes_after_the_data(tmp_path, images, gz):
    raw = header(IMAGES_MAGIC, 5, 4, 3) + images.tobytes() + b"\x00\x01"
    path = tmp_path / ("x.gz" if gz else "x")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    assert_data_error(path, "(5, 4, 3)", "more bytes after them" if gz else "62 bytes")


def test_wrong_dims_label_count_in_header(tmp_path):
    # header declares 10 labels, only 4 present
    path = tmp_path / "labels"
    path.write_bytes(header(LABELS_MAGIC, 10) + bytes(4))
    assert_data_error(path, "(10,)", "4 bytes", "truncated")


def test_truncated_gzip_stream(tmp_path, images):
    full = gzip.compress(header(IMAGES_MAGIC, 5, 4, 3) + images.tobytes())
    for cut in (len(full) - 4, len(full) - 9, len(full) // 2, 12):
        path = tmp_path / f"cut{cut}.gz"
        path.write_bytes(full[:cut])
        with pytest.raises(DataError) as info:
            read_idx(path)
        assert str(path) in str(info.value)
        assert "truncated" in str(info.value)


def test_corrupt_gzip_stream_crc(tmp_path):
    data = header(IMAGES_MAGIC, 50, 4, 3) + bytes(600)
    blob = bytearray(gzip.compress(data))
    blob[-8] ^= 0xFF  # the CRC32 of the trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(blob))
    assert_data_error(path, "gzip stream is truncated or corrupt")


def test_corrupt_gzip_deflate_data(tmp_path):
    data = header(IMAGES_MAGIC, 50, 4, 3) + bytes(np.random.default_rng(1).integers(
        0, 256, 600, dtype=np.uint8))
    blob = bytearray(gzip.compress(data))
    for i in range(12, len(blob) - 8, 7):  # trash the compressed body
        blob[i] ^= 0x5A
    path = tmp_path / "garbled.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_absurd_declared_size_in_gzip_is_rejected_before_allocating(tmp_path):
    path = tmp_path / "huge.gz"
    path.write_bytes(gzip.compress(header(IMAGES_MAGIC, 4_000_000_000, 4000, 4000)))
    assert_data_error(path, "more than a", "corrupt header")


def test_write_idx_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(DataError, match="cannot write dtype bool"):
        write_idx(tmp_path / "b", np.array([True]))
    with pytest.raises(DataError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "s", np.uint8(3))


# --- the real files --------------------------------------------------------------------------

@needs_mnist
def test_real_mnist_test_labels_and_images():
    labels = read_idx(SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz", magic=LABELS_MAGIC)
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    # the first test digits, as every MNIST tutorial shows them
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                            1009]
    imgs = read_idx(SHARED / "mnist" / "t10k-images-idx3-ubyte.gz", magic=IMAGES_MAGIC)
    assert imgs.shape == (10000, 28, 28) and imgs.dtype == np.uint8
    assert imgs.min() == 0 and imgs.max() == 255
    # independent decoding as in the data README
    with gzip.open(SHARED / "mnist" / "t10k-images-idx3-ubyte.gz") as fh:
        ref = np.frombuffer(fh.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    np.testing.assert_array_equal(imgs, ref)


@needs_mnist
def test_real_mnist_train_label_counts():
    labels = read_idx(SHARED / "mnist" / "train-labels-idx1-ubyte.gz", magic=LABELS_MAGIC)
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                            5851, 5949]
    assert labels[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]


@needs_mnist
def test_real_file_truncated_copy(tmp_path):
    blob = (SHARED / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(blob[: len(blob) // 2])
    assert_data_error(path, "truncated")
