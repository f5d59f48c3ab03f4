"""`glassnet generate`: variants valid, nice, reproducible, pairwise different; sheets and keys.

Independent truths: a plain NumPy forward pass written here (not the engine)
for saturation and dead units; the `glassnet explain --format json` output for
the keys; the YAML text of the written files for the decimals; pdflatex for
the LaTeX (skipped, with the reason, when no TeX engine is installed).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet.cli import main
from glassnet.exercise import load_exercise
from glassnet.grading.generate import (
    GenerateError,
    asked_names,
    generate_variants,
    load_template,
    parse_template,
    read_student_ids,
    write_variants,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "examples" / "teaching"
THREE = ("sigmoid_231", "relu_softmax_batch", "tanh_2hidden_mean")

SMALL = {"network": {"layers": [2, 2, 1], "activation": "sigmoid"}, "loss": "half_sse",
         "learning_rate": 0.5, "mode": "sgd"}


def _forward(W, b, x, acts):
    """Plain NumPy forward pass (independent of the engine): z per layer for one sample."""
    zs, a = [], np.asarray(x, dtype=float)
    for l, act in enumerate(acts):
        z = np.asarray(W[l], dtype=float) @ a + (0.0 if b is None else np.asarray(b[l]))
        zs.append(z)
        if act == "sigmoid":
            a = 1 / (1 + np.exp(-z))
        elif act == "tanh":
            a = np.tanh(z)
        elif act == "relu":
            a = np.maximum(z, 0)
        elif act == "softmax":
            e = np.exp(z - z.max())
            a = e / e.sum()
        else:
            a = z
    return zs


def _decimals(v) -> int:
    text = repr(float(v))
    return 0 if float(v).is_integer() else len(text.split(".")[1])


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = {}
    for name in THREE:
        folder = tmp_path_factory.mktemp(name)
        t = load_template(TEMPLATES / f"{name}.yaml")
        variants = generate_variants(t, count=20, seed=2026)
        write_variants(variants, str(folder), template_file=f"{name}.yaml", seed=2026)
        out[name] = (folder, variants)
    return out


@pytest.mark.parametrize("name", THREE)
def test_twenty_variants_valid_nice_and_different(generated, name):
    folder, variants = generated[name]
    assert len(variants) == 20
    signatures = set()
    for v in variants:
        path = folder / "exercises" / f"{v.id}.yaml"
        raw = yaml.safe_load(path.read_text())
        ex = load_exercise(path)  # valid input: the loader accepts it
        assert raw["variant"]["id"] == v.id
        net = raw["network"]
        numbers = [x for W in net["weights"] for row in W for x in row]
        numbers += [x for b in net["biases"] for x in b]
        numbers += [x for s in raw["samples"] for x in s["x"] + s["t"]]
        assert max(_decimals(x) for x in numbers) <= 2
        acts = [ex.activations[0]] * (len(ex.layers) - 1) if len(ex.activations) == 1 \
            else list(ex.activations)
        # every sample: no saturated sigmoid/tanh unit; every ReLU unit alive for some sample
        alive = [np.zeros(n, dtype=bool) for n in ex.layers[1:]]
        for x in ex.X:
            zs = _forward(net["weights"], net["biases"], x, acts)
            for l, (z, act) in enumerate(zip(zs, acts, strict=True)):
                if act in ("sigmoid", "tanh"):
                    assert np.abs(z).max() <= 4
                if act == "relu":
                    alive[l] |= z > 0
                    assert np.abs(z).min() >= 0.01 - 1e-12
        for l, act in enumerate(acts):
            if act == "relu":
                assert alive[l].all(), f"{v.id}: dead ReLU unit in layer {l + 1}"
        signatures.add(json.dumps([net["weights"], net["biases"], raw["samples"],
                                   raw["learning_rate"]]))
    assert len(signatures) == 20


@pytest.mark.parametrize("name", THREE)
def test_no_gradient_zero_by_accident(generated, name):
    _, variants = generated[name]
    for v in variants:
        for up in v.solution.updates:
            for lt in up.layers:
                live = np.abs(lt.x).max(axis=0) > 0
                assert np.abs(lt.grad_W[:, live]).min() >= 1e-3
                if lt.grad_b is not None and lt.update_bias:
                    assert np.abs(lt.grad_b).min() >= 1e-3


@pytest.mark.parametrize("name", THREE)
def test_same_seed_same_files_other_seed_other_numbers(generated, tmp_path, name):
    folder, _ = generated[name]
    t = load_template(TEMPLATES / f"{name}.yaml")
    write_variants(generate_variants(t, count=20, seed=2026), str(tmp_path),
                   template_file=f"{name}.yaml", seed=2026)
    for sub in ("exercises", "sheets", "answers"):
        for f in sorted((folder / sub).iterdir()):
            assert (tmp_path / sub / f.name).read_bytes() == f.read_bytes(), f.name
    other = generate_variants(t, count=20, seed=2027)
    assert sum(a.data["network"] != b.data["network"]
               for a, b in zip(other, generated[name][1], strict=True)) >= 18


def test_more_variants_extend_fewer():
    few = generate_variants(SMALL, count=3, seed=4)
    many = generate_variants(SMALL, count=8, seed=4)
    assert [v.data for v in few] == [v.data for v in many[:3]]


def test_a_student_keeps_their_variant_whatever_the_class():
    a = {v.id: v.data for v in generate_variants(SMALL, seed=9, students=["ann", "bob"])}
    b = {v.id: v.data for v in generate_variants(SMALL, seed=9,
                                                 students=["zoe", "carl", "ann"])}
    assert a["ann"] == b["ann"]
    assert a["ann"]["variant"]["student"] == "ann"
    assert a["ann"] != a["bob"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_any_seed_gives_reproducible_nice_distinct_variants(seed):
    t = parse_template(SMALL)
    first = generate_variants(t, count=4, seed=seed)
    again = generate_variants(t, count=4, seed=seed)
    assert [v.data for v in first] == [v.data for v in again]
    assert len({json.dumps(v.data["network"]) + json.dumps(v.data["samples"])
                for v in first}) == 4
    for v in first:
        W, b = v.data["network"]["weights"], v.data["network"]["biases"]
        for x in [s["x"] for s in v.data["samples"]]:
            for z in _forward(W, b, x, ["sigmoid", "sigmoid"]):
                assert np.abs(z).max() <= 4


def _explain_json(path, capsys) -> dict:
    assert main(["explain", str(path), "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _exact(doc: dict, name: str, update: int = 0) -> float:
    up = doc["updates"][update]
    if name == "loss":
        return up["loss"]
    kind, *idx = name.split("_")
    l, i = int(idx[0]) - 1, int(idx[1]) - 1
    j = int(idx[2]) - 1 if len(idx) > 2 else None
    return {"z": lambda: up["forward"][l]["z"][0][i], "a": lambda: up["forward"][l]["a"][0][i],
            "delta": lambda: up["deltas"][l][0][i], "dW": lambda: up["grad_W"][l][i][j],
            "db": lambda: up["grad_b"][l][i], "W": lambda: up["W"][l][i][j],
            "b": lambda: up["b"][l][i]}[kind]()


_ROW = re.compile(r"^\| \$.*\$ \| .* \| `([A-Za-z]+(?:_\d+)*)` \| (.*) \|$")


@pytest.mark.parametrize("name", THREE)
def test_keys_agree_with_explain_json_and_questions_hold_no_answers(generated, name, capsys):
    folder, variants = generated[name]
    for v in variants[:5]:
        doc = _explain_json(folder / "exercises" / f"{v.id}.yaml", capsys)
        key = (folder / "sheets" / f"{v.id}-key.md").read_text()
        question = (folder / "sheets" / f"{v.id}-question.md").read_text()
        qtex = (folder / "sheets" / f"{v.id}-question.tex").read_text()
        key_rows = {m.group(1): m.group(2) for m in map(_ROW.match, key.splitlines()) if m}
        q_rows = {m.group(1): m.group(2) for m in map(_ROW.match, question.splitlines()) if m}
        assert list(key_rows) == v.asked == list(q_rows)
        for n, text in key_rows.items():
            exact = _exact(doc, n)
            if exact == 0:  # an input that is 0 makes its weights' gradients 0
                assert text == "0" and n.startswith(("dW", "W")), (v.id, n, text)
            else:
                d = 5 - math.floor(math.log10(abs(exact)))  # six significant digits
                assert abs(float(text) - exact) <= 0.5 * 10.0 ** -d + 1e-15, (v.id, n, text)
            assert q_rows[n].strip() == ""
            if len(re.sub(r"[-.0]", "", text)) >= 3:  # a value no given number can equal
                assert text not in question and text not in qtex, (v.id, n, text)


@pytest.mark.parametrize("name", THREE)
def test_blank_answer_file_lists_the_asked_names(generated, name):
    folder, variants = generated[name]
    v = variants[0]
    blank = yaml.safe_load((folder / "answers" / f"{v.id}.yaml").read_text())
    assert blank["variant"] == v.id
    assert list(blank["answers"]["values"]) == v.asked
    assert all(value is None for value in blank["answers"]["values"].values())
    ex = load_exercise(folder / "exercises" / f"{v.id}.yaml")
    assert v.asked == asked_names(ex.layers, ex.raw["variant"]["ask"])


def test_fixed_parts_stay_fixed():
    template = {**SMALL, "network": {**SMALL["network"], "weights": [None, [[1, -1]]],
                                     "biases": [[0.1, 0.2], [0]]},
                "samples": [{"x": [1, 0.5], "t": [1]}]}
    variants = generate_variants(template, count=5, seed=1)
    for v in variants:
        assert v.data["network"]["weights"][1] == [[1, -1]]
        assert v.data["network"]["biases"] == [[0.1, 0.2], [0]]
        assert v.data["samples"] == [{"x": [1, 0.5], "t": [1]}]
    assert len({json.dumps(v.data["network"]["weights"][0]) for v in variants}) == 5


def test_ranges_decimals_values_and_ask_are_honoured():
    template = {**SMALL, "generate": {"weights": {"range": [-2, 2], "decimals": 2},
                                      "inputs": {"values": [1, 2]},
                                      "learning_rate": {"values": [0.1, 0.25]},
                                      "ask": ["loss", "W"]}}
    for v in generate_variants(template, count=10, seed=3):
        ws = [x for W in v.data["network"]["weights"] for row in W for x in row]
        assert all(-2 <= w <= 2 and round(w, 2) == w and w != 0 for w in ws)
        assert all(x in (1, 2) for s in v.data["samples"] for x in s["x"])
        assert v.data["learning_rate"] in (0.1, 0.25)
        assert v.asked == ["loss"] + [f"W_{l}_{i}_{j}" for l, n, m in ((1, 2, 2), (2, 1, 2))
                                      for i in range(1, n + 1) for j in range(1, m + 1)]


@pytest.mark.parametrize("gen, message", [
    ({"weigths": {}}, "generate.weigths: unknown key"),
    ({"weights": {"decimals": 3}}, "decimals: expected an integer 0..2"),
    ({"weights": {"range": [1, 0]}}, "range: expected [lo, hi] with lo < hi"),
    ({"weights": {"range": [0, 0.1], "decimals": 0, "nonzero": True}}, "fewer than 2"),
    ({"inputs": {"values": [0.125]}}, "more than 2 decimals"),
    ({"ask": ["delta", "x"]}, "unknown quantity 'x'"),
    ({"samples": 0}, "generate.samples: expected an integer 1..20"),
])
def test_bad_templates_are_refused_with_the_key(gen, message):
    with pytest.raises(GenerateError, match=re.escape(message)):
        parse_template({**SMALL, "generate": gen})


def test_impossible_constraints_name_the_reason():
    template = {**SMALL, "generate": {"weights": {"values": [3]}, "inputs": {"values": [1]},
                                      "attempts": 50}}
    with pytest.raises(GenerateError, match="saturated"):
        generate_variants(template, count=1, seed=0)


def test_a_template_that_fixes_everything_cannot_vary():
    template = {**SMALL, "network": {**SMALL["network"], "weights": 0.5, "biases": 0},
                "samples": [{"x": [1, 0], "t": [1]}]}
    with pytest.raises(GenerateError, match="fixes every number"):
        generate_variants(template, count=2, seed=0)


def test_student_ids(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("# class 3b\nann,Ann A.\nbob,Bob B.\n\n")
    assert read_student_ids(str(roster)) == ["ann", "bob"]
    with pytest.raises(GenerateError, match="more than once"):
        read_student_ids(None, "ann,bob,ann")
    with pytest.raises(GenerateError, match="file name"):
        read_student_ids(None, "ann,../x")


def test_cli_generate_and_errors(tmp_path, capsys):
    out = tmp_path / "class"
    assert main(["generate", str(TEMPLATES / "sigmoid_231.yaml"), "--students", "ann,bob",
                 "--seed", "3", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert [v["id"] for v in manifest["variants"]] == ["ann", "bob"]
    assert main(["explain", str(out / "exercises" / "ann.yaml")]) == 0
    capsys.readouterr()
    assert main(["generate", str(TEMPLATES / "sigmoid_231.yaml"), "--out", str(out)]) == 2
    assert "--count" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: {layers: [2, 1], activation: sigmoid}\nloss: half_sse\n"
                   "learning_rate: 0.1\nmode: sgd\ngenerate: {weights: {decimals: 5}}\n")
    assert main(["generate", str(bad), "--count", "2", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet: error:") and "decimals" in err and "Traceback" not in err


def test_loader_checks_the_variant_key(tmp_path, capsys):
    path = tmp_path / "ex.yaml"
    path.write_text("variant: [1, 2]\nnetwork: {layers: [2, 1], activation: sigmoid, "
                    "weights: 1, biases: 0}\nloss: half_sse\nlearning_rate: 0.1\nmode: sgd\n"
                    "samples: [{x: [1, 0], t: [1]}]\n")
    assert main(["explain", str(path)]) == 2
    assert "variant: expected a mapping" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="no TeX engine (pdflatex); CI installs it with apt-get install "
                           "--no-install-recommends texlive-latex-base")
@pytest.mark.parametrize("name", THREE)
def test_latex_sheets_compile(generated, name, tmp_path):
    folder, variants = generated[name]
    for kind in ("question", "key"):
        tex = folder / "sheets" / f"{variants[0].id}-{kind}.tex"
        assert tex.read_text().isascii()
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                               "-output-directory", str(tmp_path), str(tex)],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "TEXMFOUTPUT": str(tmp_path)})
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert (tmp_path / f"{tex.stem}.pdf").stat().st_size > 1000


def test_variants_are_valid_input_to_check_and_derive(generated, tmp_path, capsys):
    from glassnet.grading.sheets import answer_values

    folder, variants = generated["sigmoid_231"]
    v = variants[0]
    exercise = folder / "exercises" / f"{v.id}.yaml"
    values = answer_values(v.solution, v.asked)
    answers = tmp_path / "exact.yaml"
    answers.write_text(yaml.safe_dump({"student": "ann", "variant": v.id,
                                       "answers": {"values": {k: repr(x)
                                                              for k, x in values.items()}}}))
    assert main(["check", str(exercise), "--answers", str(answers)]) == 0
    capsys.readouterr()
    try:
        import glassnet.commands.derive  # noqa: F401
    except ImportError:
        pytest.skip("glassnet derive is not in this build")
    for name in THREE:
        folder, variants = generated[name]
        assert main(["derive", str(folder / "exercises" / f"{variants[0].id}.yaml")]) == 0
        capsys.readouterr()


@pytest.mark.parametrize("module", ["glassnet.grading.generate", "glassnet.grading.sheets",
                                    "glassnet.grading.policy", "glassnet.grading.grade"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


# ---------------------------------------------------------------- --out never loses a file
def _gen(out, *extra):
    return main(["generate", str(TEMPLATES / "sigmoid_231.yaml"), "--out", str(out), "--quiet",
                 *extra])


def test_regenerating_replaces_and_removes_only_its_own_files(tmp_path, capsys):
    out = tmp_path / "class"
    assert _gen(out, "--count", "5") == 0
    (out / "notes.txt").write_text("mine")
    assert _gen(out, "--count", "2", "--seed", "4") == 0
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted(["manifest.json", "notes.txt"] + [
        f"{d}/v0{i}{s}" for i in (1, 2) for d, s in (
            ("exercises", ".yaml"), ("answers", ".yaml"), ("sheets", "-question.md"),
            ("sheets", "-question.tex"), ("sheets", "-key.md"), ("sheets", "-key.tex"))])
    manifest = json.loads((out / "manifest.json").read_text())
    assert [v["id"] for v in manifest["variants"]] == ["v01", "v02"]
    seed4 = (out / "exercises" / "v01.yaml").read_text()
    assert "seed: 4" in seed4


@pytest.mark.parametrize("setup, message", [
    (lambda out: (out / "answers" / "v01.yaml").write_text("student: ann\nanswers: {}\n"),
     "answers/v01.yaml, which was changed since"),
    (lambda out: (out / "exercises" / "v09.yaml").write_text("mine"),
     "exercises/v09.yaml, which the previous 'glassnet generate' there did not write"),
    (lambda out: (out / "manifest.json").unlink(), "holds no manifest.json"),
])
def test_a_user_s_file_is_never_replaced_or_removed(tmp_path, capsys, setup, message):
    out = tmp_path / "class"
    assert _gen(out, "--count", "3") == 0
    setup(out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert _gen(out, "--count", "9") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_the_template_inside_the_folder_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "class"
    assert _gen(out, "--count", "2") == 0
    template = out / "exercises" / "v01.yaml"
    text = template.read_text()
    # v01.yaml is listed in the manifest and unchanged, but it is the template read now
    assert main(["generate", str(template), "--count", "1", "--out", str(out)]) == 2
    assert "TEMPLATE" in capsys.readouterr().err and template.read_text() == text


def test_samples_option_is_named_in_its_error(tmp_path, capsys):
    assert _gen(tmp_path / "c", "--count", "2", "--samples", "0") == 2
    err = capsys.readouterr().err
    assert "--samples: expected an integer 1..20, got 0" in err and "sigmoid_231" not in err


def test_a_generated_exercise_alone_is_valid_input_to_check(generated, tmp_path, capsys):
    folder, variants = generated["sigmoid_231"]
    exercise = folder / "exercises" / f"{variants[0].id}.yaml"
    assert main(["check", str(exercise)]) == 0
    out = capsys.readouterr().out
    assert "no answers to check" in out and f"answers/{variants[0].id}.yaml" in out
    blank = folder / "answers" / f"{variants[0].id}.yaml"
    assert main(["check", str(exercise), "--answers", str(blank)]) == 0
    other = tmp_path / "other.yaml"
    other.write_text(f"variant: {variants[1].id}\nanswers:\n  values:\n    loss: 0.1\n")
    assert main(["check", str(exercise), "--answers", str(other)]) == 2
    err = capsys.readouterr().err
    assert f"for variant '{variants[1].id}'" in err and f"is variant '{variants[0].id}'" in err
