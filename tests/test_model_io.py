"""Model directories: round trip, atomic replacement, and every kind of corruption."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from glassnet.errors import GlassnetError
from glassnet.model_io import ModelError, save_model
from glassnet.training import Classifier

load_model = Classifier.load


def trained(classes=("a", "b", "c"), dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((60, 6))
    y = rng.integers(0, len(classes), 60)
    clf = Classifier.build(6, list(classes), hidden=[5, 4], dtype=dtype, seed=seed,
                           image_shape=[2, 3], scaling="pixel / 255",
                           dataset={"name": "digits", "classes": None})
    clf.fit(X, y, epochs=3, batch_size=16, validation_split=0.2, progress=False)
    return clf, X


@pytest.mark.parametrize("classes", [("no", "yes"), ("a", "b", "c")])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_identical_predictions(tmp_path, classes, dtype):
    clf, X = trained(classes, dtype)
    clf.save(tmp_path / "m")
    back = Classifier.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.class_names == list(classes) and back.task == clf.task
    assert back.network.get_config() == clf.network.get_config()
    assert back.image_shape == (2, 3) and back.preprocessing["scaling"] == "pixel / 255"
    assert back.training["epochs_run"] == 3 and len(back.training["history"]) == 3
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["format"] == "glassnet-model" and doc["format_version"] == 1
    assert doc["conventions"]["weights"].startswith("W[l] has shape")


def test_replaces_existing_model_atomically(tmp_path):
    first, X = trained(seed=0)
    second, _ = trained(seed=1)
    save_model(first, tmp_path / "m")
    save_model(second, tmp_path / "m")
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict_proba(X),
                                  second.predict_proba(X))
    assert sorted(os.listdir(tmp_path)) == ["m"]  # no temporary or backup folder left


def test_failed_write_keeps_the_old_model(tmp_path, monkeypatch):
    first, X = trained(seed=0)
    second, _ = trained(seed=1)
    save_model(first, tmp_path / "m")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    from glassnet import fileio

    monkeypatch.setattr(fileio, "_write_all", broken)
    with pytest.raises(ModelError, match="No space left on device"):
        save_model(second, tmp_path / "m")
    monkeypatch.undo()
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict_proba(X),
                                  first.predict_proba(X))
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_never_replaces_something_that_is_not_a_model(tmp_path):
    clf, _ = trained()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "thesis.tex").write_text("precious")
    with pytest.raises(ModelError, match="refusing"):
        save_model(clf, tmp_path / "docs")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelError, match="a file is in the way"):
        save_model(clf, tmp_path / "file")
    (tmp_path / "empty").mkdir()
    save_model(clf, tmp_path / "empty")
    assert (tmp_path / "empty" / "model.json").is_file()
    assert (tmp_path / "docs" / "thesis.tex").read_text() == "precious"


@pytest.fixture
def model_dir(tmp_path):
    clf, _ = trained()
    save_model(clf, tmp_path / "m")
    return tmp_path / "m"


def edit_json(path, change):
    doc = json.loads((path / "model.json").read_text())
    change(doc)
    (path / "model.json").write_text(json.dumps(doc))


def edit_weights(path, change):
    with np.load(path / "weights.npz") as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    np.savez(path / "weights.npz", **arrays)


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(doc):
        for k in keys[:-1]:
            doc = doc[k]
        doc[keys[-1]] = value
    return change


CORRUPTIONS = [
    ("bad json", lambda p: (p / "model.json").write_text("{not json"), "not valid JSON"),
    ("json array", lambda p: (p / "model.json").write_text("[1]"), "JSON object"),
    ("NaN constant", lambda p: (p / "model.json").write_text(
        (p / "model.json").read_text().replace('"format_version": 1', '"format_version": NaN')),
     "not valid JSON"),
    ("binary junk", lambda p: (p / "model.json").write_bytes(b"\xff\xfe\x00"), "UTF-8"),
    ("missing key", lambda p: edit_json(p, lambda d: d.pop("class_names")),
     "missing key 'class_names'"),
    ("unknown key", lambda p: edit_json(p, _set("extra", 1)), "unknown key 'extra'"),
    ("wrong format", lambda p: edit_json(p, _set("format", "keras")), "format is 'keras'"),
    ("newer version", lambda p: edit_json(p, _set("format_version", 99)), "newer glassnet"),
    ("task mismatch", lambda p: edit_json(p, _set("task", "binary")), "task is 'binary'"),
    ("class count", lambda p: edit_json(p, _set("class_names", ["a", "b", "c", "d"])),
     "3 outputs for 4 classes"),
    ("duplicate classes", lambda p: edit_json(p, _set("class_names", ["a", "a", "c"])),
     "distinct"),
    ("bad layers", lambda p: edit_json(p, _set("network", "layers", "784")), "network.layers"),
    ("bad activation", lambda p: edit_json(p, _set("network", "activation",
                                                   ["relu", "relu", "nope"])),
     "unknown activation"),
    ("unknown network key", lambda p: edit_json(p, _set("network", "dropout", 0.5)),
     "unknown key 'dropout'"),
    ("wrong output", lambda p: edit_json(p, _set("network", "loss", "mse")), "cross_entropy"),
    ("n_features", lambda p: edit_json(p, _set("preprocessing", "n_features", 7)),
     "n_features"),
    ("image shape", lambda p: edit_json(p, _set("preprocessing", "image_shape", [3, 3])),
     "image_shape"),
    ("weights file", lambda p: edit_json(p, _set("weights", "file", "../x.npz")),
     "weights.file"),
    ("declared shape", lambda p: edit_json(p, _set("weights", "arrays", "W1", "shape", [1, 1])),
     "weights.arrays.W1"),
    ("missing model.json", lambda p: (p / "model.json").unlink(), "missing model.json"),
    ("missing weights", lambda p: (p / "weights.npz").unlink(), "missing weights.npz"),
    ("weights not zip", lambda p: (p / "weights.npz").write_bytes(b"garbage"),
     "not a valid .npz"),
    ("truncated weights", lambda p: (p / "weights.npz").write_bytes(
        (p / "weights.npz").read_bytes()[:200]), "weights.npz"),
    ("wrong shape", lambda p: edit_weights(p, lambda a: a.update(W1=a["W1"][:, :-1])),
     "W1 has shape"),
    ("wrong dtype", lambda p: edit_weights(p, lambda a: a.update(W1=a["W1"].astype("f8"))),
     "dtype float64"),
    ("nan weight", lambda p: edit_weights(p, lambda a: a["b2"].__setitem__(0, np.nan)),
     "b2 contains NaN"),
    ("missing array", lambda p: edit_weights(p, lambda a: a.pop("b3")), "lacks the array 'b3'"),
    ("extra array", lambda p: edit_weights(p, lambda a: a.update(W9=np.zeros(2))),
     "unexpected array 'W9'"),
    ("pickled array", lambda p: edit_weights(
        p, lambda a: a.update(W1=np.array([{"evil": 1}], dtype=object))), "safely"),
]


@pytest.mark.parametrize("name, corrupt, message", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_model_dirs(model_dir, name, corrupt, message):
    corrupt(model_dir)
    with pytest.raises(GlassnetError, match=message) as info:
        load_model(model_dir)
    assert str(model_dir) in str(info.value)


def test_missing_and_file_paths(tmp_path):
    with pytest.raises(ModelError, match="no such directory"):
        load_model(tmp_path / "nothing")
    (tmp_path / "f").write_text("x")
    with pytest.raises(ModelError, match="is not a directory"):
        load_model(tmp_path / "f")


# ------------------------------------------------------------------ fuzzing
def _mutate_json(value, rng, depth=0):
    """A random edit somewhere in a JSON document: drop, retype, enlarge or nest a value."""
    if isinstance(value, dict) and value and rng.random() < 0.7:
        key = list(value)[int(rng.integers(len(value)))]
        value = dict(value)
        if rng.random() < 0.15:
            del value[key]
        else:
            value[key] = _mutate_json(value[key], rng, depth + 1)
        return value
    if isinstance(value, list) and value and rng.random() < 0.7:
        i = int(rng.integers(len(value)))
        value = list(value)
        value[i] = _mutate_json(value[i], rng, depth + 1)
        return value
    choices = [None, True, 0, -1, 10**6, 10**30, 1e308, -0.0, 2.5, "", "relu", "x" * 50,
               [], {}, [1, 2], {"a": 1}, [[]], [100_000, 100_000], [10**9, 3]]
    return choices[int(rng.integers(len(choices)))]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    clf, _ = trained()
    path = tmp_path_factory.mktemp("pristine") / "m"
    save_model(clf, path)
    return (path / "model.json").read_text(), (path / "weights.npz").read_bytes()


def test_fuzzed_model_dirs_never_traceback(tmp_path, pristine):
    """400 mutated model folders (JSON edits, flipped, cut or grown weight bytes): every one
    loads or raises a GlassnetError, never another exception."""
    doc_text, weights = pristine
    rng = np.random.default_rng(2026)
    outcomes = {"loaded": 0, "refused": 0}
    for i in range(400):
        path = tmp_path / f"m{i}"
        path.mkdir()
        doc = json.loads(doc_text)
        blob = bytearray(weights)
        kind = i % 4
        if kind in (0, 3):
            for _ in range(int(rng.integers(1, 4))):
                doc = _mutate_json(doc, rng)
        if kind in (1, 3):
            for _ in range(int(rng.integers(1, 8))):
                blob[int(rng.integers(len(blob)))] = int(rng.integers(256))
        if kind == 2:
            cut = int(rng.integers(len(blob)))
            blob = blob[:cut] if rng.random() < 0.5 else blob + bytes(cut)
        (path / "model.json").write_text(json.dumps(doc))
        (path / "weights.npz").write_bytes(bytes(blob))
        try:
            Classifier.load(path)
            outcomes["loaded"] += 1
        except GlassnetError:
            outcomes["refused"] += 1
    print(f"\nfuzzed model folders: {outcomes}")
    assert outcomes["refused"] > 200 and sum(outcomes.values()) == 400
