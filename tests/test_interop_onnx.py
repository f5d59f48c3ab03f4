"""ONNX export: onnxruntime's output equals ``glassnet predict``'s, both fed the same raw rows.

Raw rows are the features as the dataset stores them (digits pixels 0..16,
Fashion-MNIST pixels 0..255, a ``--data`` file's columns): what both take.

Models are trained here, briefly (the numbers need not be good, only equal):
the 8x8 digits through ``glassnet train`` (no download), and a small
Fashion-MNIST model on a few thousand rows of the shared IDX files (skipped,
with the reason, when they are absent).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="onnx not installed: pip install 'glassnet[onnx]'")
ort = pytest.importorskip("onnxruntime",
                          reason="onnxruntime not installed: pip install 'glassnet[onnx]'")

sys.path.insert(0, str(Path(__file__).parent))
from cli_run import run  # noqa: E402
from shared_data import SHARED  # noqa: E402

from glassnet import Network  # noqa: E402
from glassnet.cli import main  # noqa: E402
from glassnet.data import load_dataset  # noqa: E402
from glassnet.errors import GlassnetError  # noqa: E402
from glassnet.interop import to_onnx  # noqa: E402
from glassnet.training import Classifier  # noqa: E402


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _predict_json(model_dir, rows, tmp_path, capsys):
    """glassnet predict's probabilities for ``rows`` (raw features), through the CLI."""
    path = tmp_path / "rows.npy"
    np.save(path, rows)
    code, out, err = run(["predict", model_dir, path, "--format", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    return np.array([[p[c] for c in doc["classes"]] for p in
                     (r["probabilities"] for r in doc["predictions"])])


def _export(model_dir, out, capsys):
    code, stdout, err = run(["export", model_dir, "--format", "onnx", "--out", out], capsys)
    assert code == 0, err
    assert f"wrote {out}" in stdout
    return stdout


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx_digits") / "model"
    assert main(["train", "--dataset", "digits", "--epochs", "3", "--quiet", "--out",
                 str(d)]) == 0
    return d


@pytest.fixture(scope="module")
def digits_test():
    ds = load_dataset("digits", "test")
    return ds.X, np.rint(ds.X * 16).astype(np.float32)  # scaled rows, raw pixels 0..16


def test_digits_onnx_equals_predict(digits_dir, digits_test, tmp_path, capsys):
    X, raw = digits_test
    out = tmp_path / "digits.onnx"
    stdout = _export(digits_dir, out, capsys)
    assert "raw values divided by 16 (pixel / 16)" in stdout
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto, full_check=True)
    net = Classifier.load(digits_dir).network
    ops = [n.op_type for n in proto.graph.node]
    assert ops[0] == "Div" and ops[1::2] == ["Gemm"] * len(net.layers)
    assert ops[2::2] == [{"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid",
                          "leaky_relu": "LeakyRelu", "softmax": "Softmax"}[layer.activation.name]
                         for layer in net.layers]
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta["class_names"]) == [str(d) for d in range(10)]
    assert "divided by 16" in meta["input_scaling"]
    got = _session(out).run(None, {"input": raw})[0]
    want = _predict_json(digits_dir, raw, tmp_path, capsys)
    assert got.shape == want.shape == (len(X), 10)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    # and both are the engine's forward pass on the scaled rows load_dataset gives
    np.testing.assert_allclose(want, net.predict(X), rtol=0, atol=1e-6)
    # the exported weights are glassnet's, bit for bit
    W1 = onnx.numpy_helper.to_array(next(i for i in proto.graph.initializer if i.name == "W1"))
    assert np.array_equal(W1, net.layers[0].W)


def test_binary_pair_onnx_gives_both_columns(tmp_path, capsys):
    model = tmp_path / "pair"
    assert main(["train", "--dataset", "digits", "--classes", "5,6", "--epochs", "3",
                 "--hidden", "16", "--activation", "tanh", "--quiet", "--out", str(model)]) == 0
    ds = load_dataset("digits", "test", classes=[5, 6])
    out = tmp_path / "pair.onnx"
    _export(model, out, capsys)
    raw = np.rint(ds.X * 16).astype(np.float32)
    got = _session(out).run(None, {"input": raw})[0]
    want = _predict_json(model, raw, tmp_path, capsys)
    assert got.shape == (len(ds.X), 2)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)


def test_float64_model_exports_in_double(tmp_path, capsys):
    model = tmp_path / "m64"
    assert main(["train", "--dataset", "digits", "--epochs", "2", "--hidden", "12",
                 "--activation", "leaky_relu", "--dtype", "float64", "--quiet", "--out",
                 str(model)]) == 0
    out = tmp_path / "m64.onnx"
    _export(model, out, capsys)
    sess = _session(out)
    assert sess.get_inputs()[0].type == "tensor(double)"
    ds = load_dataset("digits", "test", dtype="float64")
    raw = np.rint(ds.X * 16)
    got = sess.run(None, {"input": raw})[0]
    clf = Classifier.load(model)
    np.testing.assert_allclose(got, clf.predict_proba(raw, raw=True), rtol=0, atol=1e-9)
    np.testing.assert_allclose(got, clf.predict_proba(ds.X), rtol=0, atol=1e-9)


def test_fashion_mnist_onnx_equals_predict(tmp_path, capsys):
    data_dir = SHARED / "fashion-mnist"
    if not (data_dir / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"Fashion-MNIST IDX files not found in {data_dir}")
    from glassnet.commands.train import scaling_for

    train = load_dataset("fashion-mnist", "train", data_dir=data_dir)
    clf = Classifier.build(train.n_features, train.class_names, hidden=[48], seed=0,
                           image_shape=train.image_shape, scaling=scaling_for("fashion-mnist"),
                           dataset={"name": "fashion-mnist", "classes": None})
    clf.fit(train.X[:3000], train.y[:3000], epochs=2, batch_size=64, validation_split=0,
            progress=False)
    model = tmp_path / "fashion"
    clf.save(model)
    test = load_dataset("fashion-mnist", "test", data_dir=data_dir)
    X = test.X[:400]
    out = tmp_path / "fashion.onnx"
    stdout = _export(model, out, capsys)
    assert "divided by 255 (pixel / 255)" in stdout and "p(Ankle boot)" in stdout
    raw = np.rint(X * 255).astype(np.float32)
    got = _session(out).run(None, {"input": raw})[0]
    want = _predict_json(model, raw, tmp_path, capsys)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    assert (got.argmax(axis=1) == test.y[:400]).mean() > 0.5  # it did learn something


def test_standardized_own_data_model_equals_predict(tmp_path, capsys):
    """A model trained with --data standardizes its features: the graph does it too."""
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[100.0, -3.0, 0.0, 5e3], scale=[10.0, 0.1, 1.0, 200.0], size=(240, 4))
    y = (X[:, 0] / 10 + X[:, 1] * 10 > -20).astype(np.int64) + (X[:, 3] > 5e3)
    data = tmp_path / "own.npz"
    np.savez(data, X=X, y=y)
    model = tmp_path / "own"
    code, _, err = run(["train", "--data", data, "--epochs", "3", "--hidden", "8", "--quiet",
                        "--out", model], capsys)
    if code != 0 and "--data" in err:
        pytest.skip(f"glassnet train --data is not available here: {err.strip()}")
    assert code == 0, err
    out = tmp_path / "own.onnx"
    stdout = _export(model, out, capsys)
    assert "standardized" in stdout
    rows = X[:50].astype(np.float32)
    assert [n.op_type for n in onnx.load(str(out)).graph.node][:4] == ["Cast", "Sub", "Div",
                                                                      "Cast"]
    got = _session(out).run(None, {"input": rows})[0]
    want = _predict_json(model, rows, tmp_path, capsys)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_bare_network_has_no_scaling_and_keeps_outputs():
    net = Network([3, 4, 2], ["sigmoid", "linear"], "mse", dtype="float32", seed=0)
    proto = to_onnx(net)
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Sigmoid", "Gemm", "Identity"]
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"input": x})[0], net.predict(x), atol=1e-6)


# ---------------------------------------------------------------- bad input
def test_export_of_a_folder_that_is_not_a_model(tmp_path, capsys):
    (tmp_path / "notamodel").mkdir()
    code, out, err = run(["export", tmp_path / "notamodel", "--format", "onnx", "--out",
                          tmp_path / "x.onnx"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "missing model.json" in err and "Traceback" not in err
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.parametrize("bad, expected", [
    ("missing/x.onnx", "missing does not exist"),
    ("afile/x.onnx", "afile does not exist"),
    ("adir", "is a directory"),
])
def test_unwritable_out_fails_before_any_work(bad, expected, tmp_path, capsys):
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "adir").mkdir()
    # the model does not even exist: --out is checked first, so its error comes first
    code, out, err = run(["export", tmp_path / "nomodel", "--format", "onnx", "--out",
                          tmp_path / bad], capsys)
    assert code == 2 and out == ""
    assert err.startswith("glassnet: error: --out") and expected in err
    assert err.count("\n") == 1


def test_read_only_folder_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import os

    # the tests may run as root, for whom chmod does not make a folder read-only: ask
    # os.access's opinion instead, which is what the check consults
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p) == str(tmp_path)
                        else real_access(p, mode, **kw))
    code, out, err = run(["export", tmp_path / "nomodel", "--format", "onnx", "--out",
                          tmp_path / "x.onnx"], capsys)
    assert code == 2 and "not writable" in err and err.count("\n") == 1


def test_failed_write_leaves_no_file_and_old_file_intact(digits_dir, tmp_path, capsys,
                                                         monkeypatch):
    out = tmp_path / "m.onnx"
    out.write_bytes(b"old")
    import glassnet.interop.common as common

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(common.os, "fsync", broken_fsync)
    code, _, err = run(["export", digits_dir, "--format", "onnx", "--out", out], capsys)
    assert code == 2 and "No space left on device" in err and err.count("\n") == 1
    assert out.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # no temporary file left


def test_unsupported_scaling_and_activation_are_refused():
    net = Network([2, 1], "sigmoid", "binary_cross_entropy")
    with pytest.raises(GlassnetError, match="input scaling 'standardize' is not supported"):
        to_onnx(net, scaling="standardize")
    from glassnet.activations import Activation

    class Swish(Activation):
        name = "swish"

    with pytest.raises(GlassnetError, match="layer 1: activation 'swish' has no ONNX"):
        to_onnx(Network([2, 2, 1], [Swish(), "linear"], "mse"))
    with pytest.raises(GlassnetError, match="opset"):
        to_onnx(net, opset=7)


def test_missing_onnx_names_the_extra(digits_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes "import onnx" fail
    code, _, err = run(["export", digits_dir, "--format", "onnx", "--out",
                        tmp_path / "x.onnx"], capsys)
    assert code == 2 and "pip install 'glassnet[onnx]'" in err
