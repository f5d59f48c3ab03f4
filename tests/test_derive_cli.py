"""``glassnet derive`` on the command line: the JSON contract, formats, errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.derive import derive
from glassnet.derive.evaluate import evaluate
from glassnet.exercise import explain

SEED004 = "examples/exercises/seed004_1b.yaml"
ALLOWED = {"exp", "log", "tanh", "step"}


def _run(capsys, *argv):
    code = main(["derive", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _names(expr):
    import re

    return set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", expr))


def test_json_contract_on_seed004(capsys):
    code, out, err = _run(capsys, SEED004, "--format", "json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["format"] == "glassnet.derive/1"
    assert doc["network"] == {"layers": [2, 3, 1], "activation": ["sigmoid", "sigmoid"],
                              "loss": "half_sse", "biases": "updated", "mode": "sgd"}
    params = [g["parameter"] for g in doc["gradients"]]
    assert sorted(params) == sorted([f"W_1_{i}_{j}" for i in (1, 2, 3) for j in (1, 2)]
                                    + ["W_2_1_1", "W_2_1_2", "W_2_1_3"]
                                    + [f"b_1_{i}" for i in (1, 2, 3)] + ["b_2_1"])
    assert all(g["verified"] is True for g in doc["gradients"])
    assert isinstance(doc["steps"], list) and doc["steps"]
    # every expression, at the sample's numbers from the engine's trace, is the engine's gradient
    sol = explain(SEED004)
    up = sol.updates[0]
    values = {"x_1": 1.0, "x_2": 0.0, "t_1": 1.0}
    for l, lt in enumerate(up.layers, start=1):
        for i in range(lt.z.shape[1]):
            values[f"z_{l}_{i + 1}"] = float(lt.z[0, i])
            values[f"a_{l}_{i + 1}"] = float(lt.a[0, i])
            values[f"b_{l}_{i + 1}"] = float(lt.b[i])
            for j in range(lt.W.shape[1]):
                values[f"W_{l}_{i + 1}_{j + 1}"] = float(lt.W[i, j])
    for g in doc["gradients"]:
        names = _names(g["expression"])
        assert names - ALLOWED <= set(values), g
        _, l, i, *j = g["parameter"].split("_")
        lt = up.layers[int(l) - 1]
        engine = lt.grad_W[int(i) - 1, int(j[0]) - 1] if j else lt.grad_b[int(i) - 1]
        assert evaluate(g["expression"], values) == pytest.approx(float(engine), abs=1e-15)
    assert doc["gradients"][params.index("W_2_1_1")]["expression"] == \
        "(a_2_1 - t_1)*a_2_1*(1 - a_2_1)*a_1_1"


def test_json_from_options_frozen_biases_and_batch(capsys):
    code, out, _ = _run(capsys, "--layers", "3,2,3", "--activation", "relu,softmax",
                        "--loss", "cross_entropy", "--biases", "frozen", "--mode", "batch_mean",
                        "-f", "json")
    doc = json.loads(out)
    assert code == 0 and doc["network"]["biases"] == "frozen"
    assert doc["network"]["mode"] == "batch_mean"
    biases = [g for g in doc["gradients"] if g["parameter"].startswith("b_")]
    assert len(biases) == 5 and all(g["applied"] is False and g["verified"] for g in biases)
    assert all(g["textbook_verified"] and g["assumes"] == "t_1 + t_2 + t_3 = 1"
               for g in doc["gradients"])
    text = json.dumps(doc)
    assert "NaN" not in text and "Infinity" not in text
    code, out, _ = _run(capsys, "--layers", "3,2,3", "--activation", "sigmoid,softmax",
                        "--loss", "half_sse", "--biases", "none", "-f", "json")
    doc = json.loads(out)
    assert not any(g["parameter"].startswith("b_") for g in doc["gradients"])


def test_text_and_markdown(capsys, tmp_path):
    code, out, _ = _run(capsys, "--layers", "2,3,3", "--activation", "sigmoid,softmax",
                        "--loss", "cross_entropy")
    assert code == 0
    assert "Σₘ tₘ = 1" in out and "Verified" in out
    target = tmp_path / "d.md"
    code, _, _ = _run(capsys, "--layers", "2,2,3", "--activation", "tanh,softmax",
                      "--loss", "half_sse", "-f", "markdown", "-o", str(target))
    md = target.read_text(encoding="utf-8")
    assert code == 0 and md.count("$$") % 2 == 0 and r"\mathbb{1}_{m=k}" in md
    code, out, _ = _run(capsys, SEED004, "--weight", "w1")
    assert "w₁ → z₁ → a₁ → z₄ → a₄ → E" in out and "−0.0271015" in out


@pytest.mark.parametrize("argv,message", [
    ([], "give an exercise FILE"),
    (["--layers", "2,x,1", "--activation", "sigmoid", "--loss", "half_sse"], "--layers"),
    (["--layers", "2,3,1", "--activation", "sigmod", "--loss", "half_sse"], "did you mean"),
    (["--layers", "2,3,1", "--activation", "softmax,sigmoid", "--loss", "half_sse"],
     "only supported on the output layer"),
    (["--layers", "2,3,1", "--activation", "sigmoid", "--loss", "half_sse", "--weight", "w99"],
     "--weight"),
    ([SEED004, "--layers", "2,1"], "not both"),
    ([SEED004, "--notation", "klingon"], "unknown notation"),
    (["does/not/exist.yaml"], "no such file"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("glassnet: error: ") and message in err and err.count("\n") == 1


def test_bad_file_names_the_key_path(capsys, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("network: {layers: [2, 1], activation: sigmoid}\nloss: half_sse\n"
                 "notation: {wieghts: w}\n", encoding="utf-8")
    code, _, err = _run(capsys, str(f))
    assert code == 2 and "notation.wieghts" in err and "did you mean 'weights'" in err
    f.write_text("network: {layers: [2, 0], activation: sigmoid}\nloss: half_sse\n",
                 encoding="utf-8")
    code, _, err = _run(capsys, str(f))
    assert code == 2 and "network.layers[1]" in err


def test_a_file_without_numbers_is_derived_without_instances(capsys, tmp_path):
    f = tmp_path / "shape.yaml"
    f.write_text("network: {layers: [2, 2, 1], activation: [tanh, linear], biases: none}\n"
                 "loss: sse\nmode: batch\n", encoding="utf-8")
    code, out, _ = _run(capsys, str(f), "-f", "json")
    doc = json.loads(out)
    assert code == 0 and doc["network"]["mode"] == "batch" and doc["network"]["biases"] == "none"
    assert all("value" not in g for g in doc["gradients"])


def test_import_glassnet_and_help_do_not_import_sympy():
    code = ("import sys, glassnet, glassnet.cli, glassnet.derive, glassnet.derive.notation; "
            "glassnet.cli.build_parser(); print('sympy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


def test_large_network_json_refused_but_text_derived(capsys):
    code, out, err = _run(capsys, "--layers", "784,128,10", "--activation", "relu,softmax",
                          "--loss", "cross_entropy")
    assert code == 0 and "proved on the 2-2-2 network" in out
    code, out, err = _run(capsys, "--layers", "784,128,10", "--activation", "relu,softmax",
                          "--loss", "cross_entropy", "-f", "json")
    assert code == 2 and out == "" and "101,770 parameters" in err
    d = derive(layers="784,128,10", activation="relu,softmax", loss="cross_entropy")
    assert d.verified and d.verification["instance"] == [2, 2, 2]
    assert np.isfinite(d.verification["seconds"])


MODULES = ["glassnet.derive", "glassnet.derive.spec", "glassnet.derive.notation",
           "glassnet.derive.expressions", "glassnet.derive.proof", "glassnet.derive.evaluate",
           "glassnet.derive.formula_check"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, monkeypatch):
    import doctest
    import importlib
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)  # examples/ paths
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_explain_style_parameter_names(capsys):
    from glassnet.derive.notation import builtin

    n = builtin("glassnet").bind([2, 3, 1])
    assert n.canonical_name("W2[1,3]") == "W_2_1_3" and n.canonical_name("w2[1,3]") == "W_2_1_3"
    code, out, _ = _run(capsys, "--layers", "2,3,1", "--activation", "tanh", "--loss", "sse",
                        "--weight", "W1[2,1]")
    assert code == 0 and "The chain for w₂₁⁽¹⁾" in out
