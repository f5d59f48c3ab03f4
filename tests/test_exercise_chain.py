"""The chain rule for one weight: path by path, as seed 004 writes it, equal to backprop."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.errors import GlassnetError
from glassnet.exercise import explain, parse_exercise, solve

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "exercises"


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def test_seed004_1a_w1_is_the_seed_s_product_of_five_factors():
    sol = explain(str(EXAMPLES / "seed004_1a.yaml"))
    rule = sol.chain("W1[1,1]")
    (uc,) = rule.updates
    (sc,) = uc.samples
    (path,) = sc.paths
    values = [f.value for f in path.factors]
    # seed 004: ∂E/∂w1 = ∂E/∂a4 · ∂a4/∂z4 · ∂z4/∂a1 · ∂a1/∂z1 · ∂z1/∂w1 = −0.0260·0.024·1·0.105·1
    a1, y = sig(2.0), sig(3 * sig(2.0) + 1)
    assert values == pytest.approx([y - 1, y * (1 - y), 1.0, a1 * (1 - a1), 1.0], rel=1e-13)
    assert [round(v, 3) for v in values] == [-0.026, 0.025, 1.0, 0.105, 1.0]
    assert uc.total == pytest.approx((y - 1) * y * (1 - y) * a1 * (1 - a1), rel=1e-13)
    assert uc.after == pytest.approx(1 - 0.1 * uc.total, rel=1e-15)


def test_seed004_1b_w1_and_w7():
    sol = explain(str(EXAMPLES / "seed004_1b.yaml"))
    a, y = sig(0.6), sig(0.1)
    w1 = sol.chain("W1[1,1]").updates[0]
    assert w1.total == pytest.approx((y - 1) * y * (1 - y) * 1.0 * a * (1 - a), rel=1e-13)
    assert round(w1.total, 3) == -0.027  # the seed: −0.4751 × 0.250 × 1 × 0.229 × 1 = −0.027
    w7 = sol.chain("w2[1,1]").updates[0]
    assert w7.total == pytest.approx((y - 1) * y * (1 - y) * a, rel=1e-13)
    assert round(w7.total, 3) == -0.076


@pytest.mark.parametrize("name", ["seed003_q1", "seed003_q2b", "seed003_q3", "seed004_1b",
                                  "seed002_regression", "seed002_classification",
                                  "seed000_neuron"])
def test_sum_over_paths_equals_backpropagation_for_every_parameter(name):
    sol = explain(str(EXAMPLES / f"{name}.yaml"))
    for l in range(1, sol.n_layers + 1):
        rows, cols = sol.layers[l], sol.layers[l - 1]
        specs = [f"W{l}[{i},{j}]" for i in range(1, rows + 1) for j in range(1, cols + 1)]
        if sol.has_biases:
            specs += [f"b{l}[{i}]" for i in range(1, rows + 1)]
        for spec in specs:
            for uc in sol.chain(spec).updates:
                assert uc.total == pytest.approx(uc.engine, rel=1e-10, abs=1e-15), spec


def test_softmax_without_cross_entropy_goes_through_every_output():
    ex = {"network": {"layers": [2, 2, 3], "activation": ["tanh", "softmax"],
                      "weights": [[[0.3, -0.2], [0.1, 0.4]], [[0.5, -0.1], [0.2, 0.2],
                                                             [-0.3, 0.6]]],
                      "biases": 0.05},
          "loss": "half_sse", "learning_rate": 0.1, "mode": "batch_mean",
          "samples": [{"x": [1, 2], "t": [0, 1, 0]}, {"x": [-1, 0.5], "t": [1, 0, 0]}]}
    sol = solve(parse_exercise(ex))
    rule = sol.chain("W1[2,1]")
    (uc,) = rule.updates
    # from a₂⁽¹⁾ to each of the 3 output nets z⁽²⁾, and from each net to each of the
    # 3 outputs (the softmax couples them): 9 paths per sample
    assert [len(sc.paths) for sc in uc.samples] == [9, 9]
    assert uc.total == pytest.approx(uc.engine, rel=1e-12)
    # the mean over 2 samples shows as a factor 1/2 on every path
    assert all(p.factors[0].value == 0.5 for sc in uc.samples for p in sc.paths)
    # and matches a central finite difference of the mean loss (independent of backprop)
    eps = 1e-6
    vals = []
    for sign in (1, -1):
        W = [np.array(w, float) for w in ex["network"]["weights"]]
        W[0][1, 0] += sign * eps
        e2 = {**ex, "network": {**ex["network"], "weights": [w.tolist() for w in W]}}
        vals.append(solve(parse_exercise(e2)).updates[0].loss)
    assert uc.total == pytest.approx((vals[0] - vals[1]) / (2 * eps), rel=1e-6)


def test_chain_text_markdown_and_json(capsys):
    f = str(EXAMPLES / "seed004_1a.yaml")
    assert main(["explain", f, "--weight", "W1[1,1]"]) == 0
    out = capsys.readouterr().out
    assert "path 1: w₁₁⁽¹⁾ → z₁⁽¹⁾ → a₁⁽¹⁾ → z₁⁽²⁾ → y₁ → E" in out
    assert "∂E/∂y₁·∂y₁/∂z₁⁽²⁾·∂z₁⁽²⁾/∂a₁⁽¹⁾·∂a₁⁽¹⁾/∂z₁⁽¹⁾·∂z₁⁽¹⁾/∂w₁₁⁽¹⁾" in out
    assert "= (−0.0255213)·0.0248699·1·0.104994·1" in out
    assert "✓" in out and "MISMATCH" not in out
    assert "1 − 0.1·(−6.66406·10⁻⁵) = 1.00000666" in out
    assert main(["explain", f, "--weight", "b2[1]", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert r"\frac{\partial E}{\partial b^{[2]}_{1}}" in md and r"\begin{aligned}" in md
    assert main(["explain", f, "--weight", "W2[1,3]", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["format"] == "glassnet.chain/1" and d["parameter"] == "W2[1,3]"
    (u,) = d["updates"]
    assert u["gradient"] == pytest.approx(u["backprop_gradient"], rel=1e-14)
    assert len(u["samples"][0]["paths"][0]["factors"]) == 3


def test_chain_over_several_updates_and_one_selected(capsys):
    f = str(EXAMPLES / "seed000_neuron.yaml")
    assert main(["explain", f, "--weight", "W1[1,2]", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["updates"]) == 2
    assert main(["explain", f, "--weight", "W1[1,2]", "--format", "json", "--update", "2"]) == 0
    (u,) = json.loads(capsys.readouterr().out)["updates"]
    assert u["update"] == 1


@pytest.mark.parametrize("spec, fragment", [
    ("W1[0,1]", "count from 1"),
    ("W3[1,1]", "1..2"),
    ("W1[4,1]", "3 units"),
    ("W1[1,3]", "2 units"),
    ("W1[1]", "two indices"),
    ("b1[1,1]", "one index"),
    ("w one", "expected a parameter like"),
    ("1:0,1", "expected a parameter like"),
])
def test_bad_parameter_names(spec, fragment, capsys):
    sol = explain(str(EXAMPLES / "seed004_1a.yaml"))
    with pytest.raises(GlassnetError, match=fragment):
        sol.chain(spec)
    assert main(["explain", str(EXAMPLES / "seed004_1a.yaml"), "--weight", spec]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_bias_of_a_network_without_biases():
    sol = explain(str(EXAMPLES / "seed002_regression.yaml"))
    with pytest.raises(GlassnetError, match="no biases"):
        sol.chain("b1[1]")


# --------------------------------------------------------------- the exercise's notation
SEED004_1B = EXAMPLES / "seed004_1b.yaml"
#: from the exercise's own description: w1 = w3 = w5 = 0.5; w2 = w4 = w6 = −0.25; w7 = 1,
#: w8 = −1, w9 = 0; and the seed's gradients (its answers, rounded as the seed prints them)
SEED004_WEIGHTS = {1: 0.5, 2: -0.25, 3: 0.5, 4: -0.25, 5: 0.5, 6: -0.25, 7: 1.0, 8: -1.0, 9: 0.0}
SEED004_GRADS = {"w1": -0.027, "w2": 0.0, "w3": 0.0271, "w4": 0.0, "w5": 0.0, "w6": 0.0,
                 "w7": -0.077, "w8": -0.077, "w9": -0.077,
                 "b1": -0.027, "b2": 0.0271, "b3": 0.0, "b4": -0.119}


def test_seed004_names_w1_to_w9_and_b1_to_b4_are_the_seeds_parameters():
    """explain reads w1 … w9, b1 … b4 through the file's `notation: seed004` (QA finding 12)."""
    sol = explain(str(SEED004_1B))
    for name, grad in SEED004_GRADS.items():
        rule = sol.chain(name)
        assert rule.notation_name == name
        up = rule.updates[0]
        if name.startswith("w"):
            assert up.before == SEED004_WEIGHTS[int(name[1:])], name
        else:
            assert up.before == 0.1  # "all biases 0.1"
        assert abs(up.total - grad) < 1e-3, (name, up.total, grad)
        assert up.total == pytest.approx(up.engine, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name, same", [("w1", "W1[1,1]"), ("b4", "b2[1]"), ("w8", "W_2_1_2"),
                                        ("dE/dw7", "W2[1,1]")])
def test_explain_cli_weight_in_the_exercise_notation(capsys, name, same):
    assert main(["explain", str(SEED004_1B), "--weight", name]) == 0
    out = capsys.readouterr().out
    assert main(["explain", str(SEED004_1B), "--weight", same]) == 0
    assert capsys.readouterr().out == out
    shown = name.removeprefix("dE/d")
    assert out.splitlines()[0].endswith(f"({shown} in the exercise's notation)")
    assert main(["explain", str(SEED004_1B), "--weight", name, "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["notation_name"] == shown


def _seed004_without(notation):
    import yaml

    data = yaml.safe_load(SEED004_1B.read_text(encoding="utf-8"))
    data.pop("notation")
    if notation is not None:
        data["notation"] = notation
    return solve(parse_exercise(data))


def test_the_notation_is_what_makes_w1_a_name():
    """Without the section, w1 and b4 name nothing (explain's own syntax still works)."""
    sol = _seed004_without(None)
    for name in ("w1", "b4"):
        with pytest.raises(GlassnetError, match="expected a parameter like"):
            sol.chain(name)
    assert sol.chain("W1[1,1]").notation_name == ""
    # another notation in the same file: deeplearning.ai's W^[2]_13 is w9 of seed 004
    dlai = _seed004_without("deeplearning.ai")
    rule = dlai.chain("W^[2]_13")
    assert (rule.layer, rule.row, rule.col) == (2, 0, 2)
    assert rule.updates[0].before == SEED004_WEIGHTS[9]
    with pytest.raises(GlassnetError, match="expected a parameter like"):
        dlai.chain("w9")


@pytest.mark.parametrize("name, fragment", [
    ("a1", "names a_1_1, not a weight or a bias"),
    ("x2", "names x_2, not a weight or a bias"),
    ("w10", "in the exercise's notation \\(seed004\\): w1 … w9, b1 … b4"),
    ("b5", "w1 … w9, b1 … b4"),
])
def test_names_that_are_not_parameters_of_the_notation(capsys, name, fragment):
    sol = explain(str(SEED004_1B))
    with pytest.raises(GlassnetError, match=fragment):
        sol.chain(name)
    assert main(["explain", str(SEED004_1B), "--weight", name]) == 2
    assert capsys.readouterr().err.count("\n") == 1
