"""``glassnet check``: ok / rounding / wrong per the documented rule, and the exit status."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.cli import main
from glassnet.exercise import explain, parse_exercise, solve
from glassnet.exercise.check import TOLERANCE, judge

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "exercises"
SEED004_1A = EXAMPLES / "seed004_1a.yaml"


def verdicts_by_label(report) -> dict[str, str]:
    return {v.label: v.verdict for v in report.verdicts}


# ------------------------------------------------------------ seed 004 1(a), the spec's case
def test_seed004_1a_own_answers_b1_wrong_w1_rounding_exit_1(capsys):
    code = main(["check", str(SEED004_1A)])
    out = capsys.readouterr().out
    assert code == 1
    report = explain(str(SEED004_1A)).check()
    v = verdicts_by_label(report)
    assert v["b₁⁽¹⁾"] == "wrong"          # 2.0000065 against 1.0000067
    assert v["w₁₁⁽¹⁾"] == "rounding"      # 1.0000065 against 1.00000666
    assert v["w₁₁⁽²⁾"] == "rounding"      # 1.00005 against 1.0000559 (−0.0005 by hand)
    assert v["b₁⁽²⁾"] == "ok"             # 1.00006 against 1.0000635: ok at 5 decimals
    assert v["w₁₂⁽¹⁾"] == "ok"            # unchanged: 1
    assert v["E"] == "rounding"           # 0.00034 against 0.000325667
    assert report.counts["wrong"] == 1
    line = next(x for x in out.splitlines() if x.startswith("b₁⁽¹⁾"))
    assert "2.0000065" in line and "wrong" in line


def test_seed004_1a_with_b1_corrected_exits_0(tmp_path, capsys):
    text = SEED004_1A.read_text(encoding="utf-8")
    assert text.count("[2.0000065,") == 1
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(text.replace("[2.0000065,", "[1.0000065,"), encoding="utf-8")
    assert main(["check", str(fixed)]) == 0
    out = capsys.readouterr().out
    assert "0 wrong: exit status 0" in out


def test_check_json_output(capsys):
    # grading.md: plain --format json is glassnet.check/2; version 1 stays one option away
    assert main(["check", str(SEED004_1A), "--format", "json", "--check-version", "1"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["format"] == "glassnet.check/1" and d["exit_status"] == 1
    assert d["rule"]["tolerance"] == TOLERANCE
    b1 = next(v for v in d["verdicts"] if v["path"] == "answers.b[0][0]")
    assert b1["verdict"] == "wrong" and b1["given"] == "2.0000065" and b1["name"] == "b1[1]"
    assert b1["exact"] == pytest.approx(1.0000066640624, rel=1e-12)
    assert b1["scale_kind"] == "update" and b1["relative_error"] > 1e5
    w1 = next(v for v in d["verdicts"] if v["path"] == "answers.W[0][0][0]")
    assert w1["verdict"] == "rounding" and 0.01 < w1["relative_error"] < 0.05
    assert sum(d["counts"].values()) == len(d["verdicts"])


def test_every_example_checks_as_its_answers_deserve(capsys):
    expected = {"seed004_1a.yaml": 1}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if "answers:" not in path.read_text(encoding="utf-8"):
            continue
        code = main(["check", str(path)])
        capsys.readouterr()
        assert code == expected.get(path.name, 0), path.name


def test_check_without_answers_is_bad_input(capsys):
    assert main(["check", str(EXAMPLES / "seed002_regression.yaml")]) == 2
    err = capsys.readouterr().err
    assert "no answers to check" in err and err.count("\n") == 1


def test_check_help_documents_the_rule(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    assert "half a unit of its last written digit" in out
    assert f"{TOLERANCE:.0%} of the scale" in out and "sign error" in out


# ------------------------------------------------------------------------- the rule itself
EXERCISE = {
    "network": {"layers": [2, 3, 1], "activation": "sigmoid",
                "weights": [[[0.5, -0.25], [0.5, -0.25], [0.5, -0.25]], [[1, -1, 0]]],
                "biases": 0.1},
    "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
    "samples": [{"x": [1, 0], "t": [1]}],
}


def check_one(answers: dict) -> list:
    ex = parse_exercise({**EXERCISE, "answers": answers})
    return solve(ex).check().verdicts


def exact_1b():
    return solve(parse_exercise(EXERCISE)).to_dict()["updates"][0]


def test_sign_error_in_the_update_is_wrong():
    up = exact_1b()
    w7, old = up["W"][1][0][0], 1.0
    flipped = old - (w7 - old)               # w + η·∂E/∂w
    (v,) = check_one({"W": [None, [[f"{flipped:.7f}", None, None]]]})
    assert v.verdict == "wrong" and "wrong sign" in v.note


def test_sign_error_in_a_value_is_wrong():
    up = exact_1b()
    d4 = up["deltas"][1][0][0]
    (v,) = check_one({"deltas": [None, [f"{-d4:.4f}"]]})
    assert v.verdict == "wrong" and "sign" in v.note


def test_forgotten_half_is_wrong():
    # E = (y − t)² instead of ½(y − t)²: loss and every gradient twice too large
    up = exact_1b()
    loss, g7 = up["loss"], up["grad_W"][1][0][0]
    w7 = 1 - 0.1 * 2 * g7
    vs = check_one({"loss": f"{2 * loss:.4f}", "grad_W": [None, [[f"{2 * g7:.4f}", None, None]]],
                    "W": [None, [[f"{w7:.6f}", None, None]]]})
    assert [v.verdict for v in vs] == ["wrong"] * 3
    assert all("twice" in v.note for v in vs)


def test_extra_half_is_wrong():
    up = exact_1b()
    g7 = up["grad_W"][1][0][0]
    vs = check_one({"grad_W": [None, [[f"{g7 / 2:.5f}", None, None]]],
                    "W": [None, [[f"{1 - 0.1 * g7 / 2:.7f}", None, None]]]})
    assert [v.verdict for v in vs] == ["wrong", "wrong"]
    assert all("half" in v.note for v in vs)


def test_written_precision_decides_ok():
    up = exact_1b()
    w1 = up["W"][0][0][0]                    # 0.50271015...
    assert check_one({"W": [[["0.5027", None], None, None], None]})[0].verdict == "ok"
    assert check_one({"W": [[["0.50271", None], None, None], None]})[0].verdict == "ok"
    # written with more digits than it has right: not ok, but a rounding slip
    v = check_one({"W": [[["0.502700", None], None, None], None]})[0]
    assert v.verdict == "rounding" and v.error == pytest.approx(w1 - 0.5027)


def test_moving_a_weight_that_does_not_change_is_wrong():
    vs = check_one({"W": [[[None, "-0.2473"], None, None], None]})   # w2: x2 = 0
    assert vs[0].verdict == "wrong" and vs[0].scale == 0


def test_digits_too_coarse_to_show_the_update_prove_nothing():
    # w1 = 0.5027 exactly; "1" is within ±0.5 of it, but cannot show the update 0.0027
    (v,) = check_one({"W": [[["1", None], None, None], None]})
    assert v.verdict == "wrong"
    # "0.5" is the old value: the update is missing
    (v,) = check_one({"W": [[["0.5", None], None, None], None]})
    assert v.verdict == "wrong" and "update is missing" in v.note
    # "0.503" resolves the update (±0.0005 < 0.0027) and is within it: ok
    (v,) = check_one({"W": [[["0.503", None], None, None], None]})
    assert v.verdict == "ok"


def test_query_class_and_output():
    ex = {**EXERCISE, "query": [[1, 0], [0, 1]],
          "answers": {"query": [{"class": 1, "output": 0.5358}, {"class": 0}]}}
    sol = solve(parse_exercise(ex))
    vs = {v.name: v for v in sol.check().verdicts}
    assert sol.queries[0].cls == 1 and vs["query1.class"].verdict == "ok"
    assert sol.queries[1].cls == 1 and vs["query2.class"].verdict == "wrong"
    y = sol.queries[0].output[0]
    assert vs["query1.y[1]"].verdict == ("ok" if abs(y - 0.5358) <= 5e-5 else "rounding")


@pytest.mark.parametrize("given, text, exact, scale, update, verdict", [
    (1.0000065, "1.0000065", 1.00000666406, 6.66406e-6, True, "rounding"),   # seed 004 w1
    (2.0000065, "2.0000065", 1.00000666406, 6.66406e-6, True, "wrong"),      # seed 004 b1
    (1.00005, "1.00005", 1.0000559052, 5.59052e-5, True, "rounding"),        # seed 004 w7
    (1.00006, "1.00006", 1.0000634711, 6.34711e-5, True, "ok"),              # seed 004 b4
    (1.0, "1", 1.0, 0.0, True, "ok"),                                        # seed 004 w2
    (0.00034, "0.00034", 0.000325667126, 0.000325667126, False, "rounding"),  # seed 004 loss
    (0.3, "0.3", 0.2, 0.2, False, "wrong"),        # 50 % off
    (0.24, "0.24", 0.2, 0.2, False, "rounding"),   # 20 % off
    (0.2, "0.2", 0.0, 0.0, False, "wrong"),        # exact 0: only the written digits excuse
    (0.04, "0.04", 0.0, 0.0, False, "wrong"),
    (0.0, "0", 1e-17, 1e-17, False, "ok"),         # an exact zero up to float64 rounding
])
def test_judge_table(given, text, exact, scale, update, verdict):
    assert judge(given, text, exact, scale, update=update)[0] == verdict


@settings(max_examples=200, deadline=None)
@given(exact=st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).filter(
    lambda x: abs(x) > 1e-6), digits=st.integers(min_value=1, max_value=10))
def test_correctly_rounded_answers_are_ok(exact, digits):
    text = f"{exact:.{digits}g}"
    assert judge(float(text), text, exact, abs(exact))[0] == "ok"


@settings(max_examples=200, deadline=None)
@given(old=st.floats(min_value=-5, max_value=5, allow_nan=False),
       step=st.floats(min_value=1e-6, max_value=1.0, allow_nan=False),
       sign=st.sampled_from([-1.0, 1.0]), kind=st.sampled_from(["flip", "double", "halve"]))
def test_sign_and_factor_two_slips_in_an_update_are_always_wrong(old, step, sign, kind):
    exact = old + sign * step
    factor = {"flip": -1.0, "double": 2.0, "halve": 0.5}[kind]
    given_value = old + factor * sign * step
    # full precision, and rounded to 2 digits of the step (as a careful hand answer would be)
    decimals = max(0, 2 - math.floor(math.log10(step)))
    for text in (repr(given_value), f"{given_value:.{decimals}f}"):
        assert judge(float(text), text, exact, step, update=True)[0] == "wrong"


@settings(max_examples=200, deadline=None)
@given(exact=st.floats(min_value=1e-4, max_value=1e3, allow_nan=False),
       rel=st.floats(min_value=-0.2, max_value=0.2))
def test_a_few_percent_off_is_rounding_not_wrong(exact, rel):
    given_value = exact * (1 + rel)
    text = repr(given_value)
    assert judge(given_value, text, exact, exact)[0] in ("ok", "rounding")
