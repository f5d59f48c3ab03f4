"""The exercise loader: valid files load; every kind of bad input is one clear line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.exercise import ExerciseError, load_exercise, parse_exercise
from glassnet.exercise.numbers import WrittenFloat, half_unit

VALID = """\
title: "2-3-1 sigmoid network, one SGD step"
network:
  layers: [2, 3, 1]
  activation: sigmoid
  weights: 1
  biases: 1
loss: half_sse
learning_rate: 0.1
mode: sgd
samples:
  - x: [1, 0]
    t: [1]
"""


def base() -> dict:
    return {
        "network": {"layers": [2, 3, 1], "activation": "sigmoid",
                    "weights": [[[0.5, -0.25], [0.5, -0.25], [0.5, -0.25]], [[1, -1, 0]]],
                    "biases": 0.1},
        "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
        "samples": [{"x": [1, 0], "t": [1]}],
    }


def run_cli(tmp_path: Path, text: str | bytes, capsys, name: str = "ex.yaml",
            command: str = "explain") -> tuple[int, str, str]:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    code = main([command, str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("glassnet: error: ")
    assert "Traceback" not in err
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])


# ---------------------------------------------------------------------------- valid input
def test_valid_yaml_loads_with_defaults(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text(VALID)
    ex = load_exercise(p)
    assert ex.layers == [2, 3, 1]
    assert ex.epochs == 1 and ex.update_biases is True
    assert ex.X.tolist() == [[1.0, 0.0]] and ex.T.tolist() == [[1.0]]
    assert ex.n_updates == 1 and ex.query is None and ex.answers is None
    assert ex.name == "2-3-1 sigmoid network, one SGD step"


def test_json_file_is_read_like_yaml(tmp_path):
    p = tmp_path / "ok.json"
    p.write_text(json.dumps(base()))
    ex = load_exercise(p)
    assert ex.weights[1].tolist() == [[1.0, -1.0, 0.0]]
    assert ex.biases == pytest.approx(0.1)


def test_weights_as_matrices_initializer_and_biases_none():
    d = base()
    d["network"]["weights"] = {"init": "glorot_uniform", "seed": 3}
    d["network"]["biases"] = "none"
    ex = parse_exercise(d)
    assert ex.weights == {"init": "glorot_uniform", "seed": 3}
    assert ex.biases is None
    d["network"]["biases"] = None
    assert parse_exercise(d).biases is None


def test_number_of_updates_per_mode():
    d = base()
    d["samples"] = [{"x": [1, 0], "t": [1]}, {"x": [0, 1], "t": [0]}]
    d["epochs"] = 3
    assert parse_exercise(d).n_updates == 6
    d["mode"] = "batch"
    assert parse_exercise(d).n_updates == 3
    assert parse_exercise(d).samples_per_update == 2


def test_yaml_numbers_follow_yaml_1_2_and_keep_their_written_text(tmp_path):
    # PyYAML's YAML 1.1 reads 1e-5 as text and 010 as octal 8; an exercise means numbers.
    text = VALID.replace("learning_rate: 0.1", "learning_rate: 1e-1").replace(
        "weights: 1", "weights: 010")
    text += "answers:\n  loss: 0.000330\n  b: [[1.00000670, 1e-5, \"2.50\"], [1]]\n"
    p = tmp_path / "n.yaml"
    p.write_text(text)
    ex = load_exercise(p)
    assert ex.learning_rate == 0.1
    assert ex.weights == 10.0
    loss = ex.answers["loss"]
    assert loss.text == "0.000330" and half_unit(loss.text) == pytest.approx(5e-7)
    b = ex.answers["b"][0]
    assert [a.text for a in b] == ["1.00000670", "1e-5", "2.50"]
    assert [a.value for a in b] == [1.0000067, 1e-5, 2.5]


def test_written_float_behaves_like_a_float():
    x = WrittenFloat("1.50")
    assert x == 1.5 and x.text == "1.50" and isinstance(x, float)
    assert np.array([x]).dtype == np.float64


def test_answers_scalar_broadcast_and_null_entries():
    d = base()
    d["answers"] = {"W": [0.5, None], "b": [[None, 0.1, "0.1000"], [0.112]]}
    ans = parse_exercise(d).answers
    assert [[a.value for a in row] for row in ans["W"][0]] == [[0.5, 0.5]] * 3
    assert ans["W"][1] is None
    assert ans["b"][0][0] is None and ans["b"][0][2].text == "0.1000"


# ---------------------------------------------------------------- bad input (the spec list)
@pytest.mark.parametrize("text, fragments", [
    # not valid YAML/JSON
    ("network: [1, 2\nloss: x\n", ["ex.yaml", "line", "not valid YAML"]),
    # unknown key, top level and nested, with a suggestion
    (VALID + "learning_rte: 0.5\n", ["learning_rte", "unknown key", "learning_rate"]),
    (VALID.replace("  biases: 1\n", "  biases: 1\n  bias: 2\n"),
     ["network.bias", "unknown key", "biases"]),
    (VALID.replace("    t: [1]\n", "    t: [1]\n    y: [1]\n"), ["samples[0].y", "unknown key"]),
    # a matrix of the wrong shape
    (VALID.replace("weights: 1", "weights: [[[1, 1], [1, 1], [1, 1]], [[1, 1]]]"),
     ["network.weights[1][0]", "expected 3 numbers", "1×3 matrix"]),
    (VALID.replace("weights: 1", "weights: [[[1, 1], [1, 1]], [[1, 1, 1]]]"),
     ["network.weights[0]", "3×2 matrix", "got 2 rows"]),
    (VALID.replace("weights: 1", "weights: [[[1, 1], [1, 1], [1, 1]]]"),
     ["network.weights", "one matrix per non-input layer (2)"]),
    (VALID.replace("biases: 1", "biases: [[1, 1], [1]]"), ["network.biases[0]", "3 numbers"]),
    # a non-finite number
    (VALID.replace("weights: 1", "weights: [[[1, .nan], [1, 1], [1, 1]], [[1, 1, 1]]]"),
     ["network.weights[0][0][1]", "finite number"]),
    (VALID.replace("learning_rate: 0.1", "learning_rate: .inf"), ["learning_rate", "finite"]),
    (VALID.replace("x: [1, 0]", "x: [1e999, 0]"), ["samples[0].x[0]", "finite"]),
    # a sample of the wrong length
    (VALID.replace("x: [1, 0]", "x: [1, 0, 1]"), ["samples[0].x", "expected 2 numbers"]),
    (VALID.replace("t: [1]", "t: [1, 0]"), ["samples[0].t", "expected 1 number"]),
    # missing keys, wrong types, unknown names
    (VALID.replace("mode: sgd\n", ""), ["mode", "missing"]),
    (VALID.replace("mode: sgd", "mode: stochastic"), ["mode", "sgd, batch, batch_mean"]),
    (VALID.replace("loss: half_sse", "loss: half_ssse"), ["loss", "half_sse"]),
    (VALID.replace("activation: sigmoid", "activation: sigmod"),
     ["network.activation", "did you mean 'sigmoid'"]),
    (VALID.replace("activation: sigmoid", "activation: [softmax, sigmoid]"),
     ["network.activation[0]", "only supported on the output layer"]),
    (VALID.replace("layers: [2, 3, 1]", "layers: [2, 0, 1]"), ["network.layers[1]", ">= 1"]),
    (VALID.replace("layers: [2, 3, 1]", "layers: [2]"), ["network.layers", "at least 2"]),
    (VALID.replace("learning_rate: 0.1", "learning_rate: -0.1"), ["learning_rate", ">= 0"]),
    (VALID.replace("learning_rate: 0.1", "learning_rate: fast"), ["learning_rate", "'fast'"]),
    (VALID.replace("weights: 1", "weights: true"), ["network.weights", "boolean"]),
    (VALID + "epochs: 0\n", ["epochs", ">= 1"]),
    (VALID + "epochs: 2.5\n", ["epochs", "integer"]),
    (VALID + "epochs: 100000000\n", ["epochs", "at most"]),
    (VALID + "query: [1, 0]\n", ["query", "list of input vectors"]),
    (VALID + "query: [[1, 0, 0]]\n", ["query[0]", "expected 2 numbers"]),
    (VALID.replace("  biases: 1\n", "  biases: 1\n  update_biases: maybe\n"),
     ["network.update_biases", "true or false"]),
    (VALID.replace("weights: 1", "weights: {init: glorot_uniformm}"),
     ["network.weights", "glorot_uniform"]),
    (VALID.replace("weights: 1", "weights: {init: normal, sd: 1}"), ["network.weights", "'sd'"]),
    (VALID + "learning_rate: 0.2\n", ["duplicate key 'learning_rate'"]),
    ("", ["ex.yaml", "empty"]),
    ("- 1\n- 2\n", ["expected a mapping"]),
    ("!!python/object/apply:os.system ['true']\n", ["not valid YAML"]),
])
def test_bad_input_is_one_line_with_file_path_and_expectation(tmp_path, capsys, text, fragments):
    code, out, err = run_cli(tmp_path, text, capsys)
    assert out == ""
    assert_one_line_error(code, err, *fragments)


@pytest.mark.parametrize("t, fragment", [
    ("[-0.5, 1.5, 0]", "entries >= 0"),
    ("[0.5, 0.4, 0]", "must sum to 1"),
])
def test_cross_entropy_targets_must_be_probability_vectors(tmp_path, capsys, t, fragment):
    text = (VALID.replace("layers: [2, 3, 1]", "layers: [2, 3, 3]")
            .replace("activation: sigmoid", "activation: [sigmoid, softmax]")
            .replace("loss: half_sse", "loss: cross_entropy").replace("t: [1]", f"t: {t}"))
    code, _, err = run_cli(tmp_path, text, capsys)
    assert_one_line_error(code, err, "samples[0].t", "cross_entropy", fragment)


def test_binary_cross_entropy_targets_must_lie_in_0_1(tmp_path, capsys):
    text = VALID.replace("loss: half_sse", "loss: binary_cross_entropy").replace("t: [1]",
                                                                                "t: [2]")
    code, _, err = run_cli(tmp_path, text, capsys)
    assert_one_line_error(code, err, "samples[0].t[0]", "between 0 and 1")


@pytest.mark.parametrize("content, fragment", [
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"network": 1, "network": 2}', "duplicate key 'network'"),
    (b'{"network": {"layers": [2, 1],}', "not valid JSON"),
    (b"[1, 2]", "expected a mapping"),
])
def test_bad_json_files(tmp_path, capsys, content, fragment):
    code, _, err = run_cli(tmp_path, content, capsys, name="ex.json")
    assert_one_line_error(code, err, "ex.json", fragment)


def test_json_nan_is_refused_with_its_key_path(tmp_path, capsys):
    d = base()
    d["learning_rate"] = float("nan")
    code, _, err = run_cli(tmp_path, json.dumps(d), capsys, name="ex.json")
    assert_one_line_error(code, err, "learning_rate", "finite")


@pytest.mark.parametrize("answers, fragments", [
    ({"W": [[[1, 1]], None]}, ["answers.W[0]", "3 entries"]),
    ({"b": [[1, 1, 1], [1, 2]]}, ["answers.b[1]", "1 entry"]),
    ({"loss": "about 0.1"}, ["answers.loss", "expected a number"]),
    ({"lost": 0.1}, ["answers.lost", "unknown key", "loss"]),
    ({"updates": [{}, {}]}, ["answers.updates", "1 update"]),
    ({"query": [{"class": 0}]}, ["answers.query", "no query points"]),
    ({"deltas": [[1, 2, 3]]}, ["answers.deltas", "one entry per non-input layer (2)"]),
])
def test_bad_answers(tmp_path, capsys, answers, fragments):
    d = base()
    d["answers"] = answers
    code, _, err = run_cli(tmp_path, json.dumps(d), capsys, name="ex.json", command="check")
    assert_one_line_error(code, err, *fragments)


def test_top_level_per_update_answer_is_ambiguous_with_several_updates():
    d = base()
    d["samples"] = [{"x": [1, 0], "t": [1]}, {"x": [0, 1], "t": [0]}]
    d["answers"] = {"loss": 0.1}
    with pytest.raises(ExerciseError, match=r"answers\.loss: this exercise has 2 updates"):
        parse_exercise(d, source="ex.yaml")
    d["answers"] = {"W": [0.5, 1]}  # final parameters: fine
    assert parse_exercise(d).answers["W"][1][0][0].value == 1


def test_network_without_biases_refuses_bias_answers():
    d = base()
    d["network"]["biases"] = "none"
    d["answers"] = {"b": [0, 0]}
    with pytest.raises(ExerciseError, match="no biases"):
        parse_exercise(d)


def test_overflow_in_the_computation_is_an_error_not_a_nan(tmp_path, capsys):
    text = (VALID.replace("activation: sigmoid", "activation: linear")
            .replace("weights: 1", "weights: 1e300").replace("x: [1, 0]", "x: [1e300, 0]"))
    code, out, err = run_cli(tmp_path, text, capsys)
    assert_one_line_error(code, err, "not finite")
    assert out == ""


def test_bad_file_in_a_real_process_prints_no_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(VALID.replace("x: [1, 0]", "x: [1, zero]"))
    r = subprocess.run([sys.executable, "-m", "glassnet", "explain", str(p)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "samples[0].x[1]" in r.stderr and "'zero'" in r.stderr


def test_missing_file_and_directory(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
