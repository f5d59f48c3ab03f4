"""load_inputs: the INPUT file of `glassnet predict` (.npy, .csv, images)."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet.data import DataError, load_inputs
from glassnet.data.inputs import resize_area


def test_npy_rows_and_single_row(tmp_path):
    rows = np.random.default_rng(0).random((4, 6))
    np.save(tmp_path / "x.npy", rows)
    out = load_inputs(tmp_path / "x.npy", 6)
    assert out.dtype == np.float32 and out.shape == (4, 6)
    np.testing.assert_array_equal(out, rows.astype(np.float32))
    np.save(tmp_path / "one.npy", rows[0])
    assert load_inputs(tmp_path / "one.npy", 6).shape == (1, 6)


def test_npy_images_are_flattened(tmp_path):
    imgs = np.random.default_rng(1).random((3, 8, 8))
    np.save(tmp_path / "imgs.npy", imgs)
    out = load_inputs(tmp_path / "imgs.npy", 64, image_shape=(8, 8))
    np.testing.assert_array_equal(out, imgs.reshape(3, 64).astype(np.float32))
    np.save(tmp_path / "img.npy", imgs[0])
    assert load_inputs(tmp_path / "img.npy", 64, image_shape=(8, 8)).shape == (1, 64)


def test_npy_refuses_pickles(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="obj.npy: not a plain numeric"):
        load_inputs(tmp_path / "obj.npy", 1)


def test_npy_not_numbers_or_not_npy(tmp_path):
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(DataError, match="expected numbers"):
        load_inputs(tmp_path / "s.npy", 2)
    (tmp_path / "junk.npy").write_bytes(b"definitely not numpy")
    with pytest.raises(DataError, match="junk.npy"):
        load_inputs(tmp_path / "junk.npy", 2)


def test_csv_with_and_without_header(tmp_path):
    (tmp_path / "h.csv").write_text("x1,x2,x3\n1,2,3\n\n4,5.5,-6e-1\n")
    (tmp_path / "n.csv").write_text("1,2,3\n4,5.5,-0.6\n")
    expected = np.array([[1, 2, 3], [4, 5.5, -0.6]], dtype=np.float32)
    np.testing.assert_array_equal(load_inputs(tmp_path / "h.csv", 3), expected)
    np.testing.assert_array_equal(load_inputs(tmp_path / "n.csv", 3), expected)


def test_csv_errors(tmp_path):
    (tmp_path / "ragged.csv").write_text("1,2,3\n4,5\n")
    with pytest.raises(DataError, match="ragged.csv, line 2: 2 numbers; the first row has 3"):
        load_inputs(tmp_path / "ragged.csv", 3)
    (tmp_path / "word.csv").write_text("1,2,3\n4,five,6\n")
    with pytest.raises(DataError, match="word.csv, line 2: expected comma-separated numbers"):
        load_inputs(tmp_path / "word.csv", 3)
    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="no rows"):
        load_inputs(tmp_path / "empty.csv", 2)


def test_wrong_width_names_both_numbers(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((2, 10)))
    with pytest.raises(DataError, match=r"rows have 10 numbers; the model expects 784 \(28x28"):
        load_inputs(tmp_path / "x.npy", 784, image_shape=(28, 28))
    with pytest.raises(DataError, match="expects 4$"):
        load_inputs(tmp_path / "x.npy", 4)
    np.save(tmp_path / "cube.npy", np.zeros((2, 3, 4)))
    with pytest.raises(DataError, match=r"shape \(2, 3, 4\)"):
        load_inputs(tmp_path / "cube.npy", 12)


def test_non_finite_values(tmp_path):
    (tmp_path / "nan.csv").write_text("1,2\n3,nan\n")
    with pytest.raises(DataError, match="value nan in row 1, column 1"):
        load_inputs(tmp_path / "nan.csv", 2)
    np.save(tmp_path / "inf.npy", np.array([[np.inf, 0]]))
    with pytest.raises(DataError, match="finite"):
        load_inputs(tmp_path / "inf.npy", 2)


def test_image_models_want_pixels_in_0_1(tmp_path):
    np.save(tmp_path / "raw.npy", np.full((1, 64), 200.0))
    with pytest.raises(DataError, match="divide by 255"):
        load_inputs(tmp_path / "raw.npy", 64, image_shape=(8, 8))
    assert load_inputs(tmp_path / "raw.npy", 64).max() == 200  # not an image model: any numbers


def test_missing_directory_and_unknown_type(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_inputs(tmp_path / "nope.csv", 2)
    with pytest.raises(DataError, match="is a directory"):
        load_inputs(tmp_path, 2)
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(DataError, match=r"unsupported input file type '\.json'; expected \.npy"):
        load_inputs(tmp_path / "x.json", 2)
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(DataError, match="not trained on images"):
        load_inputs(tmp_path / "x.png", 2)


# --- images ----------------------------------------------------------------------------------

def test_resize_area_exact_values():
    image = np.arange(16, dtype=float).reshape(4, 4)
    np.testing.assert_array_equal(resize_area(image, (2, 2)), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(resize_area(image, (4, 4)), image)
    # 3 -> 2: output cells cover 1.5 input cells each
    np.testing.assert_allclose(resize_area(np.array([[0.0, 3.0, 6.0]]), (1, 2)),
                               [[(0 * 1 + 3 * 0.5) / 1.5, (3 * 0.5 + 6 * 1) / 1.5]])
    big = np.random.default_rng(2).random((56, 84))
    assert resize_area(big, (28, 28)).mean() == pytest.approx(big.mean())
    np.testing.assert_array_equal(resize_area(np.array([[1.0, 0.0]]), (2, 4)),
                                  [[1, 1, 0, 0], [1, 1, 0, 0]])


def test_png_dark_ink_on_white_is_inverted_and_resized(tmp_path):
    mpl_image = pytest.importorskip("matplotlib.image")
    page = np.ones((56, 56, 3))  # white paper
    page[10:46, 26:30] = 0.0  # a black vertical stroke: a "1"
    mpl_image.imsave(tmp_path / "one.png", page)
    out = load_inputs(tmp_path / "one.png", 784, image_shape=(28, 28))
    assert out.shape == (1, 784) and out.dtype == np.float32
    img = out.reshape(28, 28)
    assert 0 <= img.min() and img.max() <= 1
    # inverted: the stroke is bright, the paper black, at the halved coordinates
    np.testing.assert_allclose(img[5:23, 13:15], 1.0, atol=1e-6)
    assert img[:5].max() < 1e-6 and img[:, :13].max() < 1e-6


def test_grayscale_light_ink_kept_and_alpha_over_white(tmp_path):
    mpl_image = pytest.importorskip("matplotlib.image")
    dark = np.zeros((16, 16))
    dark[4:12, 4:12] = 1.0
    mpl_image.imsave(tmp_path / "g.png", dark, cmap="gray", vmin=0, vmax=1)
    img = load_inputs(tmp_path / "g.png", 64, image_shape=(8, 8)).reshape(8, 8)
    expected = resize_area(dark, (8, 8))
    np.testing.assert_allclose(img, expected, atol=1 / 255)
    # transparent background with black ink: transparent counts as white paper
    rgba = np.zeros((16, 16, 4))
    rgba[4:12, 4:12, 3] = 1.0  # opaque black square, rest fully transparent
    mpl_image.imsave(tmp_path / "t.png", rgba)
    img2 = load_inputs(tmp_path / "t.png", 64, image_shape=(8, 8)).reshape(8, 8)
    np.testing.assert_allclose(img2, expected, atol=1 / 255)


def test_unreadable_image(tmp_path):
    pytest.importorskip("matplotlib.image")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match="bad.png: cannot read as an image"):
        load_inputs(tmp_path / "bad.png", 784, image_shape=(28, 28))


def test_image_without_matplotlib(tmp_path, monkeypatch):
    import sys

    (tmp_path / "x.png").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "matplotlib.image", None)  # import fails
    with pytest.raises(DataError, match=r"needs matplotlib: pip install 'glassnet\[plot\]'"):
        load_inputs(tmp_path / "x.png", 784, image_shape=(28, 28))
