"""A few hundred real MNIST images through fit, Classifier, save/load (skipped without the data)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest

from glassnet.training import Classifier


def mnist_dir() -> Path | None:
    env = os.environ.get("GLASSNET_DATA")
    candidates = [Path(env) / "mnist"] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist")
    for d in candidates:
        if (d / "train-labels-idx1-ubyte.gz").exists() or (d / "train-labels-idx1-ubyte").exists():
            return d
    return None


DATA = mnist_dir()
pytestmark = pytest.mark.skipif(
    DATA is None, reason="MNIST IDX files not found in $GLASSNET_DATA/mnist or "
                         "../shared/data/mnist (relative to the repository)")


@functools.lru_cache(maxsize=4)
def load(split, classes):
    from glassnet.data import load_dataset

    return load_dataset("mnist", split, data_dir=DATA, classes=classes, download=False,
                        progress=False)


def sample(split, n, classes=None, seed=0):
    ds = load(split, None if classes is None else tuple(classes))
    idx = np.random.default_rng(seed).choice(ds.n_samples, n, replace=False)
    return ds, ds.X[idx], ds.y[idx]


@pytest.mark.slow
def test_ten_classes_from_600_images(tmp_path):
    ds, X, y = sample("train", 600)
    _, Xt, yt = sample("test", 500)
    clf = Classifier.build(784, ds.class_names, hidden=[64], seed=0, image_shape=[28, 28])
    h = clf.fit(X, y, epochs=15, batch_size=32, progress=False)
    assert h["val_loss"][h.best_epoch] == min(h["val_loss"])
    m = clf.evaluate(Xt, yt)
    assert m["accuracy"] > 0.80  # chance is 0.10; 600 images give about 0.85-0.9
    clf.save(tmp_path / "m")
    back = Classifier.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(Xt), clf.predict(Xt))


def test_five_versus_six_from_400_images():
    ds, X, y = sample("train", 400, classes=[5, 6])
    _, Xt, yt = sample("test", 400, classes=[5, 6])
    assert ds.class_names == ["5", "6"]
    clf = Classifier.build(784, ds.class_names, hidden=[32], seed=0)
    clf.fit(X, y, epochs=15, batch_size=32, progress=False)
    m = clf.evaluate(Xt, yt)
    assert m["accuracy"] > 0.95 and m["average"] == "binary"


def test_random_shift_on_real_digits_keeps_the_ink_and_trains():
    """MNIST digits sit inside a blank margin: a 2-pixel shift moves ink, it hardly loses any."""
    from glassnet.training import RandomShift

    ds, X, y = sample("train", 400, classes=[5, 6])
    shifted = X.copy()
    RandomShift(2, (28, 28))(shifted, np.random.default_rng(0))
    moved = np.mean(np.any(shifted != X, axis=1))
    kept = shifted.sum(axis=1) / X.sum(axis=1)
    assert moved > 0.9  # 1 in 25 offsets is (0, 0)
    assert kept.min() > 0.9 and np.median(kept) == 1.0
    _, Xt, yt = sample("test", 400, classes=[5, 6])
    clf = Classifier.build(784, ds.class_names, hidden=[32], seed=0, image_shape=[28, 28])
    h = clf.fit(X, y, epochs=15, batch_size=32, augment="shift:2", progress=False)
    assert h.params["augment"] == "shift:2" and clf.training["augment"] == "shift:2"
    assert clf.evaluate(Xt, yt)["accuracy"] > 0.95
