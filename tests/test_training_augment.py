"""Data augmentation: RandomShift against a by-hand reference, and fit's augment hook."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from glassnet import Network
from glassnet.errors import GlassnetError, ShapeError
from glassnet.training import Classifier, RandomShift, fit, parse_augment
from glassnet.training import augment as augment_module


def shifted_by_hand(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The definition, pixel by pixel: out[r, c] = image[r - dy, c - dx], or 0 outside."""
    rows, cols = image.shape
    out = np.zeros_like(image)
    for r in range(rows):
        for c in range(cols):
            if 0 <= r - dy < rows and 0 <= c - dx < cols:
                out[r, c] = image[r - dy, c - dx]
    return out


def find_marker(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(row, col) of the single nonzero pixel of each flattened image."""
    flat = x.reshape(x.shape[0], -1).argmax(axis=1)
    return np.stack(np.unravel_index(flat, shape), axis=1)


# ------------------------------------------------------------------ RandomShift
def test_hand_made_image_one_row_down_zero_fill():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 9)
    RandomShift(1, (3, 3)).apply(x, np.array([[1, 0]]))
    np.testing.assert_array_equal(x.reshape(3, 3), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 9)
    RandomShift(1, (3, 3)).apply(x, np.array([[-1, 1]]))  # up and right
    np.testing.assert_array_equal(x.reshape(3, 3), [[0, 4, 5], [0, 7, 8], [0, 0, 0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_offset_matches_the_pixel_by_pixel_definition(dtype):
    k, shape = 2, (5, 7)
    rng = np.random.default_rng(0)
    image = rng.random(shape).astype(dtype) + 1  # no zeros: zero fill is visible
    offsets = np.array([(dy, dx) for dy in range(-k, k + 1) for dx in range(-k, k + 1)])
    x = np.repeat(image.reshape(1, -1), len(offsets), axis=0)
    RandomShift(k, shape).apply(x, offsets)
    assert x.dtype == dtype
    for row, (dy, dx) in zip(x, offsets, strict=True):
        np.testing.assert_array_equal(row.reshape(shape), shifted_by_hand(image, dy, dx))


def test_zero_fill_not_wrap_around():
    image = np.zeros((4, 4), dtype=np.float32)
    image[:, 3] = 1.0  # ink in the right-most column
    x = image.reshape(1, 16).copy()
    RandomShift(1, (4, 4)).apply(x, np.array([[0, 1]]))  # one pixel to the right
    assert x.sum() == 0  # the ink left the picture; np.roll would have brought it back left
    x = image.reshape(1, 16).copy()
    RandomShift(1, (4, 4)).apply(x, np.array([[0, -1]]))
    np.testing.assert_array_equal(x.reshape(4, 4)[:, 2], 1)
    assert x.sum() == 4


def test_random_offsets_in_range_cover_it_and_follow_the_generator():
    k, shape, n = 2, (9, 9), 2000
    x = np.zeros((n, 81))
    x[:, 4 * 9 + 4] = 1.0  # a marker in the middle of every image
    RandomShift(k, shape)(x, np.random.default_rng(7))
    offsets = find_marker(x, shape) - 4
    assert np.abs(offsets).max() <= k
    assert x.sum() == n  # nothing lost: the marker never leaves a 9x9 image
    # the offsets are exactly the generator's draws: per-sample, not one per batch
    expected = np.random.default_rng(7).integers(-k, k + 1, size=(n, 2))
    np.testing.assert_array_equal(offsets, expected)
    # every one of the 25 offsets occurs, each about 1/25 of the time
    counts = np.zeros((2 * k + 1, 2 * k + 1), dtype=int)
    np.add.at(counts, (offsets[:, 0] + k, offsets[:, 1] + k), 1)
    assert counts.min() > 0.5 * n / 25 and counts.max() < 1.5 * n / 25


def test_samples_get_independent_offsets():
    k, shape, n = 1, (5, 5), 400
    x = np.zeros((n, 25))
    x[:, 12] = 1.0
    RandomShift(k, shape)(x, np.random.default_rng(3))
    off = find_marker(x, shape) - 2
    assert len({tuple(o) for o in off[:20]}) > 1  # not one offset for the whole batch
    # consecutive samples are uncorrelated, and dy is uncorrelated with dx
    assert abs(np.corrcoef(off[:-1, 0], off[1:, 0])[0, 1]) < 0.2
    assert abs(np.corrcoef(off[:, 0], off[:, 1])[0, 1]) < 0.2


def test_seeded_reproducibility_and_buffer_reuse():
    base = np.random.default_rng(0).random((10, 36))
    shift = RandomShift(2, (6, 6))
    a, b, c = base.copy(), base.copy(), base.copy()
    shift(a, np.random.default_rng(5))
    padded = shift._padded
    shift(b, np.random.default_rng(5))
    assert shift._padded is padded  # buffers are allocated once, then reused
    RandomShift(2, (6, 6))(c, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    small = base[:3].copy()  # a smaller last batch uses the same buffers
    shift(small, np.random.default_rng(5))
    assert shift._padded is padded
    np.testing.assert_array_equal(small, a[:3])  # same first three draws, same shifts


def test_max_shift_zero_leaves_images_alone():
    x = np.random.default_rng(0).random((4, 9))
    before = x.copy()
    RandomShift(0, (3, 3))(x, np.random.default_rng(0))
    np.testing.assert_array_equal(x, before)


def test_no_python_loop_over_samples():
    """The lines executed inside augment.py do not depend on the number of samples."""
    shift = RandomShift(2, (8, 8))

    def lines_run(n):
        x = np.random.default_rng(0).random((n, 64))
        shift(x, np.random.default_rng(0))  # warm the buffers up to size n
        count = 0

        def tracer(frame, event, arg):
            nonlocal count
            if frame.f_code.co_filename == augment_module.__file__:
                if event == "line":
                    count += 1
                return tracer
            return None

        sys.settrace(tracer)
        try:
            shift(x, np.random.default_rng(1))
        finally:
            sys.settrace(None)
        return count

    assert lines_run(2) == lines_run(300) > 0


@pytest.mark.parametrize("make, match", [
    (lambda: RandomShift(-1, (28, 28)), "max_shift"),
    (lambda: RandomShift(1.5, (28, 28)), "max_shift"),
    (lambda: RandomShift(3, (3, 8)), "out of view"),
    (lambda: RandomShift(1, (784,)), "image_shape"),
    (lambda: RandomShift(1, (3, 3)).apply(np.zeros((2, 10)), np.zeros((2, 2), int)), r"\(n, 9\)"),
    (lambda: RandomShift(1, (3, 3)).apply(np.zeros((2, 9)), np.full((2, 2), 2)), "-1..1"),
    (lambda: RandomShift(1, (3, 3)).apply(np.zeros((2, 9)), np.zeros((3, 2), int)), "offsets"),
    (lambda: RandomShift(1, (3, 3)).apply(np.zeros((9, 2)).T, np.zeros((2, 2), int)),
     "contiguous"),
])
def test_random_shift_bad_input(make, match):
    with pytest.raises((GlassnetError, ShapeError), match=match):
        make()


def test_parse_augment():
    shift = parse_augment("shift:2", (28, 28))
    assert isinstance(shift, RandomShift) and shift.max_shift == 2
    assert shift.image_shape == (28, 28) and shift.spec == "shift:2"
    assert parse_augment(" Shift:1 ", [8, 8]).spec == "shift:1"
    assert parse_augment("none", None) is None and parse_augment(None, None) is None


@pytest.mark.parametrize("spec, shape, match", [
    ("rotate:10", (28, 28), "unknown augmentation"),
    ("shift", (28, 28), "shift:N"),
    ("shift:", (28, 28), "shift:N"),
    ("shift:x", (28, 28), "shift:N"),
    ("shift:-1", (28, 28), "shift:N"),
    ("shift:2", None, "no image shape"),
    ("shift:8", (8, 8), "out of view"),
])
def test_parse_augment_errors(spec, shape, match):
    with pytest.raises(GlassnetError, match=match) as info:
        parse_augment(spec, shape)
    assert "--augment" in str(info.value)


# ---------------------------------------------------------------- fit's hook
def id_data(n=60, d=4, seed=0):
    """Rows whose first column is the row number: a batch says which rows it holds."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, 0] = np.arange(n)
    y = (X[:, 1] > 0).astype(int)
    return X, y


def small_net(d=4, seed=0):
    return Network([d, 5, 2], ["tanh", "softmax"], "cross_entropy", weights="glorot_uniform",
                   reduction="mean", dtype="float64", seed=seed)


class Recorder:
    """An augmentation that records what it was given and changes nothing."""

    def __init__(self):
        self.rows, self.sizes, self.rngs = [], [], []

    def __call__(self, x_batch, rng):
        self.rows.extend(x_batch[:, 0].astype(int).tolist())
        self.sizes.append(x_batch.shape[0])
        self.rngs.append(rng)


def test_augment_sees_every_training_batch_and_never_validation_rows():
    X, y = id_data()
    rec = Recorder()
    h = fit(small_net(), X, y, epochs=3, batch_size=16, validation_split=0.25, seed=2,
            augment=rec, progress=False)
    val = set(h.validation_indices.tolist())
    train = sorted(set(range(len(X))) - val)
    assert rec.sizes == [16, 16, 13] * 3  # 45 training rows: 2 full batches + 13
    assert sorted(rec.rows) == sorted(train * 3)  # each training row once per epoch
    assert not val & set(rec.rows)
    assert all(isinstance(r, np.random.Generator) for r in rec.rngs)
    assert len({id(r) for r in rec.rngs}) == 1  # one Generator for the run
    assert h.params["augment"] == repr(rec)


def test_identity_augment_changes_nothing_and_none_costs_nothing():
    """augment draws from its own Generator: shuffling and results are unchanged."""
    X, y = id_data()
    plain = fit(small_net(), X, y, epochs=3, batch_size=8, validation_split=0.2, seed=1,
                progress=False)

    def draw_and_keep(xb, rng):
        rng.random(xb.shape)  # consumes random numbers, changes nothing

    same = fit(small_net(), X, y, epochs=3, batch_size=8, validation_split=0.2, seed=1,
               augment=draw_and_keep, progress=False)
    assert plain["loss"] == same["loss"] and plain["val_loss"] == same["val_loss"]
    assert plain.params["augment"] is None


def test_returned_array_replaces_the_batch_and_validation_is_untouched():
    X, y = id_data()
    zeros = fit(small_net(), X, y, epochs=2, batch_size=10, validation_split=0.2, seed=0,
                augment=lambda xb, rng: np.zeros_like(xb), progress=False)
    # the same as training on all-zero inputs, validated on the real rows
    net = small_net()
    Xz = np.zeros_like(X)
    val = zeros.validation_indices
    Xz[val] = X[val]
    ref = fit(net, Xz, y, epochs=2, batch_size=10, validation_split=0.2, seed=0, progress=False)
    np.testing.assert_array_equal(ref.validation_indices, val)
    assert zeros["loss"] == ref["loss"] and zeros["val_loss"] == ref["val_loss"]


def test_validation_loss_is_computed_on_unaugmented_rows():
    X, y = id_data()
    Xv, yv = X[:20] + 0.5, y[:20]
    net = small_net()

    def scramble(xb, rng):
        xb += 100.0  # would ruin the validation loss if it were ever applied to it

    h = fit(net, X, y, epochs=1, batch_size=10, validation_data=(Xv, yv), augment=scramble,
            progress=False)
    out = net.forward(Xv)
    assert h["val_loss"][0] == pytest.approx(float(np.mean(-np.log(out[np.arange(20), yv]))))
    assert np.isfinite(h["val_loss"][0])


def test_random_shift_in_fit_is_seeded():
    rng = np.random.default_rng(0)
    X = rng.random((80, 16))
    y = (X[:, :8].sum(axis=1) > 4).astype(int)

    def run(seed):
        net = small_net(d=16)
        h = fit(net, X, y, epochs=2, batch_size=16, seed=seed, augment=RandomShift(1, (4, 4)),
                progress=False)
        return h["loss"], h.params["augment"]

    (a, spec), (b, _), (c, _) = run(0), run(0), run(1)
    assert a == b and a != c and spec == "shift:1"


@pytest.mark.parametrize("augment, error, match", [
    ("shift:1", GlassnetError, "callable"),
    (lambda xb, rng: xb[:1], ShapeError, "returned shape"),
])
def test_fit_bad_augment(augment, error, match):
    X, y = id_data()
    with pytest.raises(error, match=match):
        fit(small_net(), X, y, epochs=1, augment=augment, progress=False)


def test_classifier_records_augmentation_in_model_json(tmp_path):
    from glassnet.data import load_dataset

    train = load_dataset("digits", "train", classes=[0, 1])
    clf = Classifier.build(64, train.class_names, hidden=[8], image_shape=train.image_shape)
    h = clf.fit(train.X, train.y, epochs=2, augment="shift:1", progress=False)
    assert h.params["augment"] == "shift:1" and clf.training["augment"] == "shift:1"
    clf.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["training"]["augment"] == "shift:1"
    assert Classifier.load(tmp_path / "m").training["augment"] == "shift:1"
    plain = Classifier.build(64, train.class_names, hidden=[8])  # no image_shape
    with pytest.raises(GlassnetError, match="no image shape"):
        plain.fit(train.X, train.y, epochs=1, augment="shift:1", progress=False)
    plain.fit(train.X, train.y, epochs=1, augment="none", progress=False)
    assert plain.training["augment"] is None
