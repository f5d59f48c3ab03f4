"""``glassnet explain``: the JSON reproduces the seeds' printed values and closed-form values.

Expected numbers here are independent of the engine: values printed in the
seed answer keys (compared at the precision they were printed with) and
values computed in this file by hand formulas with ``math`` (closed form).
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from glassnet.cli import main
from glassnet.exercise import explain, parse_exercise, solve

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "exercises"


def sig(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def printed(value: float, text: str, slack: float = 1.0) -> None:
    """``value`` rounds to ``text`` (the seed's printed number), up to ``slack`` last digits."""
    exp = Decimal(text).as_tuple().exponent
    assert isinstance(exp, int)
    unit = 10.0 ** exp
    assert abs(value - float(text)) <= slack * unit * 0.5 + 1e-15, (value, text)


def json_of(name: str, capsys) -> dict:
    assert main(["explain", str(EXAMPLES / f"{name}.yaml"), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


# -------------------------------------------------------------------------- seed 004
def test_seed004_1a_matches_the_seed_and_closed_form(capsys):
    d = json_of("seed004_1a", capsys)
    (up,) = d["updates"]
    # closed form: all weights and biases 1, x = (1, 0), t = 1
    a1 = sig(2.0)
    y = sig(3 * a1 + 1)
    loss = 0.5 * (y - 1) ** 2
    d4 = (y - 1) * y * (1 - y)
    d1 = d4 * 1.0 * a1 * (1 - a1)
    assert up["loss"] == pytest.approx(loss, rel=1e-12)
    assert up["loss"] == pytest.approx(0.000325667126, abs=5e-13)  # the lead's float64 value
    assert up["forward"][0]["a"] == [[pytest.approx(a1, rel=1e-14)] * 3]
    assert up["forward"][1]["z"][0][0] == pytest.approx(3 * a1 + 1, rel=1e-14)
    assert up["deltas"][1] == [[pytest.approx(d4, rel=1e-12)]]
    assert up["deltas"][0] == [[pytest.approx(d1, rel=1e-12)] * 3]
    W1, W2 = up["W"]
    b1, b2 = up["b"]
    for row in W1:
        assert row[0] == pytest.approx(1 - 0.1 * d1 * 1.0, rel=1e-14)
        assert row[1] == 1.0  # x2 = 0: w2, w4, w6 do not move
        printed(row[0], "1.0000067")
    assert W2[0] == [pytest.approx(1 - 0.1 * d4 * a1, rel=1e-14)] * 3
    printed(W2[0][0], "1.0000559")
    assert b1 == [pytest.approx(1 - 0.1 * d1, rel=1e-14)] * 3
    printed(b1[0], "1.0000067")
    printed(b2[0], "1.0000635")
    # the seed's own intermediate hand values (3 digits): a4 = 0.974, ∂E/∂a4 = -0.0260 ...
    printed(up["forward"][1]["a"][0][0], "0.974")
    printed(up["forward"][0]["a"][0][0], "0.881")
    assert d["W"] == up["W"] and d["b"] == up["b"] and "query" not in d


def test_seed004_1b_matches_the_seed_and_closed_form(capsys):
    d = json_of("seed004_1b", capsys)
    (up,) = d["updates"]
    a = sig(0.6)               # a1 = a2 = a3
    y = sig(a - a + 0 * a + 0.1)
    d4 = (y - 1) * y * (1 - y)
    dh = [d4 * w * a * (1 - a) for w in (1.0, -1.0, 0.0)]
    assert up["loss"] == pytest.approx(0.5 * (y - 1) ** 2, rel=1e-12)
    printed(up["loss"], "0.112822")
    printed(up["forward"][0]["a"][0][0], "0.646")
    printed(up["forward"][1]["a"][0][0], "0.525")
    W1, W2 = up["W"]
    b1, b2 = up["b"]
    assert b2[0] == pytest.approx(0.1 - 0.1 * d4, rel=1e-14)
    printed(b2[0], "0.111846")
    # reference values verified in float64 and written truncated to 7 decimals (slack=2)
    for k, (w0, text) in enumerate(zip((1.0, -1.0, 0.0), ("1.0076483", "-0.9923517",
                                                         "0.0076483"), strict=True)):
        assert W2[0][k] == pytest.approx(w0 - 0.1 * d4 * a, rel=1e-13)
        printed(W2[0][k], text, slack=2)
    printed(W1[0][0], "0.5027101", slack=2)
    printed(W1[1][0], "0.4972899", slack=2)
    assert W1[2][0] == 0.5 and [r[1] for r in W1] == [-0.25] * 3
    printed(b1[0], "0.1027101", slack=2)
    printed(b1[1], "0.0972899", slack=2)
    # the seed's own table (rounded by hand to 4 decimals): w1 = 0.5027, w3 = 0.4973
    printed(W1[0][0], "0.5027")
    printed(W1[1][0], "0.4973")
    assert b1[2] == 0.1
    assert [row[0] for row in up["grad_W"][0]] == [pytest.approx(v, rel=1e-12) for v in dh]


# -------------------------------------------------------------------------- seed 003
def test_seed003_q1_and_its_query(capsys):
    d = json_of("seed003_q1", capsys)
    (up,) = d["updates"]
    f1, f2 = up["forward"]
    assert f1["z"] == [[pytest.approx(0.2)] * 3]
    for v in f1["a"][0]:
        printed(v, "0.549834")
    for v in f2["z"][0]:
        printed(v, "0.16495")
    for v in f2["a"][0]:
        printed(v, "0.541144")
    printed(up["deltas"][1][0][0], "-0.113937")
    printed(up["deltas"][1][0][1], "0.13437")
    for v in up["deltas"][0][0]:
        printed(v, "0.00050575")
    for v in up["grad_W"][1][0]:
        printed(v, "-0.0626465")
    for v in up["grad_W"][1][1]:
        printed(v, "0.0738812")
    W1, W2 = d["W"]
    b1, b2 = d["b"]
    for row in W1:
        printed(row[0], "0.0994943")
        printed(row[1], "0.0994943")
        assert row[2:] == [0.1, 0.1, 0.1]
    for v in W2[0]:
        printed(v, "0.162647")
    for v in W2[1]:
        printed(v, "0.0261188")
    printed(b2[0], "0.113937")
    printed(b2[1], "-0.13437")
    for v in b1:
        printed(v, "-0.00050575")
    (q,) = d["query"]
    assert q["x"] == [1, 0, 0, 0, 1]
    printed(q["output"][0], "0.59438")
    printed(q["output"][1], "0.477189")
    assert q["class"] == 0


SEED003_Q2B = {
    # the seed prints one column per sample; here [sample][unit]
    "z": [("0.3", "1.1"), ("0.216525", "0.4202"), ("0.163961", "0.21913")],
    "a": [("0.291313", "0.800499"), ("0.213204", "0.397099"), ("0.162507", "0.215688")],
    "deltas": [(("-0.0130754",) * 4, ("-0.00305449",) * 4),
               (("-0.0476264",) * 3, ("-0.0283452",) * 3),
               (("0.158216", "-0.815376", "0.158216"), ("0.205654", "0.205654", "-0.747824"))],
}


def test_seed003_q2b_batch_update_sums_the_two_samples(capsys):
    d = json_of("seed003_q2b", capsys)
    (up,) = d["updates"]
    assert up["samples"] == [0, 1] and up["epoch"] == 0
    for l, (s1, s2) in enumerate(SEED003_Q2B["z"]):
        assert all(printed(v, s1) is None for v in up["forward"][l]["z"][0])
        assert all(printed(v, s2) is None for v in up["forward"][l]["z"][1])
    for l, (s1, s2) in enumerate(SEED003_Q2B["a"]):
        assert all(printed(v, s1) is None for v in up["forward"][l]["a"][0])
        assert all(printed(v, s2) is None for v in up["forward"][l]["a"][1])
    for l, (s1, s2) in enumerate(SEED003_Q2B["deltas"]):
        for v, t in zip(up["deltas"][l][0], s1, strict=True):
            printed(v, t)
        for v, t in zip(up["deltas"][l][1], s2, strict=True):
            printed(v, t)
    gW1, gW2, gW3 = up["grad_W"]
    for row in gW1:
        printed(row[0], "-0.0130754")
        printed(row[2], "-0.0436203")
        assert row[1] == 0 and row[3] == 0
    assert all(printed(v, "-0.0365645") is None for row in gW2 for v in row)
    for row, t in zip(gW3, ("0.115397", "-0.092176", "-0.263228"), strict=True):
        assert all(printed(v, t) is None for v in row)
    for v, t in zip(up["grad_b"][2], ("0.36387", "-0.609721", "-0.589609"), strict=True):
        printed(v, t)
    printed(up["grad_b"][1][0], "-0.0759716")
    printed(up["grad_b"][0][0], "-0.0161299")
    W1, W2, W3 = d["W"]
    for row in W1:
        printed(row[0], "0.101308")
        printed(row[2], "0.104362")
    assert all(printed(v, "0.103656") is None for row in W2 for v in row)
    for row, t in zip(W3, ("0.0884603", "0.109218", "0.126323"), strict=True):
        assert all(printed(v, t) is None for v in row)
    for v, t in zip(d["b"][2], ("0.063613", "0.160972", "0.158961"), strict=True):
        printed(v, t)
    # batch = sum: the loss is the sum of both samples' ½Σ(y − t)²
    y1 = float(SEED003_Q2B["a"][2][0])
    y2 = float(SEED003_Q2B["a"][2][1])
    hand = 0.5 * (y1**2 + (y1 - 1) ** 2 + y1**2) + 0.5 * (y2**2 + y2**2 + (y2 - 1) ** 2)
    assert up["loss"] == pytest.approx(hand, rel=2e-5)


def test_seed003_q2a_is_the_first_column_of_q2b_with_lr_1(capsys):
    d = json_of("seed003_q2a", capsys)
    (up,) = d["updates"]
    for l, (s1, _) in enumerate(SEED003_Q2B["a"]):
        assert all(printed(v, s1) is None for v in up["forward"][l]["a"][0])
    for l, (s1, _) in enumerate(SEED003_Q2B["deltas"]):
        for v, t in zip(up["deltas"][l][0], s1, strict=True):
            printed(v, t)
    # W3 after = 0.1 − 1·δ3 a2ᵀ from the seed's printed δ3 and a2 (hand arithmetic)
    a2 = 0.213204
    for row, dt in zip(d["W"][2], (0.158216, -0.815376, 0.158216), strict=True):
        assert row == [pytest.approx(0.1 - dt * a2, abs=2e-6)] * 3
    # b1 after = 0.1 − δ1 = 0.1130754
    assert d["b"][0] == [pytest.approx(0.1130754, abs=1e-7)] * 4


def test_seed003_q3_softmax_cross_entropy(capsys):
    d = json_of("seed003_q3", capsys)
    (up,) = d["updates"]
    assert up["forward"][2]["a"] == [[pytest.approx(1 / 3, rel=1e-12)] * 3] * 2
    assert up["deltas"][2][0] == pytest.approx([1 / 3, -2 / 3, 1 / 3], rel=1e-12)
    assert up["deltas"][2][1] == pytest.approx([1 / 3, 1 / 3, -2 / 3], rel=1e-12)
    assert up["deltas"][1] == [[pytest.approx(0, abs=1e-15)] * 3] * 2
    assert up["loss"] == pytest.approx(2 * math.log(3), rel=1e-12)
    for row, t in zip(up["grad_W"][2], ("0.203434", "-0.0097695", "-0.193665"), strict=True):
        assert all(printed(v, t) is None for v in row)
    for v, t in zip(up["grad_b"][2], ("0.666667", "-0.333333", "-0.333333"), strict=True):
        printed(v, t)
    for row, t in zip(d["W"][2], ("0.0796566", "0.100977", "0.119366"), strict=True):
        assert all(printed(v, t) is None for v in row)
    for v, t in zip(d["b"][2], ("0.0333333", "0.133333", "0.133333"), strict=True):
        printed(v, t)
    assert d["W"][0] == [[pytest.approx(0.1, abs=1e-15)] * 4] * 4


# ------------------------------------------------------------------- seed 002 and 000
W_HIDDEN = [[0.2, -0.1, 0.4], [0.5, 0.3, -0.2], [-0.3, 0.8, 0.2], [0.1, 0.1, 0.1]]
X = [1.0, 0.5, -1.0]


def hidden() -> list[float]:
    return [sig(sum(w * x for w, x in zip(row, X, strict=True))) for row in W_HIDDEN]


def test_seed002_regression_closed_form(capsys):
    d = json_of("seed002_regression", capsys)
    (up,) = d["updates"]
    H = hidden()
    gamma = [0.3, -0.5, 0.7, 0.2]
    O = sum(h * g for h, g in zip(H, gamma, strict=True))
    y, lr = 0.5, 0.1
    assert up["loss"] == pytest.approx((y - O) ** 2, rel=1e-13)
    # the seed's formulas: ∂SE/∂γ_j = −2(y − O)·H_j, ∂SE/∂W_ij = −2(y − O)·γ_j·H_j(1 − H_j)·I_i
    g_out = [-2 * (y - O) * h for h in H]
    assert up["grad_W"][1][0] == pytest.approx(g_out, rel=1e-12)
    assert d["W"][1][0] == pytest.approx([g - lr * dg for g, dg in zip(gamma, g_out,
                                                                       strict=True)], rel=1e-13)
    for j in range(4):
        for i in range(3):
            g = -2 * (y - O) * gamma[j] * H[j] * (1 - H[j]) * X[i]
            assert up["grad_W"][0][j][i] == pytest.approx(g, rel=1e-12)
            assert d["W"][0][j][i] == pytest.approx(W_HIDDEN[j][i] - lr * g, rel=1e-13)
    assert up["grad_b"] is None and up["b"] is None and d["b"] is None


def test_seed002_classification_closed_form(capsys):
    d = json_of("seed002_classification", capsys)
    (up,) = d["updates"]
    H = hidden()
    gamma = [[0.3, -0.5, 0.7, 0.2], [-0.4, 0.6, 0.1, -0.2], [0.2, 0.2, -0.3, 0.5]]
    Xk = [sum(h * g for h, g in zip(H, row, strict=True)) for row in gamma]
    e = [math.exp(v) for v in Xk]
    O = [v / sum(e) for v in e]
    label = [0, 1, 0]
    assert up["forward"][1]["a"][0] == pytest.approx(O, rel=1e-13)
    assert up["loss"] == pytest.approx(-math.log(O[1]), rel=1e-13)
    # ∂CE/∂X_k = O_k − l_k; ∂CE/∂γ_jk = (O_k − l_k) H_j
    dX = [o - t for o, t in zip(O, label, strict=True)]
    assert up["deltas"][1][0] == pytest.approx(dX, rel=1e-12)
    for k in range(3):
        assert up["grad_W"][1][k] == pytest.approx([dX[k] * h for h in H], rel=1e-12)
    for j in range(4):
        back = sum(dX[k] * gamma[k][j] for k in range(3))
        for i in range(3):
            g = back * H[j] * (1 - H[j]) * X[i]
            assert up["grad_W"][0][j][i] == pytest.approx(g, rel=1e-11, abs=1e-15)


def test_seed000_neuron_two_sgd_steps_closed_form(capsys):
    d = json_of("seed000_neuron", capsys)
    u1, u2 = d["updates"]
    # step 1: v = 0.5·1 − 0.375·2 + 0.25 = 0, y = ½, δ = y − d = −½, Δw = −μ δ x
    assert u1["forward"][0]["a"] == [[0.5]]
    assert u1["loss"] == pytest.approx(math.log(2), rel=1e-15)
    assert u1["deltas"] == [[[-0.5]]]
    assert u1["W"] == [[[0.75, 0.125]]] and u1["b"] == [[0.5]]
    # step 2 from the new weights: v = −0.75 + 0.125 + 0.5 = −0.125, target 0
    y = sig(-0.125)
    assert u2["samples"] == [1]
    assert u2["loss"] == pytest.approx(-math.log(1 - y), rel=1e-13)
    assert u2["deltas"] == [[[pytest.approx(y, rel=1e-14)]]]
    assert u2["W"][0][0] == pytest.approx([0.75 + 0.5 * y, 0.125 - 0.5 * y], rel=1e-14)
    assert u2["b"] == [[pytest.approx(0.5 - 0.5 * y, rel=1e-14)]]
    (q,) = d["query"]
    w1, w2 = u2["W"][0][0]
    out = sig(w1 + w2 + u2["b"][0][0])
    assert q["output"] == [pytest.approx(out, rel=1e-14)]
    assert q["class"] == (1 if out >= 0.5 else 0) == 1


# --------------------------------------------------------------------- the contract
def test_json_has_exactly_the_contract_keys_and_full_precision(capsys):
    d = json_of("seed004_1a", capsys)
    assert set(d) == {"format", "updates", "W", "b"}
    assert d["format"] == "glassnet.explain/1"
    assert set(d["updates"][0]) == {"epoch", "samples", "forward", "loss", "deltas", "grad_W",
                                    "grad_b", "W", "b"}
    assert set(d["updates"][0]["forward"][0]) == {"z", "a"}
    # full float64: the JSON number is the exact repr, not a rounded one
    loss = d["updates"][0]["loss"]
    assert len(repr(loss)) > 12 and float(repr(loss)) == loss


def test_batch_mean_loss_is_the_mean_and_gradients_are_averaged():
    base = {
        "network": {"layers": [1, 1], "activation": "linear", "weights": 1, "biases": "none"},
        "loss": "half_sse", "learning_rate": 0.5, "mode": "batch_mean",
        "samples": [{"x": [1], "t": [0]}, {"x": [3], "t": [0]}],
    }
    d = solve(parse_exercise(base)).to_dict()
    (up,) = d["updates"]
    # E = ½ mean(1², 3²) = 2.5; ∂E/∂w = mean(1·1, 3·3) = 5; w = 1 − 0.5·5 = −1.5
    assert up["loss"] == 2.5
    assert up["grad_W"] == [[[5.0]]] and d["W"] == [[[-1.5]]]
    assert up["deltas"] == [[[0.5], [1.5]]]  # δ carries 1/N
    base["mode"] = "batch"
    d = solve(parse_exercise(base)).to_dict()
    assert d["updates"][0]["loss"] == 5.0 and d["updates"][0]["grad_W"] == [[[10.0]]]


def test_frozen_biases_and_zero_learning_rate():
    ex = {
        "network": {"layers": [1, 1], "activation": "linear", "weights": 2, "biases": 1,
                    "update_biases": False},
        "loss": "sse", "learning_rate": 0.25, "mode": "sgd", "samples": [{"x": [1], "t": [0]}],
    }
    d = solve(parse_exercise(ex)).to_dict()
    # y = 3, E = 9, ∂E/∂y = 6 = δ, ∂E/∂w = 6, ∂E/∂b = 6 computed but b is fixed: the
    # contract's grad_b is the gradient applied (0), the computed one is grad_b_computed
    up = d["updates"][0]
    assert up["grad_b"] == [[0.0]] and up["grad_b_computed"] == [[6.0]]
    assert d["b"] == [[1.0]] and d["W"] == [[[0.5]]]
    ex["learning_rate"] = 0
    d = solve(parse_exercise(ex)).to_dict()
    assert d["W"] == [[[2.0]]] and d["updates"][0]["loss"] == 9.0


def test_initializer_weights_are_reproducible_by_seed():
    ex = {
        "network": {"layers": [3, 2], "activation": "tanh",
                    "weights": {"init": "glorot_uniform", "seed": 7}, "biases": 0},
        "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
        "samples": [{"x": [1, 2, 3], "t": [0, 1]}],
    }
    a = solve(parse_exercise(ex)).initial_W[0]
    b = solve(parse_exercise(ex)).initial_W[0]
    assert (a == b).all() and abs(a).max() <= math.sqrt(6 / 5) and len(set(a.ravel())) == 6


# --------------------------------------------------------------------- human formats
def test_text_starts_with_conventions_and_substitutes_numbers(capsys):
    assert main(["explain", str(EXAMPLES / "seed004_1b.yaml")]) == 0
    out = capsys.readouterr().out
    conv = out.index("Conventions")
    assert conv < out.index("Update 1")
    for key in ("loss", "reduction", "learning rate", "biases"):
        assert f"\n  {key} " in out[conv:out.index("Update 1")]
    assert "E = ½ Σₖ (yₖ − tₖ)²" in out
    assert "z₁⁽¹⁾ = w₁₁⁽¹⁾x₁ + w₁₂⁽¹⁾x₂ + b₁⁽¹⁾ = 0.5·1 + (−0.25)·0 + 0.1 = 0.6" in out
    assert "σ'(z₁⁽²⁾) = y₁(1 − y₁) = 0.524979·(1 − 0.524979) = 0.249376" in out
    assert "w₁₁⁽²⁾ ← 1 − 0.1·(−0.0764837) = 1.00765" in out
    assert "w₁₁⁽¹⁾ ← 0.5 − 0.1·(−0.0271015) = 0.50271" in out


def test_text_shows_enough_digits_to_see_a_tiny_update(capsys):
    assert main(["explain", str(EXAMPLES / "seed004_1a.yaml")]) == 0
    out = capsys.readouterr().out
    assert "w₁₁⁽¹⁾ ← 1 − 0.1·(−6.66406·10⁻⁵) = 1.00000666" in out


def test_decimals_option(capsys):
    assert main(["explain", str(EXAMPLES / "seed004_1b.yaml"), "--decimals", "3"]) == 0
    out = capsys.readouterr().out
    assert "a₁⁽¹⁾ = σ(z₁⁽¹⁾) = σ(0.6) = 0.646" in out
    assert "rounded to 3 decimals" in out
    assert main(["explain", str(EXAMPLES / "seed004_1b.yaml"), "--format", "json",
                 "--decimals", "3"]) == 2
    assert "full float64 precision" in capsys.readouterr().err


def test_markdown_uses_seed003_notation_and_bmatrix(capsys):
    assert main(["explain", str(EXAMPLES / "seed003_q1.yaml"), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# Seed 003, question 1")
    assert r"z^{[1]} = W^{[1]} x^{[0]} + b^{[1]}" in md
    assert r"\delta^{[1]} = \left(W^{[2]}\right)^T \delta^{[2]}" in md
    assert r"\begin{bmatrix} -0.113937 \\ 0.13437 \end{bmatrix}" in md
    assert r"\begin{bmatrix} 0.59438 \\ 0.477189 \end{bmatrix}" in md
    assert md.count("$$") % 2 == 0


def test_exact_zeros_left_as_float_noise_are_pointed_out(capsys):
    assert main(["explain", str(EXAMPLES / "seed003_q3.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.count("δ⁽²⁾ is 0 up to float64 rounding") == 2   # one per sample
    assert out.count("δ⁽¹⁾ is 0 up to float64 rounding") == 2
    assert main(["explain", str(EXAMPLES / "seed003_q2b.yaml")]) == 0
    assert "float64 rounding" not in capsys.readouterr().out


def test_solution_displays_itself_in_jupyter():
    sol = explain(str(EXAMPLES / "seed004_1a.yaml"))
    md = sol._repr_markdown_()
    assert md == sol.to_markdown() and r"\begin{bmatrix}" in md


def test_svg_and_html_are_well_formed(tmp_path, capsys):
    svg_path, html_path = tmp_path / "net.svg", tmp_path / "net.html"
    assert main(["explain", str(EXAMPLES / "seed003_q2b.yaml"), "--format", "html",
                 "-o", str(html_path), "--picture", str(svg_path)]) == 0
    root = ET.fromstring(svg_path.read_text(encoding="utf-8"))
    assert root.tag.endswith("svg")
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<sub>1</sub><sup>(1)</sup>" in page


def test_explain_options_that_do_not_fit_are_refused(capsys):
    f = str(EXAMPLES / "seed004_1a.yaml")
    for argv in (["--update", "2", "--format", "svg"], ["--update", "1"],
                 ["--weight", "W1[1,1]", "--format", "svg"], ["--decimals", "-1"]):
        assert main(["explain", f, *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("glassnet: error: ") and err.count("\n") == 1


def test_explain_and_check_stay_import_light():
    """No scikit-learn, matplotlib or tqdm behind `glassnet explain` / `check` (startup time)."""
    import subprocess
    import sys

    code = (
        "import sys, io, contextlib\n"
        "from glassnet.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['explain', {str(EXAMPLES / 'seed004_1a.yaml')!r}])\n"
        f"    main(['explain', {str(EXAMPLES / 'seed003_q2b.yaml')!r}, '--format', 'html'])\n"
        f"    main(['check', {str(EXAMPLES / 'seed004_1a.yaml')!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sklearn', 'matplotlib', 'tqdm', 'scipy', 'pandas'})\n"
        "print(','.join(heavy))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""
