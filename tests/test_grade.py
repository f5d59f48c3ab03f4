"""`glassnet grade`: a simulated class graded per variant, bad files as rows, the policy.

The students are simulated independently of the engine
(examples/teaching/simulate_class.py: NumPy hand calculations with rounding
and classic slips); the expectations come from what they did, and the
policy's scores are recomputed here from the documented formula.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from glassnet.cli import main
from glassnet.grading.generate import asked_names, generate_variants, write_variants
from glassnet.grading.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "teaching" / "sigmoid_231.yaml"
STUDENTS = {"ann": "exact", "ben": "rounding", "cai": "sign", "dee": "missing_fprime",
            "eve": "lazy", "fay": "malformed", "gus": "empty"}


def _simulator():
    spec = importlib.util.spec_from_file_location(
        "simulate_class", ROOT / "examples" / "teaching" / "simulate_class.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    from glassnet.grading.generate import load_template

    root = tmp_path_factory.mktemp("class")
    variants = generate_variants(load_template(TEMPLATE), seed=11, students=list(STUDENTS))
    write_variants(variants, str(root / "class"), seed=11)
    sim = _simulator()
    subs = root / "subs"
    subs.mkdir()
    asked = {}
    for v in variants:
        ex_path = root / "class" / "exercises" / f"{v.id}.yaml"
        exercise = yaml.safe_load(ex_path.read_text())
        asked[v.id] = asked_names(exercise["network"]["layers"], exercise["variant"]["ask"])
        kind = STUDENTS[v.id]
        exact = sim.exact_values(str(ex_path), asked[v.id]) if kind == "exact" else None
        (subs / f"{v.id}.yaml").write_text(sim.submission(kind, exercise, asked[v.id], v.id,
                                                          v.id, exact))
    return root, asked


def _grade(root, *extra, out="gb.csv", capsys=None):
    status = main(["grade", str(root / "class"), str(root / "subs"), "--out",
                   str(root / out), *extra])
    return status


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_class_is_graded_file_by_file(klass, capsys):
    root, asked = klass
    assert _grade(root, "--summary", str(root / "summary.json")) == 0
    printed = capsys.readouterr().out
    rows = _rows(root / "gb.csv")
    assert [r["student"] for r in rows] == sorted(STUDENTS)
    assert list(rows[0]) == ["student", "file", "variant", "ok", "carried", "rounding", "wrong",
                             "unanswered", "score", "mistakes", "error"]
    by = {r["student"]: r for r in rows}
    n = len(asked["ann"])
    assert by["ann"]["ok"] == str(n) and by["ann"]["score"] == "100"
    ben = by["ben"]
    assert ben["wrong"] == "0" and ben["unanswered"] == "0" and ben["score"] == "100"
    assert int(ben["ok"]) + int(ben["rounding"]) + int(ben["carried"]) == n
    assert "sign" in by["cai"]["mistakes"] and int(by["cai"]["wrong"]) > 0
    dee = by["dee"]
    assert "missing_fprime" in dee["mistakes"] and int(dee["carried"]) > 0
    eve = by["eve"]
    answered = sum(1 for a in asked["eve"] if a == "loss" or a[0] in "za")
    assert int(eve["unanswered"]) == n - answered
    assert float(eve["score"]) == pytest.approx(
        100 * (int(eve["ok"]) + int(eve["rounding"]) + int(eve["carried"])) / n, abs=0.05)
    for bad in ("fay", "gus"):
        assert by[bad]["error"] and by[bad]["score"] == ""
    assert "empty" in by["gus"]["error"]
    summary = json.loads((root / "summary.json").read_text())
    assert summary["submissions"] == 7 and summary["graded"] == 5 and summary["errors"] == 2
    ids = [m["id"] for m in summary["mistakes"]]
    assert "sign" in ids and "missing_fprime" in ids
    assert summary["most_wrong"] and "most frequent mistakes: " in printed
    assert "7 submissions: 5 graded, 2 with an error" in printed


def test_json_gradebook_is_strict_json(klass, capsys):
    root, _ = klass
    assert _grade(root, "--format", "json", out="gb.json") == 0
    capsys.readouterr()

    def no_constants(name):
        raise AssertionError(f"non-finite JSON constant {name}")

    doc = json.loads((root / "gb.json").read_text(), parse_constant=no_constants)
    assert doc["format"] == "glassnet.grade/1"
    assert [r["student"] for r in doc["rows"]] == sorted(STUDENTS)
    assert doc["summary"]["graded"] == 5


def test_each_file_is_graded_against_its_own_variant(klass, tmp_path, capsys):
    root, asked = klass
    ann = yaml.safe_load((root / "subs" / "ann.yaml").read_text())
    # ann's exact answers handed in under ben's variant: wrong there
    swapped = dict(ann, student="ann2", variant="ben")
    (tmp_path / "ann2.yaml").write_text(yaml.safe_dump(swapped))
    (tmp_path / "ghost.yaml").write_text(yaml.safe_dump(dict(ann, student="x", variant="v99")))
    # no variant key: found by the student id
    (tmp_path / "ann3.yaml").write_text(yaml.safe_dump({"student": "ann",
                                                        "answers": ann["answers"]}))
    assert main(["grade", str(root / "class"), str(tmp_path), "--out",
                 str(tmp_path / "gb.csv")]) == 0
    capsys.readouterr()
    by = {r["file"].split("/")[-1]: r for r in _rows(tmp_path / "gb.csv")}
    assert int(by["ann2.yaml"]["wrong"]) > 0 and by["ann2.yaml"]["variant"] == "ben"
    assert "v99" in by["ghost.yaml"]["error"]
    assert by["ann3.yaml"]["variant"] == "ann" and by["ann3.yaml"]["score"] == "100"
    # a single exercise file refuses answers for another variant
    assert main(["grade", str(root / "class" / "exercises" / "ben.yaml"),
                 str(root / "subs" / "ann.yaml"), "--out", str(tmp_path / "one.csv")]) == 0
    capsys.readouterr()
    assert "variant" in _rows(tmp_path / "one.csv")[0]["error"]


def test_policy_changes_scores_as_documented(klass, tmp_path, capsys):
    root, asked = klass
    policy = tmp_path / "policy.yaml"
    policy.write_text("points: {rounding: 0.5, carried: 0.25}\nweights: {loss: 3, 'W_*': 0}\n"
                      "scale: 10\ndecimals: 2\n")
    assert _grade(root, "--policy", str(policy), "--format", "json", out="gbp.json") == 0
    capsys.readouterr()
    doc = json.loads((root / "gbp.json").read_text())
    p = Policy.from_dict(yaml.safe_load(policy.read_text()))
    for row in doc["rows"]:
        if row["error"]:
            continue
        names = asked[row["variant"]]
        weights = {n: 3 if n == "loss" else 0 if n.startswith("W_") else 1 for n in names}
        # recompute from the per-name verdicts check v2 gives for this file
        from glassnet.exercise import load_exercise
        from glassnet.grading import check_answers, load_answers

        ex = load_exercise(root / "class" / "exercises" / f"{row['variant']}.yaml")
        report = check_answers(ex, load_answers(root / "subs" / f"{row['student']}.yaml")
                               .answers)
        verdicts = {v.name: v.verdict for v in report.verdicts}
        pts = {"ok": 1, "carried": 0.25, "rounding": 0.5, "wrong": 0}
        got = sum(weights[n] * pts.get(verdicts.get(n), 0) for n in names)
        assert row["score"] == pytest.approx(round(10 * got / sum(weights.values()), 2))
        assert p.score({n: verdicts.get(n, "unanswered") for n in names}) == row["score"]


@pytest.mark.parametrize("policy, message", [
    ("points: {great: 1}", "points.great: unknown verdict"),
    ("weights: {loss: -1}", "weights.loss: expected a number >= 0"),
    ("scales: 10", "scales: unknown key"),
    ("points: {ok: 0, carried: 0, rounding: 0}", "at least one verdict"),
])
def test_bad_policy_is_refused_before_grading(klass, tmp_path, capsys, policy, message):
    root, _ = klass
    path = tmp_path / "p.yaml"
    path.write_text(policy)
    out = tmp_path / "gb.csv"
    assert main(["grade", str(root / "class"), str(root / "subs"), "--out", str(out),
                 "--policy", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_exercise_or_out_is_exit_2_and_nothing_written(klass, tmp_path, capsys):
    root, _ = klass
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: {layers: [2, 1]}\n")
    out = tmp_path / "gb.csv"
    assert main(["grade", str(bad), str(root / "subs"), "--out", str(out)]) == 2
    assert "glassnet: error:" in capsys.readouterr().err and not out.exists()
    assert main(["grade", str(root / "class"), str(root / "subs"), "--out",
                 str(tmp_path / "missing" / "gb.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["grade", str(root / "class"), str(tmp_path / "empty-folder-missing"),
                 str(tmp_path / "nothing.yaml"), "--out", str(out)]) == 0
    assert "nothing.yaml: no such file" in capsys.readouterr().out


def test_a_missing_file_or_variant_never_stops_the_batch(klass, tmp_path, capsys):
    """grading.md: a bad file gets its row and never stops the batch: a submission that is
    not there, and a class folder with one variant's exercise file gone."""
    import shutil

    root, _ = klass
    out = tmp_path / "gb.csv"
    assert main(["grade", str(root / "class"), str(root / "subs" / "ann.yaml"),
                 str(tmp_path / "nothere.yaml"), "--out", str(out)]) == 0
    rows = {r["file"]: r for r in _rows(out)}
    assert rows[str(root / "subs" / "ann.yaml")]["score"] == "100"
    assert rows[str(tmp_path / "nothere.yaml")]["error"].endswith("no such file or folder")
    capsys.readouterr()
    broken = tmp_path / "class"
    shutil.copytree(root / "class", broken)
    (broken / "exercises" / "ben.yaml").unlink()
    assert main(["grade", str(broken), str(root / "subs"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = {r["student"]: r for r in _rows(out)}
    assert rows["ann"]["score"] == "100" and rows["ben"]["score"] == ""
    assert "ben.yaml: no such file" in rows["ben"]["error"]
    # every error line of the summary names its file
    for line in printed.splitlines():
        if line.startswith("error: "):
            assert str(root / "subs") in line, line


def test_a_lazy_sheet_or_one_answer_scores_low(tmp_path, capsys):
    """Coarse 0s and 1s prove nothing, and a plain exercise is scored over every quantity it
    has (docs/teaching.md), so neither a lazy sheet nor one right value passes."""
    lazy = ROOT / "examples" / "answers" / "seed004_1b_lazy.yaml"
    one = tmp_path / "one.yaml"
    one.write_text("answers:\n  values:\n    loss: 0.113\n")
    out = tmp_path / "gb.csv"
    assert main(["grade", str(ROOT / "examples" / "exercises" / "seed004_1b.yaml"), str(lazy),
                 str(one), "--out", str(out), "--quiet"]) == 0
    rows = {r["student"]: r for r in _rows(out)}
    # a 2-3-1 network with updated biases: 1 loss + 4 z + 4 a + 4 δ + 9 dW + 4 db + 9 W + 4 b
    total = 39
    assert rows["one"]["ok"] == "1" and float(rows["one"]["score"]) == round(100 / total, 1)
    assert int(rows["lazy"]["carried"]) == 0
    # only the gradients that are exactly 0 (x₂ = 0 and a unit of weight 0) are right
    assert float(rows["lazy"]["score"]) == round(100 * int(rows["lazy"]["ok"]) / total, 1) < 20


def test_student_ids_never_become_spreadsheet_formulas(tmp_path, capsys):
    sheet = tmp_path / "x.yaml"
    sheet.write_text('student: "=1+1"\nanswers:\n  values:\n    loss: 0.113\n')
    out = tmp_path / "gb.csv"
    assert main(["grade", str(ROOT / "examples" / "exercises" / "seed004_1b.yaml"), str(sheet),
                 "--out", str(out), "--quiet"]) == 0
    (row,) = _rows(out)
    assert row["student"] == "'=1+1"


def test_progress_bar_on_stderr(klass, capsys):
    root, _ = klass
    assert _grade(root, "--progress", "always", "--quiet") == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "grading" in captured.err


def test_multi_update_variants_are_graded_update_by_update(tmp_path, capsys):
    from glassnet.exercise import load_exercise, solve
    from glassnet.grading.generate import load_template
    from glassnet.grading.sheets import answer_values

    variants = generate_variants(load_template(TEMPLATE, samples=2), count=2, seed=3)
    write_variants(variants, str(tmp_path / "class"), seed=3)
    subs = tmp_path / "subs"
    subs.mkdir()
    for v in variants:  # v01 answers both updates, v02 only the first
        blank = yaml.safe_load((tmp_path / "class" / "answers" / f"{v.id}.yaml").read_text())
        sol = solve(load_exercise(tmp_path / "class" / "exercises" / f"{v.id}.yaml"))
        assert len(blank["answers"]["updates"]) == 2
        for u, entry in enumerate(blank["answers"]["updates"]):
            values = answer_values(sol, list(entry["values"]), u)
            entry["values"] = {k: (repr(x) if v.id == "v01" or u == 0 else None)
                               for k, x in values.items()}
        (subs / f"{v.id}.yaml").write_text(yaml.safe_dump(dict(blank, student=v.id)))
    assert main(["grade", str(tmp_path / "class"), str(subs), "--out",
                 str(tmp_path / "gb.csv")]) == 0
    capsys.readouterr()
    rows = {r["student"]: r for r in _rows(tmp_path / "gb.csv")}
    n = len(variants[0].asked)
    assert rows["v01"]["ok"] == str(2 * n) and rows["v01"]["score"] == "100"
    assert rows["v02"]["ok"] == str(n) and rows["v02"]["unanswered"] == str(n)
    assert rows["v02"]["score"] == "50"


def test_the_gradebook_in_docs_teaching_is_what_grade_writes(tmp_path, monkeypatch, capsys):
    """docs/teaching.md shows real output: regenerate its class and compare the gradebook."""
    doc = (ROOT / "docs" / "teaching.md").read_text()
    shown = doc.split("$ cat gradebook.csv\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    assert main(["generate", str(TEMPLATE), "--students", ",".join(STUDENTS), "--seed", "11",
                 "--out", "class", "--quiet"]) == 0
    assert _simulator().main(["class", "submissions"]) == 0
    assert main(["grade", "class", "submissions", "--out", "gradebook.csv", "--quiet"]) == 0
    capsys.readouterr()
    assert (tmp_path / "gradebook.csv").read_text() == shown
