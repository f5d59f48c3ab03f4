"""No output option destroys an input, and huge numbers in data files are one clear message.

One rule (:func:`glassnet.fileio.refuse_overwriting_inputs`) for every command
that writes a file: an output that is one of the command's inputs, or lies
inside a glassnet model folder, is refused with exit status 2 before any work,
and the input is left byte for byte as it was. The command-level tests replace
the expensive step of each command (training, solving, grading, loading the
model) by a function that fails the test, so they also prove the refusal comes
first.

The second half: values too large for the numbers glassnet computes with, in
``--data``/``--test-data`` files, give one message naming the file, the line
(or array row) and the column, and NumPy never prints a RuntimeWarning.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassnet.cli import main
from glassnet.data.errors import DataError
from glassnet.data.userdata import (
    check_model_inputs,
    fit_standardizer,
    load_user_data,
    standardize,
)
from glassnet.fileio import FileWriteError, refuse_overwriting_inputs

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = ROOT / "examples" / "exercises" / "seed004_1b.yaml"
ANSWERS = ROOT / "examples" / "answers" / "seed004_1b_lazy.yaml"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv(path: Path, rows: int = 30, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    lines = [f"{a:.4f},{b:.4f},{i % 3}" for i, (a, b) in enumerate(rng.normal(size=(rows, 2)))]
    path.write_text("x1,x2,label\n" + "\n".join(lines) + "\n")
    return path


def _fake_model(folder: Path) -> Path:
    """A folder that says it is a glassnet model (all the rule looks at)."""
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps({"format": "glassnet-model",
                                                   "format_version": 1}))
    (folder / "weights.npz").write_bytes(b"PK\x05\x06" + bytes(18))
    return folder


def _forbid(monkeypatch, target: str, what: str) -> None:
    """Replace ``target`` (module.attr) by a function that fails the test if called."""
    def refused_too_late(*args, **kwargs):
        raise AssertionError(f"{what} started before the output file was refused")

    module, _, attr = target.rpartition(".")
    monkeypatch.setattr(f"{module}.{attr}", refused_too_late)


def _setup(tmp: Path) -> None:
    shutil.copy(EXERCISE, tmp / "self.yaml")
    (tmp / "s").mkdir()
    shutil.copy(ANSWERS, tmp / "s" / "a.yaml")
    _csv(tmp / "d.csv")
    _csv(tmp / "t.csv", seed=1)
    (tmp / "h.jsonl").write_text('{"epoch": 0, "loss": 1.0}\n')
    _fake_model(tmp / "m")


TRAIN = ["train", "--data", "d.csv", "--out", "new_model", "--quiet", "--epochs", "1"]
FIT = "glassnet.training.Classifier.fit"
LOAD = "glassnet.training.Classifier.load"

# (command line, the input that must survive, the expensive step that must not start,
#  words the message must hold)
CASES = {
    "train --history = --data": (TRAIN + ["--history", "d.csv"], "d.csv", FIT,
                                 ["--history", "d.csv", "--data"]),
    "train --history = --test-data": (TRAIN + ["--test-data", "t.csv", "--history", "t.csv"],
                                      "t.csv", FIT, ["--history", "t.csv", "--test-data"]),
    "train --history in a model folder": (TRAIN + ["--history", "m/weights.npz"],
                                          "m/weights.npz", FIT, ["--history", "model folder"]),
    "train --history in its own --out": (
        ["train", "--data", "d.csv", "--out", "m", "--quiet", "--history", "m/h.jsonl"],
        "m/model.json", FIT, ["--history", "model folder"]),
    "train --plots into a model folder": (TRAIN + ["--plots", "m"], "m/model.json", FIT,
                                          ["--plots", "model folder"]),
    "explain -o = exercise": (["explain", "self.yaml", "-o", "self.yaml"], "self.yaml",
                              "glassnet.exercise.explain", ["--output", "self.yaml"]),
    "explain --picture = exercise": (["explain", "self.yaml", "--picture", "self.yaml"],
                                     "self.yaml", "glassnet.exercise.explain",
                                     ["--picture", "self.yaml"]),
    "explain --picture = -o": (["explain", "self.yaml", "--picture", "h.jsonl", "-o",
                                "h.jsonl"], "h.jsonl", "glassnet.exercise.explain",
                               ["--picture", "--output", "h.jsonl"]),
    "derive -o = exercise": (["derive", "self.yaml", "-o", "self.yaml"], "self.yaml",
                             "glassnet.derive.derive", ["--output", "self.yaml"]),
    "check -o = exercise": (["check", "self.yaml", "-o", "self.yaml"], "self.yaml",
                            "glassnet.exercise.loader.load_exercise", ["--output", "self.yaml"]),
    "check -o = --answers": (["check", "self.yaml", "--answers", "s/a.yaml", "-o", "s/a.yaml"],
                             "s/a.yaml", "glassnet.exercise.loader.load_exercise",
                             ["--output", "a.yaml", "--answers"]),
    "grade --out = submission": (["grade", "self.yaml", "s/a.yaml", "--out", "s/a.yaml"],
                                 "s/a.yaml", "glassnet.grading.grade.grade_command",
                                 ["--out", "a.yaml", "SUBMISSION"]),
    "grade --out = file in a submissions folder": (
        ["grade", "self.yaml", "s", "--out", "s/a.yaml"], "s/a.yaml",
        "glassnet.grading.grade.grade_command", ["--out", "a.yaml"]),
    "grade --summary = exercise": (["grade", "self.yaml", "s", "--out", "gb.csv", "--summary",
                                    "self.yaml"], "self.yaml",
                                   "glassnet.grading.grade.grade_command",
                                   ["--summary", "self.yaml", "EXERCISE"]),
    "export --out = the model's weights": (["export", "m", "--format", "safetensors", "--out",
                                            "m/weights.npz"], "m/weights.npz", LOAD,
                                           ["--out", "weights.npz", "model folder"]),
    "export --out new file in the model": (["export", "m", "--format", "onnx", "--out",
                                            "m/m.onnx"], "m/model.json", LOAD,
                                           ["--out", "m.onnx", "model folder"]),
    "plot --out = history file": (["plot", "history", "h.jsonl", "--out", "h.jsonl"],
                                  "h.jsonl", "glassnet.plots.plot_history",
                                  ["--out", "h.jsonl", "SOURCE"]),
    "plot --out = model.json": (["plot", "confusion", "m", "--out", "m/model.json"],
                                "m/model.json", LOAD, ["--out", "model.json"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_an_output_never_replaces_an_input(name, tmp_path, monkeypatch, capsys):
    argv, keep, expensive, words = CASES[name]
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    _forbid(monkeypatch, expensive, name.split()[0])
    before = {p: _digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("glassnet: error: ") and err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)
    assert _digest(tmp_path / keep) == before[tmp_path / keep]
    after = {p: _digest(p) for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # nothing written, nothing removed, nothing added
    assert not (tmp_path / "new_model").exists()


def test_a_distinct_output_is_written(tmp_path, monkeypatch, capsys):
    """The rule refuses only what it must: a new file next to the exercise is fine."""
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = _digest(tmp_path / "self.yaml")
    assert main(["explain", "self.yaml", "-o", "out.txt", "--picture", "net.svg"]) == 0
    assert (tmp_path / "out.txt").read_text().strip()
    assert (tmp_path / "net.svg").read_text().lstrip().startswith("<")
    assert _digest(tmp_path / "self.yaml") == before


def test_train_refuses_history_equal_to_data_before_loading(tmp_path, monkeypatch, capsys):
    """The QA case, end to end: the training data survive and no model is written."""
    data = _csv(tmp_path / "dd.csv")
    before = _digest(data)
    _forbid(monkeypatch, "glassnet.data.userdata.load_user_data", "loading --data")
    rc = main(["train", "--data", str(data), "--history", str(data), "--out",
               str(tmp_path / "m"), "--quiet"])
    assert rc == 2 and _digest(data) == before and not (tmp_path / "m").exists()
    assert "--history" in capsys.readouterr().err


def test_links_and_spellings_are_the_same_file(tmp_path):
    data = _csv(tmp_path / "d.csv")
    (tmp_path / "sub").mkdir()
    os.link(data, tmp_path / "hard.csv")
    os.symlink(data, tmp_path / "soft.csv")
    for spelled in (tmp_path / "sub" / ".." / "d.csv", tmp_path / "hard.csv",
                    tmp_path / "soft.csv"):
        with pytest.raises(FileWriteError, match="the same file as --data"):
            refuse_overwriting_inputs(spelled, [("--data", data)], "--history")
    assert refuse_overwriting_inputs(tmp_path / "h.jsonl", [("--data", data), None],
                                     "--history") == tmp_path / "h.jsonl"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["./", "sub/../", "sub/./../", "./sub/.."]), max_size=4),
       st.booleans())
def test_property_every_spelling_of_an_input_is_refused(tmp_path_factory, parts, via_link):
    """However the path is written (dots, detours, a symbolic link), an input is not an output."""
    tmp = tmp_path_factory.mktemp("spell")
    (tmp / "sub").mkdir()
    data = _csv(tmp / "d.csv")
    name = "d.csv"
    if via_link:
        os.symlink(data, tmp / "link.csv")
        name = "link.csv"
    spelled = str(tmp) + "/" + "".join(p if not p.endswith("..") else p + "/"
                                       for p in parts) + name
    with pytest.raises(FileWriteError, match="the same file as --data"):
        refuse_overwriting_inputs(spelled, [("--data", str(data))], "--history")
    # and the same spelling of a sibling is accepted: the rule is about the file, not the name
    assert refuse_overwriting_inputs(spelled.replace(name, "h.jsonl"), [("--data", str(data))],
                                     "--history").name == "h.jsonl"


def test_model_folder_rule(tmp_path):
    model = _fake_model(tmp_path / "m")
    (model / "sub").mkdir()
    with pytest.raises(FileWriteError, match="inside the glassnet model folder"):
        refuse_overwriting_inputs(model / "sub" / "x.onnx", [], "--out")
    # another program's model.json is not glassnet's: writing next to it is the user's call
    other = tmp_path / "other"
    other.mkdir()
    (other / "model.json").write_text('{"format": "keras"}')
    assert refuse_overwriting_inputs(other / "x.onnx", [], "--out").name == "x.onnx"
    # a model folder this command is about to write (it need not exist yet)
    with pytest.raises(FileWriteError, match=r"inside the model folder .*\(--out\)"):
        refuse_overwriting_inputs(tmp_path / "h.jsonl", [], "--history",
                                  model_folders=[("--out", tmp_path)])


def test_input_folders_and_special_files(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "a.yaml").write_text("answers: {}\n")
    # a new file in a folder that is read is fine; an existing one is not replaced
    assert refuse_overwriting_inputs(subs / "gb.csv", [("SUBMISSION", subs)], "--out")
    with pytest.raises(FileWriteError, match="already exists inside SUBMISSION"):
        refuse_overwriting_inputs(subs / "a.yaml", [("SUBMISSION", subs)], "--out")
    # a device is written directly, never compared (stdin and stdout may be one terminal)
    if os.path.exists("/dev/null"):
        assert refuse_overwriting_inputs("/dev/null", [("exercise file", "/dev/null")],
                                         "--output") == Path("/dev/null")
    with pytest.raises(FileWriteError, match="is a directory"):
        refuse_overwriting_inputs(subs, [], "--out")
    with pytest.raises(FileWriteError, match="does not exist"):
        refuse_overwriting_inputs(tmp_path / "nowhere" / "x.csv", [], "--out")


# ------------------------------------------------------------- huge numbers
F32_MAX = float(np.finfo(np.float32).max)


def _big_csv(path: Path, line: int, value: str) -> Path:
    """A --data CSV whose ``line`` (1-based, the header is line 1) starts with ``value``."""
    _csv(path)
    lines = path.read_text().splitlines()
    lines[line - 1] = value + "," + lines[line - 1].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("scaling", ["standardize", "none"])
def test_train_with_a_huge_value_names_file_line_and_column(tmp_path, capsys, scaling,
                                                             monkeypatch):
    big = _big_csv(tmp_path / "big.csv", 4, "1e300")
    _forbid(monkeypatch, FIT, "training")
    assert main(["train", "--data", str(big), "--scaling", scaling, "--out",
                 str(tmp_path / "m"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Warning" not in err, err
    assert f"--data {big}, line 4, column 1: 1e+300 is beyond" in err
    assert not (tmp_path / "m").exists()


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_evaluate_test_data_with_a_huge_value_is_one_message(tmp_path, capsys):
    """The QA case: a value of 1e300 in --test-data, a model trained on ordinary rows."""
    data = _csv(tmp_path / "d.csv", rows=30)
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "m"), "--quiet",
                 "--epochs", "1", "--hidden", "4"]) == 0
    capsys.readouterr()
    ext = _big_csv(tmp_path / "ext.csv", 2, "1e300")
    assert main(["evaluate", str(tmp_path / "m"), "--test-data", str(ext)]) == 2
    err = capsys.readouterr().err
    assert err == (f"glassnet: error: --test-data {ext}, line 2, column 1: 1e+300 is beyond "
                   f"±{F32_MAX:.3g}, the range of the model's float32 numbers (its inputs, "
                   "also in predict and ONNX): rescale this column, e.g. to other units\n")


def test_files_are_still_read_exactly(tmp_path):
    """The bound is the model's, not the reader's: a data file's numbers come back bit for bit."""
    big = _big_csv(tmp_path / "big.csv", 3, "1e300")
    assert load_user_data(big).X[1, 0] == 1e300


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_test_row_beyond_the_training_spread_is_refused_with_its_place(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    X[:, 0] = 5.0 + 1e-12 * rng.normal(size=20)  # an almost constant column: tiny scale
    np.savez(tmp_path / "train.npz", X=X, y=np.arange(20) % 2)
    X[7, 0] = 1e30  # fits float32 as it is, not once standardized (1e30 / 1e-12)
    np.savez(tmp_path / "test.npz", X=X, y=np.arange(20) % 2)
    scaler = fit_standardizer(load_user_data(tmp_path / "train.npz").X)
    test = load_user_data(tmp_path / "test.npz", what="--test-data")
    check_model_inputs(test, {}, np.float32, "--test-data")  # raw: fine
    with pytest.raises(DataError, match=r"--test-data .*test\.npz: X\[7, 0\]: 1e\+30 is too far"):
        check_model_inputs(test, scaler, np.float32, f"--test-data {test.path}")
    with pytest.raises(DataError, match=r"row 7, column 1"):
        standardize(test.X, scaler, np.float32)  # never an infinity in the model's inputs
    check_model_inputs(test, scaler, np.float64, "--test-data")  # float64 holds it


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
                  elements=finite))
def test_property_standardizer_is_finite_silent_and_right(X):
    """Any values a data file may hold: finite mean and scale, no warning, and the same as
    the textbook formula (Python's exact ``math.fsum``) wherever that does not overflow."""
    import math

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = fit_standardizer(X)
    assert all(math.isfinite(v) for v in s["mean"] + s["scale"])
    assert all(v > 0 for v in s["scale"])
    for j in range(X.shape[1]):
        col = [float(v) for v in X[:, j]]
        if max(abs(v) for v in col) > 1e150:
            continue  # the squares would overflow: only the finite result is checked
        # the reference on the column scaled by an exact power of two (so that neither the
        # squares of tiny values underflow nor those of large ones lose digits), scaled back
        e = math.frexp(max(abs(v) for v in col))[1] if any(col) else 0
        unit = [math.ldexp(v, -e) for v in col]
        m = math.fsum(unit) / len(unit)
        var = math.fsum((v - m) ** 2 for v in unit) / len(unit)
        mean = math.ldexp(m, e)
        scale = math.ldexp(math.sqrt(var), e) if var > 0 else 1.0
        tol = 1e-9 * max(abs(v) for v in col) + 1e-300
        assert abs(s["mean"][j] - mean) <= tol
        if scale != 1.0 and s["scale"][j] != 1.0:
            assert abs(s["scale"][j] - scale) <= 1e-7 * scale + tol


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_predict_huge_inputs_name_file_row_and_column(tmp_path, capsys):
    """The QA case ``predict mdef bigd.npy`` (1e39): never "values run from inf to inf"."""
    assert main(["train", "--dataset", "digits", "--epochs", "1", "--hidden", "4",
                 "--validation-split", "0", "--out", str(tmp_path / "m"), "--quiet"]) == 0
    X = np.zeros((3, 64))
    X[2, 5] = 1e39
    np.save(tmp_path / "big64.npy", X)
    with np.errstate(over="ignore"):
        np.save(tmp_path / "inf32.npy", X.astype(np.float32))  # 1e39 is inf in float32
    (tmp_path / "big.csv").write_text("0," * 63 + "1e400\n")  # inf once parsed
    for name, row, col in (("big64.npy", 2, 5), ("inf32.npy", 2, 5), ("big.csv", 0, 63)):
        capsys.readouterr()
        assert main(["predict", str(tmp_path / "m"), str(tmp_path / name)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"glassnet: error: {tmp_path / name}") and err.count("\n") == 1
        assert f"row {row}, column {col}" in err and "inf to inf" not in err, err
