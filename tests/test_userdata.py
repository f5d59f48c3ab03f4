"""The user's own data: train --data / --test-data, evaluate, predict; bad files refused.

Independent truths: the stored scaling is recomputed here with NumPy from the
rows that were (or were not) trained on; the held-out test rows are checked
against the class counts; predictions are compared with a forward pass
written out here from the saved weights; bad files are written by hand with
one known defect each, and the message must name that file, line and column.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from cli_run import run
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.data.errors import DataError
from glassnet.data.userdata import fit_standardizer, load_user_data, standardize
from glassnet.training import Classifier


def blobs(n_per_class=60, seed=0, offset=0.0):
    """Three separable classes in 3 features of very different units."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [3, 3, 0], [0, 3, 3]], dtype=float)
    X = np.concatenate([c + rng.normal(scale=0.6, size=(n_per_class, 3)) for c in centres])
    X = X * [1.0, 100.0, 0.01] + [0.0, 1000.0, 0.0] + offset
    y = np.repeat([4, 7, 9], n_per_class)  # labels need not be 0..k-1
    return X, y


def write_csv(path, X, y, header=True):
    with open(path, "w") as f:
        if header:
            f.write(",".join(f"f{j}" for j in range(X.shape[1])) + ",label\n")
        for row, label in zip(X, y, strict=True):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")
    return path


def forward(model_dir, X):
    """Probabilities from the saved files, computed here: standardize, ReLU layers, softmax."""
    doc = json.loads((model_dir / "model.json").read_text())
    pre = doc["preprocessing"]
    a = (X - np.array(pre["mean"])) / np.array(pre["scale"])
    with np.load(model_dir / "weights.npz") as w:  # W{l}: (units of l, units of l-1)
        n_layers = sum(k.startswith("W") for k in w.files)
        for layer in range(1, n_layers + 1):
            z = a @ w[f"W{layer}"].astype(float).T + w[f"b{layer}"].astype(float)
            a = np.maximum(z, 0) if layer < n_layers else z
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ round trips
def test_csv_round_trip_held_out_split(tmp_path, capsys):
    X, y = blobs()
    csv = write_csv(tmp_path / "d.csv", X, y)
    code, _, err = run(["train", "--data", csv, "--out", tmp_path / "m", "--epochs", "15",
                        "--hidden", "16", "--batch-size", "16"], capsys)
    assert code == 0, err
    assert "test accuracy" in err and "held out from" in err
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["class_names"] == ["4", "7", "9"]
    assert doc["preprocessing"]["scaling"] == "standardize"
    code, out, err = run(["evaluate", tmp_path / "m", "--format", "json"], capsys)
    assert code == 0, err
    m = json.loads(out)
    # 20 % of each class of 60, held out and never trained on: 12 + 12 + 12
    assert m["n"] == 36 and np.sum(m["confusion_matrix"], axis=1).tolist() == [12, 12, 12]
    assert m["accuracy"] > 0.9
    code, out2, _ = run(["evaluate", tmp_path / "m", "--data", csv, "--split", "train",
                         "--format", "json"], capsys)
    assert code == 0 and json.loads(out2)["n"] == 180 - 36
    # the stored scaling is the training rows' (all rows but the held-out ones)
    test_rows = _rows_of(X, tmp_path / "m", csv, capsys)
    train_rows = np.setdiff1d(np.arange(len(X)), test_rows)
    np.testing.assert_allclose(doc["preprocessing"]["mean"], X[train_rows].mean(axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(doc["preprocessing"]["scale"], X[train_rows].std(axis=0),
                               rtol=1e-12)
    assert not np.allclose(doc["preprocessing"]["mean"], X.mean(axis=0), rtol=1e-9)


def _rows_of(X, model_dir, csv, capsys):
    """Which rows evaluate --split test used: found by predicting every row one at a time."""
    model = Classifier.load(model_dir)
    from glassnet.commands.evaluate import load_user_labelled

    class A:
        data, test_data, dataset, classes, data_dir, split, model = \
            str(csv), None, None, None, None, "test", str(model_dir)
    test = load_user_labelled(model, A())
    rows = [int(np.flatnonzero((X == r).all(axis=1))[0]) for r in test.X]
    assert len(set(rows)) == len(rows) == 36
    return np.array(rows)


def test_npz_round_trip_with_test_file_and_predict(tmp_path, capsys):
    X, y = blobs(seed=1)
    Xt, yt = blobs(n_per_class=20, seed=2)
    np.savez(tmp_path / "train.npz", X=X, y=y)
    np.savez(tmp_path / "test.npz", X=Xt, y=yt)
    code, _, err = run(["train", "--data", tmp_path / "train.npz", "--test-data",
                        tmp_path / "test.npz", "--out", tmp_path / "m", "--epochs", "15",
                        "--hidden", "16", "--batch-size", "16", "--dtype", "float64"], capsys)
    assert code == 0, err
    code, out, _ = run(["evaluate", tmp_path / "m", "--test-data", tmp_path / "test.npz",
                        "--format", "json"], capsys)
    m = json.loads(out)
    assert code == 0 and m["n"] == 60
    # predict: the probabilities of a forward pass computed here from the saved files
    code, out, _ = run(["predict", tmp_path / "m", tmp_path / "test.npz", "--format", "json"],
                       capsys)
    assert code == 0
    preds = json.loads(out)["predictions"]
    p = np.array([[r["probabilities"][c] for c in ["4", "7", "9"]] for r in preds])
    np.testing.assert_allclose(p, forward(tmp_path / "m", Xt), rtol=1e-6, atol=1e-9)
    truth = np.searchsorted([4, 7, 9], yt)
    assert m["accuracy"] == pytest.approx(np.mean(p.argmax(axis=1) == truth))
    # --test-data is evaluated whole: a --split beside it is refused, not silently ignored
    code, _, err = run(["evaluate", tmp_path / "m", "--test-data", tmp_path / "test.npz",
                        "--split", "train"], capsys)
    assert code == 2 and "--split train does not apply to --test-data" in err


def test_scaling_learned_on_training_rows_only(tmp_path, capsys):
    """A test file far away (offset 500) must not move the stored mean: no leak."""
    X, y = blobs(seed=3)
    Xt, yt = blobs(n_per_class=30, seed=4, offset=500.0)
    np.savez(tmp_path / "train.npz", X=X, y=y)
    write_csv(tmp_path / "test.csv", Xt, yt, header=False)
    code, _, err = run(["train", "--data", tmp_path / "train.npz", "--test-data",
                        tmp_path / "test.csv", "--out", tmp_path / "m", "--epochs", "2",
                        "--quiet"], capsys)
    assert code == 0, err
    pre = json.loads((tmp_path / "m" / "model.json").read_text())["preprocessing"]
    np.testing.assert_allclose(pre["mean"], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(pre["scale"], X.std(axis=0), rtol=1e-12)
    leaked = np.concatenate([X, Xt]).mean(axis=0)
    assert np.all(np.abs(np.array(pre["mean"]) - leaked) > 50)


def test_scaling_none_and_constant_feature(tmp_path, capsys):
    X, y = blobs(seed=5)
    X[:, 2] = 7.0  # a constant column: centred, scale 1, no division by zero
    s = fit_standardizer(X)
    assert s["scale"][2] == 1.0 and s["mean"][2] == 7.0
    assert np.all(standardize(X, s)[:, 2] == 0)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    code, _, err = run(["train", "--data", tmp_path / "d.npz", "--scaling", "none", "--out",
                        tmp_path / "m", "--epochs", "1", "--quiet"], capsys)
    assert code == 0, err
    pre = json.loads((tmp_path / "m" / "model.json").read_text())["preprocessing"]
    assert pre["scaling"] == "none" and "mean" not in pre


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64),
                         min_size=3, max_size=3), min_size=2, max_size=12),
       st.integers(-5, 5))
def test_csv_numbers_read_back_exactly(tmp_path_factory, rows, label0):
    """Any finite float64 written with repr() is read back bit for bit; labels kept."""
    X = np.array(rows)
    y = (np.arange(len(X)) % 2) + label0
    path = write_csv(tmp_path_factory.mktemp("h") / "x.csv", X, y)
    d = load_user_data(path)
    np.testing.assert_array_equal(d.X, X)
    assert [d.class_names[i] for i in d.y] == [str(v) for v in y]


# ------------------------------------------------------------------- bad files
BAD_CSV = {
    "ragged": ("a,b,label\n1,2,0\n3,4\n5,6,1\n", "line 3: 2 columns"),
    "text": ("a,b,label\n1,2,0\n3,x4,1\n", "line 3, column 2 (b): 'x4' is not a number"),
    "nan": ("1,2,0\n3,nan,1\n", "line 2, column 2: nan is not a finite number"),
    "inf": ("1,2,0\n3,4,1\n-inf,1,0\n", "line 3, column 1: -inf is not a finite number"),
    "label": ("a,b,label\n1,2,0\n3,4,1.5\n", "line 3, column 3 (label): 1.5 is not an integer"),
    "empty_cell": ("1,2,0\n3,,1\n", "line 2, column 2: '' is not a number"),
    "header_only": ("a,b,label\n", "holds no rows"),
    "one_column": ("0\n1\n", "one column"),
    "semicolons": ("a;b;label\n1;2;0\n", "line 2: one column; expected features and a label"),
    "comment": ("1,2,0\n# note\n3,4,1\n", "line 2: 1 column; the first row has 3"),
    "underscore": ("1,2,0\n1_0,3,1\n", "line 2, column 1: '1_0' is not a number"),
}


@pytest.mark.parametrize("kind", sorted(BAD_CSV))
def test_bad_csv_names_file_line_column(tmp_path, capsys, kind):
    text, expected = BAD_CSV[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_text(text)
    code, _, err = run(["train", "--data", path, "--out", tmp_path / "m", "--quiet"], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.startswith("glassnet: error: --data ") and str(path) in err
    assert expected in err
    assert not (tmp_path / "m").exists()


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_bad_npz(tmp_path, capsys):
    X, y = blobs(n_per_class=5)
    cases = [
        (_npz(tmp_path / "noy.npz", X=X), "no array named 'y'; the file holds X"),
        (_npz(tmp_path / "nox.npz", features=X, y=y), "no array named 'X'"),
        (_npz(tmp_path / "nan.npz", X=np.where(np.arange(45).reshape(15, 3) == 10, np.nan, X),
              y=y), "X[3, 1] is nan"),
        (_npz(tmp_path / "float_labels.npz", X=X, y=y + 0.25), "y[0]: 4.25 is not an integer"),
        (_npz(tmp_path / "short_y.npz", X=X, y=y[:-1]), "one label per row of X (15)"),
        (_npz(tmp_path / "str_labels.npz", X=X, y=np.array(["a"] * 15)), "expected integers"),
        (_npz(tmp_path / "one_d.npz", X=X[:, 0], y=y), "X must be 2-D"),
    ]
    for path, expected in cases:
        code, _, err = run(["train", "--data", path, "--out", tmp_path / "m", "--quiet"],
                           capsys)
        assert code == 2 and str(path) in err and expected in err, (path, err)
    one = _npz(tmp_path / "one_class.npz", X=X, y=np.full(15, 3))
    code, _, err = run(["train", "--data", one, "--out", tmp_path / "m", "--quiet"], capsys)
    assert code == 2 and "at least 2 classes" in err


def test_pickled_object_array_refused_never_unpickled(tmp_path, capsys):
    """An object array inside an .npz needs pickle: refused, and the pickle never runs."""
    ran = tmp_path / "ran"

    class Boom:
        def __reduce__(self):
            return (open, (str(ran), "w"))

    X = np.empty((2, 1), dtype=object)
    X[0, 0], X[1, 0] = Boom(), 1
    np.savez(tmp_path / "evil.npz", X=X, y=np.array([0, 1]))
    code, _, err = run(["train", "--data", tmp_path / "evil.npz", "--out", tmp_path / "m",
                        "--quiet"], capsys)
    assert code == 2 and "it holds Python objects (a pickle), which glassnet never loads" in err
    assert not ran.exists()


def test_option_conflicts_and_limits(tmp_path, capsys):
    X, y = blobs(n_per_class=5)
    path = write_csv(tmp_path / "d.csv", X, y)
    for extra, expected in [(["--dataset", "mnist"], "replaces --dataset"),
                            (["--classes", "4,7"], "replaces --classes"),
                            (["--test-data", path, "--test-split", "0.3"], "one or the other"),
                            (["--test-split", "1.5"], "--test-split must be a number in (0, 1)")]:
        code, _, err = run(["train", "--data", path, "--out", tmp_path / "m", "--quiet",
                            *extra], capsys)
        assert code == 2 and expected in err, err
    code, _, err = run(["train", "--test-data", path, "--out", tmp_path / "m"], capsys)
    assert code == 2 and "--test-data goes with --data" in err
    code, _, err = run(["train", "--data", tmp_path / "d.txt", "--out", tmp_path / "m"], capsys)
    assert code == 2 and "no such file" in err
    (tmp_path / "d.txt").write_text("1,2\n")
    code, _, err = run(["train", "--data", tmp_path / "d.txt", "--out", tmp_path / "m"], capsys)
    assert code == 2 and "unsupported file type '.txt'" in err
    with pytest.raises(DataError, match="more than the 100 bytes"):
        load_user_data(path, max_bytes=100)
    tiny = write_csv(tmp_path / "tiny.csv", X[:2], [0, 1])
    code, _, err = run(["train", "--data", tiny, "--out", tmp_path / "m"], capsys)
    assert code == 2 and "too few" in err


def test_evaluate_refuses_a_changed_training_file(tmp_path, capsys):
    X, y = blobs(n_per_class=20)
    path = write_csv(tmp_path / "d.csv", X, y)
    assert run(["train", "--data", path, "--out", tmp_path / "m", "--epochs", "1", "--quiet"],
               capsys)[0] == 0
    write_csv(path, X[::-1], y[::-1])  # same rows, another order: the split would differ
    code, _, err = run(["evaluate", tmp_path / "m"], capsys)
    assert code == 2 and "not the file this model was trained on" in err
    code, out, _ = run(["evaluate", tmp_path / "m", "--test-data", path, "--format", "json"],
                       capsys)
    assert code == 0 and json.loads(out)["n"] == 60
    bad = tmp_path / "other.csv"
    write_csv(bad, X[:, :2], y)
    code, _, err = run(["evaluate", tmp_path / "m", "--test-data", bad], capsys)
    assert code == 2 and "2 features per row but the model expects 3" in err
    write_csv(bad, X, np.where(y == 4, 5, y))
    code, _, err = run(["evaluate", tmp_path / "m", "--test-data", bad], capsys)
    assert code == 2 and "label 5 is not one of the training classes 4, 7, 9" in err


def test_stored_scaling_is_checked_on_load(tmp_path, capsys):
    X, y = blobs(n_per_class=10)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    assert run(["train", "--data", tmp_path / "d.npz", "--out", tmp_path / "m", "--epochs",
                "1", "--quiet"], capsys)[0] == 0
    path = tmp_path / "m" / "model.json"
    doc = json.loads(path.read_text())
    doc["preprocessing"]["scale"][1] = 0.0
    path.write_text(json.dumps(doc))
    code, _, err = run(["evaluate", tmp_path / "m"], capsys)
    assert code == 2 and "preprocessing.scale must be positive" in err
    assert math.isfinite(doc["preprocessing"]["mean"][0])
