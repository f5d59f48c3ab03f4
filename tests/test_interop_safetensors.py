"""safetensors and PyTorch files from ``glassnet export``, read back by their own libraries."""

from __future__ import annotations

import doctest
import importlib
import json

import numpy as np
import pytest

pytest.importorskip("safetensors",
                    reason="safetensors not installed: pip install 'glassnet[safetensors]'")
from cli_run import run  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

from glassnet import Network  # noqa: E402
from glassnet.cli import main  # noqa: E402
from glassnet.data import load_dataset  # noqa: E402
from glassnet.errors import GlassnetError  # noqa: E402
from glassnet.interop import read_safetensors, safetensors_bytes  # noqa: E402
from glassnet.training import Classifier  # noqa: E402


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("st_pair") / "model"
    assert main(["train", "--dataset", "digits", "--classes", "3,8", "--epochs", "2",
                 "--hidden", "12,6", "--activation", "tanh", "--quiet", "--out", str(d)]) == 0
    return d


def test_export_safetensors_weights_and_metadata(pair_dir, tmp_path, capsys):
    out = tmp_path / "pair.safetensors"
    code, stdout, err = run(["export", pair_dir, "--format", "safetensors", "--out", out],
                            capsys)
    assert code == 0, err
    assert "nn.Linear(64, 12)" in stdout and "nn.Tanh()" in stdout and "load_file(" in stdout
    model = Classifier.load(pair_dir)
    tensors = load_file(str(out))
    assert list(tensors) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    for l, layer in enumerate(model.network.layers):
        assert np.ascontiguousarray(layer.W).tobytes() == tensors[f"{2 * l}.weight"].tobytes()
        assert layer.b.tobytes() == tensors[f"{2 * l}.bias"].tobytes()
    with safe_open(str(out), framework="numpy") as f:
        meta = f.metadata()
    assert meta["format"] == "pt"
    assert json.loads(meta["network"]) == model.network.get_config()
    assert json.loads(meta["class_names"]) == ["3", "8"]
    assert json.loads(meta["preprocessing"])["scaling"] == "pixel / 16"
    assert "nn.Sigmoid()" in meta["torch_sequential"]
    back = read_safetensors(out)
    X = load_dataset("digits", "test", classes=[3, 8]).X
    assert np.array_equal(back.predict(X), model.network.predict(X))


def test_exported_safetensors_load_into_the_printed_torch_sequential(pair_dir, tmp_path,
                                                                       capsys):
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    from safetensors.torch import load_file as load_torch

    out = tmp_path / "pair.safetensors"
    code, stdout, _ = run(["export", pair_dir, "--format", "safetensors", "--out", out], capsys)
    assert code == 0
    with safe_open(str(out), framework="numpy") as f:
        code_text = f.metadata()["torch_sequential"]
    scope: dict = {}
    exec(code_text, scope)  # the architecture the export documents, rebuilt from its text
    seq = scope["model"]
    seq.load_state_dict(load_torch(str(out)))
    X = load_dataset("digits", "test", classes=[3, 8]).X
    with torch.no_grad():
        p = seq(torch.from_numpy(X)).numpy()[:, 0]
    np.testing.assert_allclose(p, Classifier.load(pair_dir).predict_proba(X)[:, 1], atol=1e-6)


def test_export_torch_state_dict_loads_with_weights_only(pair_dir, tmp_path, capsys):
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    out = tmp_path / "pair.pt"
    code, stdout, err = run(["export", pair_dir, "--format", "torch", "--out", out], capsys)
    assert code == 0, err
    assert "weights_only=True" in stdout and "# outputs: p(8)" in stdout
    state = torch.load(out, weights_only=True)
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    # the printed code, run as printed, rebuilds the model and loads the file
    code_text = stdout.split("load it into:\n", 1)[1].split("# input scaling")[0]
    scope: dict = {}
    exec(code_text, scope)
    seq = scope["model"]
    X = load_dataset("digits", "test", classes=[3, 8]).X
    with torch.no_grad():
        p = seq(torch.from_numpy(X)).numpy()[:, 0]
    np.testing.assert_allclose(p, Classifier.load(pair_dir).predict_proba(X)[:, 1], atol=1e-6)


def test_float64_and_no_bias_round_trip_bit_identical(tmp_path):
    net = Network([3, 5, 2], [{"name": "leaky_relu", "alpha": 0.3}, "softmax"],
                  "cross_entropy", biases=None, dtype="float64", seed=4)
    path = tmp_path / "n.safetensors"
    path.write_bytes(safetensors_bytes(net))
    back = read_safetensors(path)
    assert back.get_config() == net.get_config()
    for name, arr in net.get_weights().items():
        got = back.get_weights()[name]
        assert got.dtype == arr.dtype and got.tobytes() == arr.tobytes()


def test_read_safetensors_refuses_foreign_or_damaged_files(tmp_path):
    from safetensors.numpy import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros((2, 2), np.float32)}, str(foreign))
    with pytest.raises(GlassnetError, match="no 'network' metadata"):
        read_safetensors(foreign)
    net = Network([2, 2], "sigmoid")
    wrong = tmp_path / "wrong.safetensors"
    save_file({"0.weight": np.zeros((3, 2))}, str(wrong),
              metadata={"network": json.dumps(net.get_config())})
    with pytest.raises(GlassnetError, match="missing"):
        read_safetensors(wrong)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{bad json")
    with pytest.raises(GlassnetError, match="not a readable safetensors file"):
        read_safetensors(garbage)


def test_missing_safetensors_names_the_extra(pair_dir, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    code, _, err = run(["export", pair_dir, "--format", "safetensors", "--out",
                        tmp_path / "x.safetensors"], capsys)
    assert code == 2 and "pip install 'glassnet[safetensors]'" in err


@pytest.mark.parametrize("name", ["glassnet.interop.common", "glassnet.interop.torch",
                                  "glassnet.interop.onnx", "glassnet.interop.safetensors"])
def test_docstring_examples(name):
    for dependency in {"glassnet.interop.torch": ["torch"],
                       "glassnet.interop.onnx": ["onnx", "onnxruntime"]}.get(name, []):
        pytest.importorskip(dependency, reason=f"{dependency} not installed")
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(verbose=False)
    tests = [t for t in doctest.DocTestFinder().find(module) if t.examples]
    assert tests, f"{name} has no docstring examples"
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
