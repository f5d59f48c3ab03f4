"""What ``glassnet predict`` takes: the features as the dataset stores them (one rule).

The rule (docs/training.md, "predict"): digits pixels 0..16, MNIST pixels
0..255, a ``--data`` file's columns as they are; the model applies its own
stored preprocessing. The same rows go into the exported ONNX graph and into
``Classifier.predict_proba(X, raw=True)``. Independent truths here: the raw
rows come from the source itself (scikit-learn's digits table, the MNIST IDX
file, the user's own array), the scaled rows are computed in this file
(``raw / 16``, ``raw / 255``, ``(raw - mean) / scale`` from model.json), and
onnxruntime runs the exported graph.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from cli_run import run  # noqa: E402
from shared_data import SHARED  # noqa: E402

from glassnet.cli import main  # noqa: E402
from glassnet.data import DataError, load_dataset, load_inputs  # noqa: E402
from glassnet.data.inputs import prescaled_warning  # noqa: E402
from glassnet.training import Classifier  # noqa: E402


def predict_json(model_dir, path, capsys):
    """(probabilities as an array, stderr) of ``glassnet predict --format json``."""
    code, out, err = run(["predict", model_dir, path, "--format", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    return np.array([[r["probabilities"][c] for c in doc["classes"]]
                     for r in doc["predictions"]]), err


def onnx_output(model_dir, raw, tmp_path, capsys):
    """onnxruntime's output of the exported graph on ``raw``; None without onnx."""
    try:
        import onnx  # noqa: F401
        import onnxruntime as ort
    except ImportError:
        return None
    out = tmp_path / "m.onnx"
    code, _, err = run(["export", model_dir, "--format", "onnx", "--out", out], capsys)
    assert code == 0, err
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    double = sess.get_inputs()[0].type == "tensor(double)"
    return sess.run(None, {"input": raw.astype(np.float64 if double else np.float32)})[0]


def check_one_rule(model_dir, raw, scaled, tmp_path, capsys):
    """predict on raw rows == onnxruntime on raw rows == the engine on the scaled rows."""
    path = tmp_path / "raw.csv"
    np.savetxt(path, raw, delimiter=",", fmt="%.17g")
    got, err = predict_json(model_dir, path, capsys)
    assert "warning" not in err
    clf = Classifier.load(model_dir)
    engine = clf.network.predict(scaled.astype(clf.network.dtype))
    if clf.task == "binary":
        engine = np.column_stack([1 - engine[:, 0], engine[:, 0]])
    # float32 sums may round by a last bit differently with the rows of a call (BLAS blocks)
    np.testing.assert_allclose(got, engine, rtol=0, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(raw, raw=True), got, rtol=0, atol=1e-6)
    onnx_out = onnx_output(model_dir, raw, tmp_path, capsys)
    if onnx_out is not None:
        np.testing.assert_allclose(onnx_out, got, rtol=0, atol=1e-5)
    return got


# ------------------------------------------------------------------ models
@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("predict_digits") / "m"
    assert main(["train", "--dataset", "digits", "--hidden", "24", "--epochs", "4", "--quiet",
                 "--out", str(d)]) == 0
    return d


@pytest.fixture(scope="module")
def mnist_like_model(tmp_path_factory):
    """A small 28x28 model stored as MNIST's ("pixel / 255"), trained on synthetic images."""
    rng = np.random.default_rng(3)
    raw, y = synthetic_images(rng, 300)
    clf = Classifier.build(784, ["left", "right", "both"], hidden=[16], seed=0,
                           image_shape=(28, 28), scaling="pixel / 255",
                           dataset={"name": "mnist", "classes": None})
    clf.fit(raw / np.float32(255), y, epochs=3, batch_size=32, validation_split=0,
            progress=False)
    d = tmp_path_factory.mktemp("predict_mnist_like") / "m"
    clf.save(d)
    return d


def synthetic_images(rng, n):
    """uint8 28x28 images, flattened: ink on the left, the right, or both halves."""
    y = rng.integers(0, 3, n)
    img = rng.integers(0, 40, (n, 28, 28))
    img[y != 1, 4:24, 3:12] += 200
    img[y != 0, 4:24, 16:25] += 200
    return np.clip(img, 0, 255).astype(np.uint8).reshape(n, 784), y


# ------------------------------------------------------------- the one rule
def test_digits_raw_pixels(digits_model, tmp_path, capsys):
    from sklearn.datasets import load_digits

    raw = load_digits().data[-60:]  # scikit-learn's own pixels, 0..16
    assert raw.max() == 16
    got = check_one_rule(digits_model, raw, raw.astype(np.float32) / np.float32(16),
                         tmp_path, capsys)
    assert got.shape == (60, 10)
    # the loader's scaled rows are the same network inputs: same answers
    test = load_dataset("digits", "test")
    clf = Classifier.load(digits_model)
    np.testing.assert_array_equal(clf.network_inputs(np.rint(test.X * 16), raw=True), test.X)


def test_digits_pair_raw_pixels_two_columns(tmp_path, capsys):
    model = tmp_path / "pair"
    assert main(["train", "--dataset", "digits", "--classes", "3,8", "--hidden", "8",
                 "--epochs", "3", "--quiet", "--out", str(model)]) == 0
    raw = np.rint(load_dataset("digits", "test", classes=[3, 8]).X * 16)
    got = check_one_rule(model, raw, raw / 16, tmp_path, capsys)
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-6)


def test_standardized_own_data_raw_columns(tmp_path, capsys):
    rng = np.random.default_rng(5)
    X = rng.normal([250.0, -3.0, 0.02], [40.0, 0.5, 0.01], size=(180, 3))
    y = (X[:, 0] > 250).astype(int) + (X[:, 2] > 0.02)
    np.savez(tmp_path / "own.npz", X=X, y=y)
    model = tmp_path / "own"
    code, _, err = run(["train", "--data", tmp_path / "own.npz", "--hidden", "8", "--epochs",
                        "3", "--quiet", "--out", model], capsys)
    assert code == 0, err
    pre = json.loads((model / "model.json").read_text())["preprocessing"]
    raw = X[:40].astype(np.float32)  # predict reads rows in the model's dtype, as ONNX does
    scaled = (raw.astype(np.float64) - np.array(pre["mean"])) / np.array(pre["scale"])
    check_one_rule(model, raw, scaled, tmp_path, capsys)


def test_mnist_like_raw_pixels(mnist_like_model, tmp_path, capsys):
    raw, y = synthetic_images(np.random.default_rng(11), 50)
    got = check_one_rule(mnist_like_model, raw, raw.astype(np.float32) / np.float32(255),
                         tmp_path, capsys)
    assert (got.argmax(axis=1) == y).mean() > 0.6  # it learned something from raw pixels


def test_real_mnist_raw_pixels_from_the_idx_file(tmp_path, capsys):
    data_dir = SHARED / "mnist"
    if not (data_dir / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST IDX files not found in {data_dir}")
    from glassnet.commands.train import scaling_for
    from glassnet.data.idx import IMAGES_MAGIC, read_idx

    train = load_dataset("mnist", "train", data_dir=data_dir, classes=[0, 1, 7])
    clf = Classifier.build(784, train.class_names, hidden=[32], seed=0,
                           image_shape=train.image_shape, scaling=scaling_for("mnist"),
                           dataset={"name": "mnist", "classes": [0, 1, 7]})
    clf.fit(train.X[:3000], train.y[:3000], epochs=2, batch_size=64, validation_split=0,
            progress=False)
    clf.save(tmp_path / "m")
    raw = read_idx(data_dir / "t10k-images-idx3-ubyte.gz",
                   magic=IMAGES_MAGIC)[:80].reshape(80, 784)  # the file's own bytes, 0..255
    np.save(tmp_path / "raw.npy", raw)
    got, err = predict_json(tmp_path / "m", tmp_path / "raw.npy", capsys)
    assert "warning" not in err
    check_one_rule(tmp_path / "m", raw, raw.astype(np.float32) / np.float32(255), tmp_path,
                   capsys)


def test_image_file_is_put_on_the_dataset_scale(mnist_like_model, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    from glassnet.data import load_image

    raw, _ = synthetic_images(np.random.default_rng(2), 1)
    mpimg.imsave(tmp_path / "d.png", raw.reshape(28, 28), cmap="gray", vmin=0, vmax=255)
    got, err = predict_json(mnist_like_model, tmp_path / "d.png", capsys)
    assert "warning" not in err
    net = Classifier.load(mnist_like_model).network
    np.testing.assert_allclose(got, net.predict(load_image(tmp_path / "d.png", (28, 28))
                                                .reshape(1, -1)), rtol=0, atol=1e-6)


# ----------------------------------------------------------- range messages
@pytest.mark.parametrize("top, expected", [
    (255, "digits pixels 0..16, as the dataset stores them (it divides them by 16 itself); "
          "for pixels 0..255 multiply by 16/255"),
    (17, "values run from 0 to 17; this model takes digits pixels 0..16"),
])
def test_digits_range_message_names_0_to_16(digits_model, tmp_path, capsys, top, expected):
    rows = np.zeros((2, 64))
    rows[1, 5] = top
    np.save(tmp_path / "r.npy", rows)
    code, out, err = run(["predict", digits_model, tmp_path / "r.npy"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert expected in err and "r.npy" in err


def test_negative_pixel_and_mnist_range(mnist_like_model, digits_model, tmp_path, capsys):
    rows = np.zeros((1, 64))
    rows[0, 0] = -1
    np.save(tmp_path / "neg.npy", rows)
    code, _, err = run(["predict", digits_model, tmp_path / "neg.npy"], capsys)
    assert code == 2 and "from -1 to 0; this model takes digits pixels 0..16" in err
    assert "multiply" not in err
    np.save(tmp_path / "big.npy", np.full((1, 784), 300.0))
    code, _, err = run(["predict", mnist_like_model, tmp_path / "big.npy"], capsys)
    assert code == 2 and "this model takes mnist pixels 0..255" in err and "0..16" not in err


def test_rows_scaled_already_are_warned_about(digits_model, tmp_path, capsys):
    from sklearn.datasets import load_digits

    raw = load_digits().data[:3]
    np.save(tmp_path / "s.npy", raw / 16)
    code, out, err = run(["predict", digits_model, tmp_path / "s.npy"], capsys)
    assert code == 0 and len(out.splitlines()) == 4
    assert err.startswith("glassnet: warning: ") and "already scaled to [0, 1]?" in err
    assert "digits pixels 0..16" in err and "multiply the rows by 16" in err
    # whole-number rows in 0..1 are raw pixels (a faint image), not a scaling mistake
    np.save(tmp_path / "w.npy", (raw > 8).astype(float))
    code, _, err = run(["predict", digits_model, tmp_path / "w.npy"], capsys)
    assert code == 0 and err == ""


def test_value_beyond_float32_is_named(digits_model, tmp_path, capsys):
    rows = np.zeros((2, 64))
    rows[1, 3] = 1e39
    np.save(tmp_path / "h.npy", rows)
    code, _, err = run(["predict", digits_model, tmp_path / "h.npy"], capsys)
    assert code == 2 and "inf" not in err
    assert "value 1e+39 in row 1, column 3 is beyond the range of the model's float32" in err


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 16), min_size=64, max_size=64),
       st.integers(0, 63), st.floats(16.001, 1e30))
def test_load_inputs_pixel_range_property(tmp_path_factory, row, column, bad):
    path = tmp_path_factory.mktemp("prop") / "r.npy"
    np.save(path, np.array([row], dtype=float))
    got = load_inputs(path, 64, (8, 8), pixel_max=16, dataset="digits")
    np.testing.assert_array_equal(got, [row])  # raw pixels pass unchanged
    assert prescaled_warning(path, got, 16, "digits") is None
    row[column] = bad
    np.save(path, np.array([row], dtype=float))
    with pytest.raises(DataError, match=r"this model takes digits pixels 0\.\.16"):
        load_inputs(path, 64, (8, 8), pixel_max=16, dataset="digits")


def test_help_states_the_rule(capsys):
    code, out, _ = run(["predict", "--help"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "scaled like the training data" not in text
    assert "raw pixels 0..16 for a digits model" in text and "ONNX" in text
    assert "--data" in text


def test_a_scaling_predict_cannot_apply_is_refused_at_load(digits_model, tmp_path, capsys):
    import shutil

    model = tmp_path / "odd"
    shutil.copytree(digits_model, model)
    doc = json.loads((model / "model.json").read_text())
    doc["preprocessing"]["scaling"] = "log"
    (model / "model.json").write_text(json.dumps(doc))
    np.save(tmp_path / "r.npy", np.zeros((1, 64)))
    code, out, err = run(["predict", model, tmp_path / "r.npy"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "preprocessing.scaling 'log'" in err and "'pixel / N'" in err


@pytest.mark.parametrize("module", ["glassnet.data.inputs", "glassnet.training.classifier"])
def test_docstring_examples_of_the_input_rule(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
