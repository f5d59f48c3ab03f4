"""check version 2: answers files, names, the JSON contract, the CLI, notebooks (grading.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.cli import main
from glassnet.errors import GlassnetError
from glassnet.exercise import load_exercise, parse_exercise
from glassnet.grading import AnswerSheet, CheckReport2, check_answers, load_answers

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SEED004_1B = EXAMPLES / "exercises" / "seed004_1b.yaml"
MAZUR = EXAMPLES / "exercises" / "mazur_222.yaml"

ONE_LAYER = {
    "network": {"layers": [2, 1], "activation": "sigmoid", "weights": [[[0.5, -0.25]]],
                "biases": 0.1},
    "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
    "samples": [{"x": [1, 0], "t": [1]}, {"x": [0, 1], "t": [0]}],
}


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_answers_file_yaml_and_json_give_the_same_report(tmp_path):
    y = write(tmp_path, "ann.yaml", "student: ann\nvariant: v01\nanswers:\n  values:\n"
                                    "    loss: 0.113\n    W_2_1_1: 1.0077\n    b_2_1: 0.2\n")
    j = write(tmp_path, "ann.json", json.dumps({"student": "ann", "answers": {"values": {
        "loss": 0.113, "W_2_1_1": 1.0077, "b_2_1": 0.2}}}))
    sheets = [load_answers(y), load_answers(j)]
    assert isinstance(sheets[0], AnswerSheet)
    assert (sheets[0].student, sheets[0].variant, sheets[0].source) == ("ann", "v01", str(y))
    reports = [check_answers(SEED004_1B, s) for s in sheets]
    assert [[v.verdict for v in r.verdicts] for r in reports] == [["ok", "rounding", "wrong"]] * 2
    assert isinstance(reports[0], CheckReport2) and reports[0].student == "ann"
    assert reports[0].exit_status == 1


def test_answers_file_replaces_the_exercise_s_own_answers(tmp_path, capsys):
    sheet = write(tmp_path, "s.yaml", "answers:\n  values:\n    a_2_1: 0.525\n")
    assert main(["check", str(SEED004_1B), "--answers", str(sheet)]) == 0
    out = capsys.readouterr().out
    assert "1 ok, 0 carried, 0 rounding, 0 wrong: exit status 0" in out


@pytest.mark.parametrize("text, message", [
    ("answers:\n  values:\n    w99: 1\n", "answers.values.w99: unknown name"),
    ("answers:\n  values:\n    W_3_1_1: 1\n", "answers.values.W_3_1_1: layer 3 does not exist"),
    ("answers:\n  values:\n    a_2_2: 1\n", "layer 2 has units 1..1, got 2"),
    ("answers:\n  values:\n    a_2_1: abc\n", "answers.values.a_2_1: expected a number"),
    ("answers:\n  values:\n    a_2_1: .nan\n", "finite"),
    ("student: ann\nanswer: {}\n", "answer: unknown key (did you mean 'answers'?)"),
    ("student: ann\n", "answers: missing"),
    ("answers: [1, 2]\n", "answers: expected a mapping"),
    ("answers:\n  values:\n    a_2_1: 1\n  a: [[0.5, 0.5, 0.5], [0.5]]\n", "answered twice"),
    ("answers: {values: {a_2_1: 1}\n", "not valid YAML"),
    ("", "the file is empty"),
])
def test_bad_answers_file_is_one_clear_line_and_exit_2(tmp_path, capsys, text, message):
    sheet = write(tmp_path, "bad.yaml", text)
    assert main(["check", str(SEED004_1B), "--answers", str(sheet)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet: error: ") and err.count("\n") == 1
    assert message in err and "Traceback" not in err
    assert "bad.yaml" in err


def test_load_answers_raises_a_glassnet_error(tmp_path):
    with pytest.raises(GlassnetError, match="unknown key"):
        load_answers(write(tmp_path, "x.yaml", "students: []\nanswers: {}\n"))


def test_json_is_glassnet_check_2_with_every_field(capsys):
    assert main(["check", str(EXAMPLES / "exercises" / "seed004_1a.yaml"), "--format",
                 "json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["format"] == "glassnet.check/2" and d["exit_status"] == 1
    assert set(d["counts"]) == {"ok", "carried", "rounding", "wrong"}
    assert sum(d["counts"].values()) == len(d["verdicts"])
    for v in d["verdicts"]:
        assert {"name", "given", "exact", "verdict", "accepted", "basis", "mistake",
                "note"} <= set(v)
        lo, hi = v["accepted"]
        assert lo <= hi and isinstance(v["basis"], str) and v["basis"]
    b1 = next(v for v in d["verdicts"] if v["name"] == "b_1_1")
    assert b1["verdict"] == "wrong" and b1["given"] == "2.0000065"
    assert not b1["accepted"][0] <= 2.0000065 <= b1["accepted"][1]
    w1 = next(v for v in d["verdicts"] if v["name"] == "W_1_1_1")
    assert w1["verdict"] == "rounding" and w1["accepted"][0] <= 1.0000065 <= w1["accepted"][1]
    assert w1["depends_on"] == ["dW_1_1_1"]


def test_version_1_stays_available(capsys):
    assert main(["check", str(EXAMPLES / "exercises" / "seed004_1a.yaml"),
                 "--check-version", "1", "--format", "json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["format"] == "glassnet.check/1" and "rule" in d


def test_every_verdict_s_interval_contains_the_answer_unless_wrong():
    report = check_answers(MAZUR, {"values": {"a_1_1": "0.6", "z_2_1": "1.12",
                                              "a_2_1": "0.754", "W_2_1_1": "0.359"}})
    for v in report.verdicts:
        inside = v.accepted[0] <= v.given_value <= v.accepted[1]
        assert inside == (v.verdict != "wrong"), (v.name, v.verdict, v.accepted)


def test_per_update_values_and_follow_through_across_updates():
    ex = parse_exercise(ONE_LAYER)
    exact = check_answers(ex, {"updates": [{"values": {"W_1_1_1": "0.6"}},
                                           {"values": {"z_1_1": "0.5", "W_1_1_1": "0.6"}}]})
    v = {(x.update, x.name): x for x in exact.verdicts}
    # update 1's W is wrong (0.6 for 0.5047); update 2 starts from it: z = 0.6·0 − 0.25·1 + b
    assert v[(1, "W_1_1_1")].verdict == "wrong"
    assert v[(2, "W_1_1_1")].verdict in ("carried", "wrong")
    with pytest.raises(GlassnetError, match="ambiguous"):
        check_answers(ex, {"values": {"loss": 0.1}})
    # top-level W means the final parameters
    final = check_answers(ex, {"values": {"W_1_1_1": "0.6"}})
    assert final.verdicts[0].update == 2


def test_carried_through_the_next_update():
    ex = parse_exercise({**ONE_LAYER, "learning_rate": 0.5})
    # the student's first update gives b = 0.3 (wrong); their second z uses it
    from glassnet.exercise import solve

    sol = solve(ex)
    W_after_1 = sol.updates[0].layers[0].W_after
    z2 = float(W_after_1[0] @ [0, 1] + 0.3)
    report = check_answers(ex, {"updates": [{"values": {"b_1_1": "0.3"}},
                                            {"values": {"z_1_1": f"{z2:.6f}"}}]})
    assert [v.verdict for v in report.verdicts] == ["wrong", "carried"]
    assert report.verdicts[1].depends_on == ["update 1: b_1_1"]


def test_text_and_notebook_tables():
    report = check_answers(EXAMPLES / "exercises" / "seed004_1a.yaml")
    text = report.to_text()
    assert "5 ok, 0 carried, 18 rounding, 1 wrong: exit status 1" in text
    line = next(x for x in text.splitlines() if x.startswith("b₁⁽¹⁾′"))
    assert "2.0000065" in line and "wrong" in line
    md = report._repr_markdown_()
    assert md.count("\n| ") == len(report.verdicts) + 1 and len(md) < 20000
    html = report._repr_html_()
    assert html.count("<tr>") == len(report.verdicts) + 1 and "<table>" in html
    assert "wrong" in repr(report) and len(repr(report)) < 200


def test_chain_rule_displays_as_a_table():
    from glassnet.exercise import explain

    chain = explain(str(SEED004_1B)).chain("W1[1,1]")
    md = chain._repr_markdown_()
    assert "| update | sample | path | factors | product |" in md and "-0.0271015" in md
    assert "<table>" in chain._repr_html_() and len(repr(chain)) < 100


def test_markdown_format_option(capsys):
    assert main(["check", str(MAZUR), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.count("| ok |") == 17


def test_query_answers_are_judged():
    ex = parse_exercise({**ONE_LAYER, "query": [[1, 0]],
                         "answers": {"query": [{"class": 1, "output": 0.6}]}})
    report = check_answers(ex)
    assert [v.name for v in report.verdicts] == ["query_1_y_1", "query_1_class"]
    assert report.verdicts[1].verdict == "ok"


def test_exercise_may_be_a_path_an_exercise_or_a_solution():
    from glassnet.exercise import solve

    ex = load_exercise(SEED004_1B)
    a = check_answers(SEED004_1B).to_dict()
    b = check_answers(ex).to_dict()
    c = check_answers(solve(ex)).to_dict()
    assert a["verdicts"] == b["verdicts"] == c["verdicts"]


def test_formula_answers(tmp_path):
    ex = parse_exercise({**ONE_LAYER, "answers": {"formulas": {
        "delta_1_1": "(a_1_1 - t_1)*a_1_1*(1 - a_1_1)"}}})
    report = check_answers(ex)
    try:
        import glassnet.derive.formula_check  # noqa: F401
    except ImportError:
        assert report.notes and "formula" in report.notes[0] and report.verdicts == []
        return
    (v,) = report.verdicts
    assert v.kind == "formula" and v.verdict == "ok" and report.exit_status == 0
    json.dumps(report.to_dict(), allow_nan=False)
    slip = check_answers(ex, {"formulas": {"delta_1_1": "a_1_1 - t_1"}})
    (v,) = slip.verdicts
    assert v.verdict == "wrong" and v.mistake == "missing_fprime" and slip.exit_status == 1


@pytest.mark.parametrize("module", ["glassnet.grading.check", "glassnet.grading.answers",
                                    "glassnet.grading.followthrough", "glassnet.grading.rounding",
                                    "glassnet.grading.mistakes", "glassnet.misconceptions"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


@settings(max_examples=60, deadline=None)
@given(w=st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).filter(lambda x: abs(x) > 1e-6),
       digits=st.integers(min_value=1, max_value=10))
def test_correctly_rounded_answers_are_ok(w, digits):
    # a linear unit with weight w and input 1: z = a = w exactly
    ex = parse_exercise({"network": {"layers": [1, 1], "activation": "linear",
                                     "weights": [[[w]]], "biases": 0.0},
                         "loss": "half_sse", "learning_rate": 0.0, "mode": "sgd",
                         "samples": [{"x": [1], "t": [0]}]})
    text = f"{w:.{digits}g}"
    (v,) = check_answers(ex, {"values": {"a_1_1": text}}).verdicts
    assert v.verdict == "ok", (text, w, v.basis)


@settings(max_examples=60, deadline=None)
@given(w=st.floats(min_value=0.01, max_value=100, allow_nan=False),
       factor=st.sampled_from([-1.0, 2.0, 0.5]), digits=st.integers(min_value=2, max_value=8))
def test_sign_and_factor_two_slips_without_earlier_answers_are_wrong(w, factor, digits):
    ex = parse_exercise({"network": {"layers": [1, 1], "activation": "linear",
                                     "weights": [[[w]]], "biases": 0.0},
                         "loss": "half_sse", "learning_rate": 0.0, "mode": "sgd",
                         "samples": [{"x": [1], "t": [0]}]})
    (v,) = check_answers(ex, {"values": {"a_1_1": f"{w * factor:.{digits}g}"}}).verdicts
    assert v.verdict == "wrong"


@pytest.mark.parametrize("args", [
    ["examples/exercises/seed004_1a.yaml"],
    ["examples/exercises/mazur_222.yaml"],
    ["examples/exercises/mazur_222.yaml", "--answers",
     "examples/answers/mazur_222_updated_weights.yaml"],
])
def test_docs_show_the_real_output(args, capsys, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    main(["check", *args])
    out = capsys.readouterr().out.rstrip()
    doc = (EXAMPLES.parent / "docs" / "check.md").read_text(encoding="utf-8")
    assert f"$ glassnet check {' '.join(args)}\n{out}\n```" in doc


# ------------------------------------------------------- accepted and the verdict agree
def _all_names(path):
    """Every canonical name of a one-update exercise with its exact value and old value."""
    from glassnet.exercise import solve

    ex = load_exercise(path)
    up = solve(ex).updates[0]
    out = {"loss": (float(up.loss), None)}
    for l, lt in enumerate(up.layers, start=1):
        for i in range(lt.W.shape[0]):
            out[f"z_{l}_{i + 1}"] = (float(lt.z[0, i]), None)
            out[f"a_{l}_{i + 1}"] = (float(lt.a[0, i]), None)
            out[f"delta_{l}_{i + 1}"] = (float(lt.delta[0, i]), None)
            out[f"db_{l}_{i + 1}"] = (float(lt.grad_b[i]), None)
            out[f"b_{l}_{i + 1}"] = (float(lt.b_after[i]), float(lt.b[i]))
            for j in range(lt.W.shape[1]):
                out[f"dW_{l}_{i + 1}_{j + 1}"] = (float(lt.grad_W[i, j]), None)
                out[f"W_{l}_{i + 1}_{j + 1}"] = (float(lt.W_after[i, j]), float(lt.W[i, j]))
    return ex, out


_NAMES = {p.name: _all_names(p) for p in (MAZUR, SEED004_1B)}


@st.composite
def _answer_sheets(draw):
    """A random student: for a random subset of names, the exact value rounded, cut off,
    scaled by a classic factor, nudged, or a lazy 0/1, written with 0..9 decimals."""
    which = draw(st.sampled_from(sorted(_NAMES)))
    ex, names = _NAMES[which]
    chosen = draw(st.lists(st.sampled_from(sorted(names)), min_size=1, max_size=12,
                           unique=True))
    values = {}
    for n in chosen:
        exact, before = names[n]
        kind = draw(st.sampled_from(["exact", "nudge", "factor", "lazy", "update"]))
        if kind == "nudge":
            x = exact * (1 + draw(st.floats(-0.6, 0.6))) + draw(st.floats(-0.05, 0.05))
        elif kind == "factor":
            x = exact * draw(st.sampled_from([-1.0, 2.0, 0.5]))
        elif kind == "lazy":
            x = float(draw(st.integers(0, 1)))
        elif kind == "update" and before is not None:
            x = before + (exact - before) * draw(st.sampled_from([-1.0, 0.0, 2.0, 0.5]))
        else:
            x = exact
        values[n] = f"{x:.{draw(st.integers(0, 9))}f}"
    return ex, values


@settings(max_examples=120, deadline=None)
@given(sheet=_answer_sheets())
def test_accepted_interval_and_verdict_are_one_rule(sheet):
    """grading.md: ``accepted`` is the interval that would have been accepted. A wrong answer
    never lies inside it, every other verdict's answer always does, and a 'why' that says
    'more than X' is never about a distance below X."""
    import re

    ex, values = sheet
    report = check_answers(ex, {"values": values})
    for v in report.verdicts:
        lo, hi = v.accepted
        inside = lo <= v.given_value <= hi
        assert inside == (v.verdict != "wrong"), (v.name, v.given, v.verdict, v.accepted,
                                                  v.basis)
        m = re.search(r"yours is (\S+) away, more than (\S+)", v.basis)
        if m:
            assert float(m.group(1)) >= float(m.group(2)), v.basis
        m = re.search(r"off by (\S+) \(.*?\), more than (\S+):", v.basis)
        if m:
            assert float(m.group(1)) >= float(m.group(2)), v.basis


def test_coarse_digits_prove_nothing_even_when_carried():
    """'0' for a gradient of −0.0765 is not carried, even though the student's own wrong
    a (1, from which every δ is 0) makes 0 the follow-through value; '0.000' is."""
    coarse = check_answers(SEED004_1B, {"values": {"a_2_1": "1", "dW_2_1_1": "0"}})
    fine = check_answers(SEED004_1B, {"values": {"a_2_1": "1", "dW_2_1_1": "0.000"}})
    assert [v.verdict for v in coarse.verdicts] == ["wrong", "wrong"]
    assert "too coarse" in coarse.verdicts[1].basis
    assert [v.verdict for v in fine.verdicts] == ["wrong", "carried"]


def test_cli_messages_name_the_right_file_and_refuse_what_they_cannot_read(tmp_path, capsys):
    assert main(["check", str(SEED004_1B), "--answers", str(tmp_path / "nonexist.yaml")]) == 2
    err = capsys.readouterr().err
    assert "answers file" in err and "nonexist.yaml: no such file" in err
    assert "exercise file" not in err
    named = write(tmp_path, "named.yaml", "answers:\n  values:\n    loss: 0.113\n")
    assert main(["check", str(SEED004_1B), "--answers", str(named), "--check-version",
                 "1"]) == 2
    assert "answers.values: check version 1 does not read" in capsys.readouterr().err
    under = write(tmp_path, "under.yaml", 'answers:\n  values:\n    loss: "1_000"\n')
    assert main(["check", str(SEED004_1B), "--answers", str(under)]) == 2
    assert "leave out the '_'" in capsys.readouterr().err


def test_a_two_sample_batch_averaged_gradient_is_named_batch_sum_mean():
    """With 2 samples, 'averaged where it is summed' is also 'a factor ½': the catalogue names
    the batch rule, which is what the exercise is about."""
    from glassnet.exercise import solve

    ex = parse_exercise({**ONE_LAYER, "mode": "batch", "learning_rate": 0.5})
    g = float(solve(ex).updates[0].layers[0].grad_W[0, 0])
    (v,) = check_answers(ex, {"values": {"dW_1_1_1": f"{g / 2:.6f}"}}).verdicts
    assert v.verdict == "wrong" and v.mistake == "batch_sum_mean"
    (v,) = check_answers(ex, {"values": {"dW_1_1_1": f"{2 * g:.6f}"}}).verdicts
    assert v.mistake == "factor_2"


@given(st.floats(min_value=0, max_value=1e308, allow_nan=False, exclude_min=True))
def test_more_than_figure_never_exceeds_the_distance(x):
    """The "more than X" of a wrong verdict's reason: 3 digits rounded down, subnormals too
    (a fuzzed answer of 5e-321 once divided by a 10**e that had underflowed to 0)."""
    from glassnet.grading.check import _down

    shown = float(_down(x))
    assert shown <= x and shown >= x * (1 - 1e-2) - 1e-323
