"""glassnet ⇄ PyTorch: forward passes, training steps against autograd, bit-exact round trips.

The independent truth is PyTorch itself: its forward pass, and autograd's
gradients followed by ``torch.optim.SGD``'s step, with each glassnet loss
matched to the PyTorch loss of the same convention.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install 'glassnet[torch]'")
nn = torch.nn

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from glassnet import Network, run_updates  # noqa: E402
from glassnet.activations import Activation  # noqa: E402
from glassnet.errors import GlassnetError  # noqa: E402
from glassnet.interop import explain_torch_step, from_torch, to_torch  # noqa: E402
from glassnet.interop.torch import torch_state_dict_bytes  # noqa: E402

ACTS = ["sigmoid", "tanh", "relu", {"name": "leaky_relu", "alpha": 0.2}, "linear"]


def _bits(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a).tobytes()


# ------------------------------------------------------------------- forward
@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
       acts=st.lists(st.sampled_from(range(len(ACTS))), min_size=4, max_size=4),
       softmax_out=st.booleans(), biases=st.booleans(),
       dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_to_torch_forward_equals_glassnet(sizes, acts, softmax_out, biases, dtype, seed):
    n_layers = len(sizes) - 1
    activation = [ACTS[i] for i in acts[:n_layers]]
    if softmax_out:
        activation[-1] = "softmax"
    net = Network(sizes, activation, "half_sse", weights="glorot_uniform",
                  biases={"name": "normal", "std": 0.5} if biases else None, dtype=dtype,
                  seed=seed)
    x = np.random.default_rng(seed).normal(size=(7, sizes[0])).astype(dtype)
    seq = to_torch(net)
    with torch.no_grad():
        y_torch = seq(torch.from_numpy(x)).numpy()
    assert y_torch.dtype == np.dtype(dtype)
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y_torch, net.predict(x), rtol=tol, atol=tol)


def test_to_torch_layout_and_keys():
    net = Network([4, 3, 2], ["tanh", "softmax"], "cross_entropy", seed=1)
    seq = to_torch(net)
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear", "Softmax"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert seq[3].dim == -1
    # the copies are independent: training the Sequential leaves the network alone
    with torch.no_grad():
        seq[0].weight += 1.0
    assert not np.array_equal(seq[0].weight.detach().numpy(), net.layers[0].W)


def test_linear_layers_get_identity_and_no_bias_is_kept():
    net = Network([2, 2, 1], ["linear", "linear"], "mse", biases=None, seed=3)
    seq = to_torch(net)
    assert [type(m).__name__ for m in seq] == ["Linear", "Identity", "Linear", "Identity"]
    assert seq[0].bias is None and list(seq.state_dict()) == ["0.weight", "2.weight"]


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("biases", [True, False])
def test_glassnet_torch_glassnet_is_bit_identical(dtype, biases):
    net = Network([5, 7, 4, 3], ["relu", {"name": "leaky_relu", "alpha": 0.05}, "softmax"],
                  "cross_entropy", weights="he_normal",
                  biases={"name": "normal", "std": 0.3} if biases else None,
                  dtype=dtype, seed=7)
    back = from_torch(to_torch(net), loss="cross_entropy")
    assert back.get_config() == net.get_config() | {"reduction": "mean"}
    before, after = net.get_weights(), back.get_weights()
    assert before.keys() == after.keys()
    for name in before:
        assert after[name].dtype == before[name].dtype
        assert _bits(after[name]) == _bits(before[name]), name


def test_torch_glassnet_torch_is_bit_identical():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 5), nn.Linear(5, 2),
                        nn.Sigmoid())
    again = to_torch(from_torch(seq))
    # a Linear directly after a Linear gets the identity in between
    assert [type(m).__name__ for m in again] == ["Linear", "Tanh", "Linear", "Identity",
                                                 "Linear", "Sigmoid"]
    old = [p.detach().numpy() for p in seq.parameters()]
    new = [p.detach().numpy() for p in again.parameters()]
    assert [_bits(a) for a in old] == [_bits(b) for b in new]


def test_state_dict_bytes_load_with_weights_only():
    net = Network([3, 4, 2], ["sigmoid", "softmax"], "cross_entropy", dtype="float32", seed=2)
    state = torch.load(io.BytesIO(torch_state_dict_bytes(net)), weights_only=True)
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2), nn.Softmax(dim=-1))
    seq.load_state_dict(state)
    x = np.random.default_rng(0).random((3, 3), dtype=np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(seq(torch.from_numpy(x)).numpy(), net.predict(x), atol=1e-6)


# ----------------------------------------------------- one step against autograd
def _sequential(sizes, acts, bias, seed):
    gen = torch.Generator().manual_seed(seed)
    modules = []
    for n_in, n_out, act in zip(sizes[:-1], sizes[1:], acts, strict=True):
        lin = nn.Linear(n_in, n_out, bias=bias, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(n_out, n_in, generator=gen, dtype=torch.float64))
            if bias:
                lin.bias.copy_(0.5 * torch.randn(n_out, generator=gen, dtype=torch.float64))
        modules.append(lin)
        if act is not None:
            modules.append(act)
    return nn.Sequential(*modules)


def _ce(seq, x, t):  # CrossEntropyLoss wants logits: the Sequential without its Softmax
    return nn.CrossEntropyLoss()(seq[:-1](x), t)


# (glassnet loss, update mode, PyTorch loss of the same convention, output module, targets)
CASES = {
    "half_sse/batch": ("half_sse", "batch", lambda s, x, t: ((s(x) - t) ** 2).sum() / 2,
                       nn.Sigmoid(), "real"),
    "sse/batch": ("sse", "batch", lambda s, x, t: nn.MSELoss(reduction="sum")(s(x), t),
                  None, "real"),
    "mse/batch_mean": ("mse", "batch_mean", lambda s, x, t: nn.MSELoss()(s(x), t),
                       nn.Identity(), "real"),
    "mse+softmax/batch_mean": ("mse", "batch_mean", lambda s, x, t: nn.MSELoss()(s(x), t),
                               nn.Softmax(dim=-1), "onehot"),
    "cross_entropy/batch_mean": ("cross_entropy", "batch_mean", _ce, nn.Softmax(dim=1),
                                 "onehot"),
    "cross_entropy soft targets/batch": (
        "cross_entropy", "batch", lambda s, x, t: nn.CrossEntropyLoss(reduction="sum")(
            s[:-1](x), t), nn.Softmax(dim=-1), "soft"),
    "bce/batch": ("binary_cross_entropy", "batch",
                  lambda s, x, t: nn.BCELoss(reduction="sum")(s(x), t), nn.Sigmoid(), "binary"),
    "bce one output/batch_mean": ("binary_cross_entropy", "batch_mean",
                                  lambda s, x, t: nn.BCELoss()(s(x), t), nn.Sigmoid(),
                                  "binary1"),
}


def _targets(kind, n, k, rng):
    if kind == "real":
        return rng.normal(size=(n, k))
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    if kind == "soft":
        p = rng.random((n, k)) + 0.1
        return p / p.sum(axis=1, keepdims=True)
    return rng.integers(0, 2, (n, k)).astype(np.float64)


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("bias", [True, False])
def test_from_torch_sgd_step_equals_autograd(case, hidden, bias):
    loss_name, mode, torch_loss, out_module, target_kind = CASES[case]
    hidden_module = {"sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "relu": nn.ReLU(),
                     "leaky_relu": nn.LeakyReLU(0.1)}[hidden]
    k = 1 if target_kind == "binary1" else 3
    sizes = [4, 5, 3, k]
    seed = sorted(CASES).index(case) * 10 + len(hidden)
    seq = _sequential(sizes, [hidden_module, nn.Tanh(), out_module], bias, seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 4))
    T = _targets(target_kind, 6, k, rng)

    net = from_torch(seq, loss=loss_name)
    step = run_updates(net, X, T, lr=0.3, mode=mode)[0]

    t = torch.from_numpy(T) if target_kind != "onehot" or loss_name != "cross_entropy" \
        else torch.from_numpy(T.argmax(axis=1))
    x = torch.from_numpy(X)
    opt = torch.optim.SGD(seq.parameters(), lr=0.3)
    opt.zero_grad()
    loss = torch_loss(seq, x, t)
    loss.backward()
    linears = [m for m in seq if isinstance(m, nn.Linear)]
    grads = [(m.weight.grad.numpy().copy(), None if m.bias is None else m.bias.grad.numpy().copy())
             for m in linears]
    opt.step()

    assert step.loss == pytest.approx(loss.item(), rel=1e-12, abs=1e-12)
    for lt, m, (gW, gb) in zip(step.layers, linears, grads, strict=True):
        np.testing.assert_allclose(lt.grad_W, gW, rtol=0, atol=1e-10)
        np.testing.assert_allclose(lt.W_after, m.weight.detach().numpy(), rtol=0, atol=1e-10)
        if bias:
            np.testing.assert_allclose(lt.grad_b, gb, rtol=0, atol=1e-10)
            np.testing.assert_allclose(lt.b_after, m.bias.detach().numpy(), rtol=0, atol=1e-10)
        else:
            assert lt.b_after is None


def test_online_sgd_equals_torch_loop_and_explain_shows_it():
    seq = _sequential([2, 3, 2], [nn.Sigmoid(), nn.Softmax(dim=-1)], True, 11)
    X = np.array([[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]])
    labels = np.array([1, 0, 1])
    T = np.eye(2)[labels]
    sol = explain_torch_step(seq, X, T, lr=0.5, loss="cross_entropy", mode="sgd")
    assert len(sol.updates) == 3
    w_before = seq[0].weight.detach().numpy().copy()
    # the Sequential itself is not changed by explaining it
    opt = torch.optim.SGD(seq.parameters(), lr=0.5)
    for i in range(3):
        opt.zero_grad()
        nn.CrossEntropyLoss(reduction="sum")(seq[:-1](torch.from_numpy(X[i:i + 1])),
                                             torch.from_numpy(labels[i:i + 1])).backward()
        opt.step()
        up = sol.updates[i]
        np.testing.assert_allclose(up.layers[0].W_after, seq[0].weight.detach().numpy(),
                                   rtol=0, atol=1e-10)
        np.testing.assert_allclose(up.layers[1].b_after, seq[2].bias.detach().numpy(),
                                   rtol=0, atol=1e-10)
    assert np.array_equal(sol.initial_W[0], w_before)
    text = sol.to_text()
    assert "softmax" in text and "η = 0.5" in text and "δ" in text


def test_explain_batch_mean_step_matches_autograd_for_float32_model():
    torch.manual_seed(3)
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))  # float32, no output act
    X = np.random.default_rng(4).normal(size=(5, 3))
    T = np.random.default_rng(5).normal(size=(5, 1))
    sol = explain_torch_step(seq, X, T, lr=0.1)  # default loss for a linear output: mse
    assert sol.loss.name == "mse" and sol.exercise.mode == "batch_mean"
    ref = seq.double()  # the worked solution is in float64, from the float32 weights
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    nn.MSELoss()(ref(torch.from_numpy(X)), torch.from_numpy(T)).backward()
    opt.step()
    np.testing.assert_allclose(sol.final_W[1], ref[2].weight.detach().numpy(), rtol=0,
                               atol=1e-10)


def test_from_torch_keeps_dtype_and_defaults():
    seq32 = nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=-1))
    net = from_torch(seq32)
    assert net.dtype == np.float32 and net.loss.name == "cross_entropy"
    assert net.reduction == "mean"
    net64 = from_torch(nn.Sequential(nn.Linear(2, 1)).double(), loss="half_sse")
    assert net64.dtype == np.float64 and net64.loss.name == "half_sse"
    assert [layer.activation.name for layer in net64.layers] == ["linear"]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("modules, expected", [
    (lambda: [nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Linear(4, 2)], "module 0 (Conv2d)"),
    (lambda: [nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2)], "module 1 (Dropout)"),
    (lambda: [nn.ReLU(), nn.Linear(3, 2)], "module 0 (ReLU)"),
    (lambda: [nn.Linear(3, 2), nn.ReLU(), nn.Tanh()], "module 2 (Tanh)"),
    (lambda: [nn.Linear(3, 2), nn.Softmax(dim=-1), nn.Linear(2, 2)], "module 1 (Softmax)"),
    (lambda: [nn.Linear(3, 2), nn.Softmax(dim=0)], "dim=0"),
    (lambda: [nn.Linear(3, 2), nn.ReLU(), nn.Linear(3, 2)], "in_features is 3"),
    (lambda: [nn.Linear(3, 2), nn.Linear(2, 2, bias=False)], "bias"),
    (lambda: [nn.Linear(3, 2), nn.Linear(2, 2).double()], "float64 but earlier"),
    (lambda: [nn.Linear(3, 2).half()], "torch.float16"),
    (lambda: [nn.Linear(3, 2), nn.LeakyReLU(-0.5)], "negative_slope"),
    (lambda: [nn.Linear(3, 2), nn.Sequential(nn.ReLU())], "module 1 (Sequential)"),
    (lambda: [], "empty"),
])
def test_from_torch_names_the_first_module_it_cannot_take(modules, expected):
    with pytest.raises(GlassnetError) as info:
        from_torch(nn.Sequential(*modules()))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_named_modules_are_named_in_the_error():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict(fc1=nn.Linear(2, 3), drop=nn.Dropout(), fc2=nn.Linear(3, 1)))
    with pytest.raises(GlassnetError, match=r"module 1 'drop' \(Dropout\) cannot be converted"):
        from_torch(seq)


def test_from_torch_wants_a_sequential():
    with pytest.raises(GlassnetError, match="expects a torch.nn.Sequential, got Linear"):
        from_torch(nn.Linear(2, 2))


def test_from_torch_unknown_loss_is_a_clear_error():
    with pytest.raises(GlassnetError, match="unknown loss 'hinge'"):
        from_torch(nn.Sequential(nn.Linear(2, 1)), loss="hinge")


def test_to_torch_refuses_an_activation_without_equivalent():
    class Swish(Activation):
        name = "swish"

        def forward(self, z, out=None):
            return np.multiply(z, 1 / (1 + np.exp(-z)), out=out)

    net = Network([2, 2, 1], [Swish(), "linear"], "mse")
    with pytest.raises(GlassnetError, match="layer 1: activation 'swish' has no PyTorch"):
        to_torch(net)


def test_missing_torch_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # makes "import torch" fail
    with pytest.raises(GlassnetError, match=r"needs the torch package: pip install "
                                            r"'glassnet\[torch\]'"):
        to_torch(Network([1, 1], "linear"))


def test_example_pytorch_step_runs_and_everything_agrees():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "examples" / "pytorch_step.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    compared = [line for line in lines if "max |difference|" in line]
    assert len(compared) == 11  # the loss, and 5 quantities for each of the 2 layers
    assert all(line.rstrip().endswith("agree") for line in compared)
    assert lines[-1] == "all numbers agree"
    assert "Output delta" in result.stdout and "New parameters" in result.stdout


# --------------------------------------------------- the exported file's input
def test_exported_sequential_on_scaled_raw_rows_equals_predict(tmp_path, capsys):
    """The state dict holds the network only: raw / 16 into it gives predict's numbers."""
    import json

    from sklearn.datasets import load_digits

    from glassnet.cli import main
    from glassnet.training import Classifier

    model = tmp_path / "m"
    assert main(["train", "--dataset", "digits", "--hidden", "12", "--epochs", "2",
                 "--quiet", "--out", str(model)]) == 0
    assert main(["export", str(model), "--format", "torch", "--out",
                 str(tmp_path / "m.pt")]) == 0
    stdout = capsys.readouterr().out
    assert "# input scaling: raw values divided by 16 (pixel / 16)" in stdout
    scope: dict = {}
    exec(stdout.split("load it into:\n", 1)[1].split("model.load_state_dict")[0], scope)
    seq = scope["model"]
    seq.load_state_dict(torch.load(tmp_path / "m.pt", weights_only=True))
    raw = load_digits().data[:30]  # scikit-learn's pixels, 0..16
    np.save(tmp_path / "raw.npy", raw)
    assert main(["predict", str(model), str(tmp_path / "raw.npy"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    want = np.array([[r["probabilities"][c] for c in doc["classes"]]
                     for r in doc["predictions"]])
    with torch.no_grad():
        got = seq(torch.from_numpy(raw.astype(np.float32)) / 16).numpy()
        via_to_torch = to_torch(Classifier.load(model))(
            torch.from_numpy(raw.astype(np.float32)) / 16).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(via_to_torch, got)
