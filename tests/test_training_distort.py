"""DistortionBank: shapes, seeded reproducibility, identity, and bilinear sampling vs SciPy."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.errors import GlassnetError, ShapeError
from glassnet.training.augment import DistortionBank, RandomShift, parse_augment

IDENTITY = dict(elastic=0.0, rotate=0.0, scale=0.0, shear=0.0, max_shift=0)


def images(n, shape=(28, 28), seed=0):
    return np.random.default_rng(seed).random((n, shape[0] * shape[1]), dtype=np.float32)


def test_bank_shapes():
    bank = DistortionBank((20, 24), n_fields=16, seed=0)
    assert bank.fields.shape == (16, 2, 20, 24)
    assert bank._base.shape == (16, 480) and bank._weights.shape == (16, 4, 480)
    # bilinear weights: non-negative, one per neighbour, summing to 1 at every pixel
    assert (bank._weights >= 0).all()
    np.testing.assert_allclose(bank._weights.sum(axis=1), 1.0, atol=1e-6)


def test_same_seed_same_bank_and_output():
    a, b = DistortionBank((28, 28), n_fields=32, seed=5), DistortionBank((28, 28), 32, seed=5)
    np.testing.assert_array_equal(a.fields, b.fields)
    assert not np.array_equal(a.fields, DistortionBank((28, 28), 32, seed=6).fields)
    x1, x2 = images(10), images(10)
    a(x1, np.random.default_rng(3))
    b(x2, np.random.default_rng(3))
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, images(10))  # it did change the images


def test_identity_field_is_the_identity():
    bank = DistortionBank((28, 28), n_fields=4, seed=0, **IDENTITY)
    assert not bank.fields.any()
    x = images(7)
    y = x.copy()
    bank(y, np.random.default_rng(0))
    np.testing.assert_array_equal(x, y)


def test_whole_pixel_shifts_equal_random_shift():
    bank = DistortionBank((9, 11), n_fields=1, seed=0, **{**IDENTITY, "max_shift": 2})
    x = images(30, (9, 11), seed=1)
    offsets = np.random.default_rng(2).integers(-2, 3, size=(30, 2))
    a, b = x.copy(), x.copy()
    bank.apply(a, np.zeros(30, np.int64), offsets)
    RandomShift(2, (9, 11)).apply(b, offsets)
    np.testing.assert_array_equal(a, b)


def test_bilinear_sampling_matches_scipy():
    """Each output pixel is the input read at (r + dy, c + dx), bilinear, zero outside."""
    ndimage = pytest.importorskip("scipy.ndimage")
    bank = DistortionBank((28, 28), n_fields=6, seed=4, elastic=2.0, rotate=15)
    x = images(6, seed=9)
    y = x.copy()
    bank.apply(y, np.arange(6))
    rr, cc = np.meshgrid(np.arange(28), np.arange(28), indexing="ij")
    for i in range(6):
        coords = np.stack([rr + bank.fields[i, 0], cc + bank.fields[i, 1]])
        expected = ndimage.map_coordinates(x[i].reshape(28, 28).astype(np.float64), coords,
                                           order=1, mode="grid-constant", cval=0.0)
        np.testing.assert_allclose(y[i].reshape(28, 28), expected, atol=2e-5)


def test_distortions_are_small_and_smooth():
    bank = DistortionBank((28, 28), n_fields=64, seed=0, rotate=0, scale=0, shear=0)
    rms = np.sqrt(np.mean(bank.fields ** 2))
    assert rms == pytest.approx(bank.settings["elastic"], rel=1e-6)
    # smooth: neighbouring pixels move alike (much less than the field itself varies)
    step = np.abs(np.diff(bank.fields, axis=-1)).mean()
    assert step < 0.25 * np.abs(bank.fields).mean()


def test_parse_augment_distort():
    bank = parse_augment("distort", (28, 28))
    assert isinstance(bank, DistortionBank) and bank.spec == "distort"
    with pytest.raises(GlassnetError, match="16x16"):
        parse_augment("distort", (8, 8))


@pytest.mark.parametrize("make, match", [
    (lambda: DistortionBank((28,), 4), "image_shape"),
    (lambda: DistortionBank((28, 28), 0), "n_fields"),
    (lambda: DistortionBank((28, 28), 4, elastic=-1), "elastic"),
    (lambda: DistortionBank((28, 28), 4).apply(np.zeros((2, 10), np.float32), [0, 0]), "784"),
    (lambda: DistortionBank((28, 28), 4).apply(images(2), [0, 4]), "field numbers"),
    (lambda: DistortionBank((28, 28), 4, max_shift=1).apply(images(2), [0, 1],
                                                              [[0, 2], [0, 0]]), "shifts"),
])
def test_bad_input(make, match):
    with pytest.raises((GlassnetError, ShapeError), match=match):
        make()


# ------------------------------------------------------------------ RandomFlip
def test_random_flip_mirrors_the_chosen_rows():
    from glassnet.training.augment import RandomFlip

    x = images(6, (5, 7), seed=3)
    mirror = np.array([True, False, True, True, False, False])
    y = x.copy()
    RandomFlip((5, 7)).apply(y, mirror)
    expected = x.reshape(6, 5, 7).copy()
    expected[mirror] = np.flip(expected[mirror], axis=2)
    np.testing.assert_array_equal(y, expected.reshape(6, 35))
    RandomFlip((5, 7)).apply(y, mirror)  # twice: back where it was
    np.testing.assert_array_equal(y, x)


def test_shift_plus_flip_spec_and_reproducibility():
    aug = parse_augment("shift:1+flip", (28, 28))
    assert aug.spec == "shift:1+flip"
    a, b = images(16), images(16)
    aug(a, np.random.default_rng(4))
    parse_augment("shift:1+flip", (28, 28))(b, np.random.default_rng(4))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(GlassnetError, match="flip"):
        parse_augment("distort+flip", (28, 28))
