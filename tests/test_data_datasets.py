"""load_dataset: scikit-learn's digits (always), MNIST / Fashion-MNIST (when the files exist)."""

from __future__ import annotations

import gzip
import urllib.parse

import numpy as np
import pytest
from shared_data import SHARED  # tests/shared_data.py

from glassnet.data import DATASETS, DataError, Dataset, load_dataset, write_idx
from glassnet.data import datasets as ds_module
from glassnet.data import sources as src


def needs(name, *files):
    folder = SHARED / name
    return pytest.mark.skipif(
        not all((folder / f).is_file() for f in files),
        reason=f"{name} IDX files not found in {folder} (set GLASSNET_SHARED_DATA)",
    )


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """No test here downloads: cache in tmp_path, mirror on a closed local port."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("GLASSNET_MIRROR", "http://127.0.0.1:9/{name}/")

    def refuse(url, timeout):
        assert urllib.parse.urlsplit(url).hostname == "127.0.0.1", f"tried to reach {url}"
        raise OSError("downloads are off in these tests")

    monkeypatch.setattr(src, "_open_url", refuse)


# --- digits ----------------------------------------------------------------------------------

def test_digits_split_is_disjoint_complete_stratified_and_scaled():
    train = load_dataset("digits", "train")
    test = load_dataset("digits", "test")
    for ds in (train, test):
        assert isinstance(ds, Dataset) and ds.name == "digits"
        assert ds.X.dtype == np.float32 and ds.y.dtype == np.int64
        assert ds.X.shape[1] == 64 and ds.image_shape == (8, 8)
        assert ds.X.min() == 0.0 and ds.X.max() == 1.0
        np.testing.assert_array_equal(ds.X * 16, np.round(ds.X * 16))  # k/16 exactly
        assert ds.class_names == [str(d) for d in range(10)]
    assert (train.split, test.split) == ("train", "test")
    assert train.n_samples + test.n_samples == 1797
    # per class: round(25 %) of each class in test
    total = np.bincount(train.y, minlength=10) + np.bincount(test.y, minlength=10)
    np.testing.assert_array_equal(np.bincount(test.y), np.floor(total * 0.25 + 0.5))


def test_digits_are_sklearns_digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    train = load_dataset("digits", "train", dtype="float64")
    test = load_dataset("digits", "test", dtype="float64")
    ours = np.concatenate([np.column_stack([train.X * 16, train.y]),
                           np.column_stack([test.X * 16, test.y])])
    theirs = np.column_stack([bunch.data, bunch.target])
    # the same multiset of (pixels, label) rows: nothing lost, nothing duplicated
    np.testing.assert_array_equal(np.unique(ours, axis=0, return_counts=True)[1],
                                  np.unique(theirs, axis=0, return_counts=True)[1])
    np.testing.assert_array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))


def test_digits_fallback_to_sklearn_gives_identical_arrays(monkeypatch):
    fast = ds_module._digits_arrays()
    ds_module._digits_arrays.cache_clear()
    monkeypatch.setattr(ds_module, "_read_digits_csv", lambda: None)
    try:
        slow = ds_module._digits_arrays()
    finally:
        ds_module._digits_arrays.cache_clear()
    np.testing.assert_array_equal(fast[0], slow[0])
    np.testing.assert_array_equal(fast[1], slow[1])


def test_digits_split_is_stable():
    a = load_dataset("digits", "test")
    b = load_dataset("digits", "test")
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    # Pinned on purpose: models are compared on this test set, so it must never change
    # silently (seed DIGITS_SPLIT_SEED = 0, fraction 0.25). Update only with a changelog entry.
    assert (ds_module.DIGITS_SPLIT_SEED, ds_module.DIGITS_TEST_FRACTION) == (0, 0.25)
    assert a.n_samples == 451
    assert np.bincount(a.y).tolist() == [45, 46, 44, 46, 45, 46, 45, 45, 44, 45]


def test_digits_classes_and_dtype():
    ds = load_dataset("digits", "train", classes=[6, 5], dtype="float64")
    assert ds.X.dtype == np.float64
    assert ds.class_names == ["6", "5"] and sorted(set(ds.y.tolist())) == [0, 1]
    full = load_dataset("digits", "train", dtype="float64")
    np.testing.assert_array_equal(ds.X, full.X[(full.y == 5) | (full.y == 6)])
    np.testing.assert_array_equal(ds.y, np.where(full.y[(full.y == 5) | (full.y == 6)] == 6,
                                                 0, 1))
    same = load_dataset("digits", "train", classes=["6", "5"], dtype=np.float64)
    np.testing.assert_array_equal(same.y, ds.y)
    assert load_dataset("digits", classes="3,8").class_names == ["3", "8"]


def test_subset():
    ds = load_dataset("digits", "test", classes=[1, 7])
    part = ds.subset([0, 2, 5])
    np.testing.assert_array_equal(part.X, ds.X[[0, 2, 5]])
    np.testing.assert_array_equal(part.y, ds.y[[0, 2, 5]])
    assert part.class_names == ["1", "7"] and part.image_shape == (8, 8)
    part.X[0, 0] = 99  # a copy
    assert ds.X[0, 0] != 99
    assert ds.subset(ds.y == 1).n_samples == int(np.sum(ds.y == 1))
    with pytest.raises(DataError, match="out of bounds"):
        ds.subset([10_000])
    with pytest.raises(DataError, match="integers or booleans"):
        ds.subset([0.5])


def test_repr_is_short():
    text = repr(load_dataset("digits", "test"))
    assert text.startswith("Dataset(name='digits', split='test', X=float32(451, 64)")
    assert len(text) < 300


@pytest.mark.parametrize("kwargs, fragments", [
    ({"name": "mnsit"}, ["unknown dataset 'mnsit'", "did you mean 'mnist'", "digits"]),
    ({"name": "digits", "split": "valid"}, ["unknown split 'valid'", "'train' or 'test'"]),
    ({"name": "digits", "dtype": "float16"}, ["float32", "float16"]),
    ({"name": "digits", "classes": [3, 12, 10]}, ["12, 10", "available classes: 0, 1"]),
    ({"name": "digits", "classes": [3, 3]}, ["more than once: 3"]),
    ({"name": "digits", "classes": ["three"]}, ["'three'", "expected a label 0..9"]),
    ({"name": "digits", "classes": [True]}, ["True"]),
])
def test_load_dataset_errors(kwargs, fragments):
    with pytest.raises(DataError) as info:
        load_dataset(**kwargs)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_datasets_names():
    assert DATASETS == ("digits", "mnist", "fashion-mnist")


# --- MNIST-shaped files that are wrong -------------------------------------------------------

def test_images_and_labels_disagree(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError, match="4 images but .* 3 labels"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_images_of_the_wrong_size(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((2, 8, 8), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(2, dtype=np.uint8))
    with pytest.raises(DataError, match="8x8; expected 28x28"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_label_out_of_range(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((3, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1, 12, 3], dtype=np.uint8))
    with pytest.raises(DataError, match="label 12 at position 1; expected labels 0..9"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_swapped_files_give_a_magic_error(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros(3, dtype=np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros((3, 28, 28), dtype=np.uint8))
    with pytest.raises(DataError, match="expected 2051"):
        load_dataset("mnist", "test", data_dir=tmp_path)


def test_synthetic_mnist_is_scaled_by_255(tmp_path):
    pixels = np.array([[[0] * 27 + [255]] * 28, [[51] * 28] * 28], dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.bin", pixels)  # not a name we look for
    write_idx(tmp_path / "t10k-images-idx3-ubyte", pixels)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([9, 4], dtype=np.uint8))
    ds = load_dataset("mnist", "test", data_dir=tmp_path, classes=[4, 9])
    assert ds.y.tolist() == [1, 0] and ds.class_names == ["4", "9"]
    np.testing.assert_array_equal(ds.X[0].reshape(28, 28), pixels[0] / np.float32(255))
    assert ds.X[1, 0] == np.float32(0.2) and ds.X[0, 27] == 1.0 and ds.X[0, 0] == 0.0


# --- the real files --------------------------------------------------------------------------

MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@needs("mnist", *MNIST_FILES)
def test_mnist_train_from_data_dir():
    ds = load_dataset("mnist", "train", data_dir=SHARED / "mnist")
    assert ds.X.shape == (60000, 784) and ds.X.dtype == np.float32 and ds.X.flags.c_contiguous
    assert ds.image_shape == (28, 28)
    assert np.bincount(ds.y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                          5851, 5949]
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    # compare a few hundred images with an independent decoding (the README's recipe)
    with gzip.open(SHARED / "mnist" / "train-images-idx3-ubyte.gz") as fh:
        raw = np.frombuffer(fh.read(16 + 300 * 784), np.uint8, offset=16).reshape(300, 784)
    np.testing.assert_array_equal(ds.X[:300], raw.astype(np.float32) / np.float32(255))


@needs("mnist", *MNIST_FILES)
def test_mnist_pair_via_glassnet_data_env(monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(SHARED))
    ds = load_dataset("mnist", "test", classes=[5, 6])
    assert ds.class_names == ["5", "6"]
    assert np.bincount(ds.y).tolist() == [892, 958]  # 6 is the positive class, label 1


@needs("fashion-mnist", *MNIST_FILES)
def test_fashion_mnist_test_split_and_names():
    ds = load_dataset("fashion-mnist", "test", data_dir=SHARED / "fashion-mnist")
    assert ds.class_names == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                              "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert np.bincount(ds.y).tolist() == [1000] * 10
    assert ds.X.shape == (10000, 784) and 0 <= ds.X.min() and ds.X.max() == 1.0
    shoes = load_dataset("fashion-mnist", "test", data_dir=SHARED / "fashion-mnist",
                         classes=["sandal", "Sneaker", 9])
    assert shoes.class_names == ["Sandal", "Sneaker", "Ankle boot"]
    np.testing.assert_array_equal(shoes.X, ds.X[np.isin(ds.y, [5, 7, 9])])
    with pytest.raises(DataError, match="Ankle boot"):
        load_dataset("fashion-mnist", "test", data_dir=SHARED / "fashion-mnist",
                     classes=["boots"])


def test_importing_glassnet_data_stays_light():
    import subprocess
    import sys

    code = ("import sys, glassnet.data; heavy = ['sklearn', 'tqdm', 'matplotlib', "
            "'urllib.request', 'http.client']; print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
