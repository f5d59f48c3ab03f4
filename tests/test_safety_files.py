"""Nothing lost, nothing silently wrong: user files, strict JSON, bounded reads, non-finite numbers.

Written from the classes of failure:

* a user's files are never deleted or overwritten: ``train --out`` on anything
  that is not a glassnet model folder exits 2 before training, every file intact
  (a property over random folder contents, plus the cases people hit);
* every write is all or nothing and a failing one is one clear error;
* JSON output never holds NaN or Infinity (a property over random documents);
* reads are bounded: a file larger than the limit, or a header claiming more
  than the file holds, is refused before the memory is allocated (checked under
  a low address-space limit in a subprocess);
* non-finite weights are never saved or predicted from, and a diverged run
  (with or without validation data) exits 2 without writing a model.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet import fileio
from glassnet.cli import main
from glassnet.errors import GlassnetError
from glassnet.fileio import (
    FileReadError,
    FileWriteError,
    NonFiniteJSONError,
    atomic_write_text,
    dumps_json,
    read_bytes_capped,
)
from glassnet.model_io import (
    LOCK_FILE,
    MODEL_FILES,
    ModelError,
    OutputDirError,
    check_output_dir,
    save_model,
)
from glassnet.training import Classifier

EXERCISE = Path(__file__).resolve().parents[1] / "examples" / "exercises" / "seed000_neuron.yaml"


def snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root`` (links not followed) with a hash of its content."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


GLASSNET_JSON = json.dumps({"format": "glassnet-model"})


def _tiny_model():
    return Classifier.build(6, ["a", "b"], hidden=[3], seed=0)


# ------------------------------------------------------------- user files survive
FOREIGN = {
    "thesis beside a model.json": {"model.json": GLASSNET_JSON, "thesis.tex": "precious",
                                   "src/main.c": "int main;"},
    "another tool's model.json": {"model.json": '{"format": "keras"}'},
    "a model.json that is not JSON": {"model.json": "hello"},
    "weights.npz alone": {"weights.npz": "mine"},
    "a glassnet model plus notes": {"model.json": GLASSNET_JSON, "weights.npz": "x",
                                    "notes.txt": "keep"},
    "a hidden file": {".git/HEAD": "ref"},
    "a folder named model.json": {"model.json/inner.txt": "x"},
}


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if training (or loading a dataset) starts."""
    def forbidden(*args, **kwargs):
        raise AssertionError("training started although --out was refused")
    import glassnet.data

    monkeypatch.setattr(Classifier, "fit", forbidden)
    monkeypatch.setattr(glassnet.data, "load_dataset", forbidden)


@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_train_out_refuses_a_folder_that_is_not_a_model(tmp_path, capsys, no_training, case):
    out = tmp_path / "out"
    for rel, text in FOREIGN[case].items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    before = snapshot(tmp_path)
    code = main(["train", "--dataset", "digits", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "refusing to replace it" in err and "Traceback" not in err
    assert snapshot(tmp_path) == before


def test_train_out_refuses_a_file_and_a_link_to_foreign_folder(tmp_path, capsys, no_training):
    (tmp_path / "file").write_text("x")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("keep")
    (tmp_path / "link").symlink_to(tmp_path / "docs")
    before = snapshot(tmp_path)
    for out, words in (("file", "a file is in the way"), ("link", "refusing"),
                       ("file/sub", "is a file")):
        code = main(["train", "--dataset", "digits", "--quiet", "--out", str(tmp_path / out)])
        err = capsys.readouterr().err
        assert code == 2 and words in err, err
    assert snapshot(tmp_path) == before


def test_a_link_to_a_model_folder_is_followed(tmp_path):
    save_model(_tiny_model(), tmp_path / "real")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    save_model(_tiny_model(), tmp_path / "link")
    assert (tmp_path / "link").is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["link", "real"]


def test_a_folder_changed_during_training_is_refused_at_save(tmp_path):
    out = tmp_path / "m"
    check_output_dir(out)  # fine before training ...
    out.mkdir()
    (out / "draft.md").write_text("written while the model trained")
    with pytest.raises(OutputDirError, match="draft.md"):
        save_model(_tiny_model(), out)  # ... refused at the save, nothing touched
    assert os.listdir(out) == ["draft.md"]


NAMES = st.sampled_from(["model.json", "weights.npz", LOCK_FILE, "thesis.tex", ".hidden",
                         "model.json.bak", "sub"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.sets(NAMES, max_size=4), glassnet_json=st.booleans())
def test_only_empty_or_glassnet_folders_are_replaced(tmp_path_factory, names, glassnet_json):
    """Property: a save replaces a folder iff it holds nothing but a glassnet model."""
    out = tmp_path_factory.mktemp("p") / "out"
    out.mkdir()
    for name in names:
        if name == "sub":
            (out / name).mkdir()
        elif name == "model.json":
            (out / name).write_text(GLASSNET_JSON if glassnet_json else '{"format": "x"}')
        else:
            (out / name).write_text("data")
    ours = set(names) <= set(MODEL_FILES) and (
        not names or names == {LOCK_FILE} or ("model.json" in names and glassnet_json))
    before = snapshot(out)
    try:
        save_model(_tiny_model(), out)
        replaced = True
    except OutputDirError:
        replaced = False
    assert replaced == ours
    if replaced:
        assert sorted(os.listdir(out)) == sorted(MODEL_FILES)
    else:
        assert snapshot(out) == before


def test_output_dir_not_writable(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(OutputDirError, match="not writable"):
        check_output_dir(tmp_path / "m")


# ---------------------------------------------------------------- atomic writes
def test_atomic_write_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.txt"
    path.write_text("old")

    def full(fd, data):
        os.write(fd, bytes(data)[:3])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio, "_write_all", full)
    with pytest.raises(FileWriteError, match="No space left on device .ENOSPC.; the previous"):
        atomic_write_text(path, "new content")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


def test_atomic_write_keeps_mode_follows_links_and_writes_devices(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("a")
    os.chmod(path, 0o640)
    atomic_write_text(path, "b")
    assert path.read_text() == "b" and (path.stat().st_mode & 0o777) == 0o640
    (tmp_path / "link").symlink_to(path)
    atomic_write_text(tmp_path / "link", "c")
    assert (tmp_path / "link").is_symlink() and path.read_text() == "c"
    atomic_write_text("/dev/null", "discarded")  # a device is written to, never replaced
    assert Path("/dev/null").is_char_device()
    with pytest.raises(FileWriteError, match="does not exist"):
        atomic_write_text(tmp_path / "no" / "f.txt", "x")
    with pytest.raises(FileWriteError, match="is a directory"):
        atomic_write_text(tmp_path, "x")


def test_explain_output_errors_exit_2(tmp_path, capsys, monkeypatch):
    code = main(["explain", str(EXERCISE), "-o", str(tmp_path / "missing" / "out.txt")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err
    target = tmp_path / "out.txt"
    target.write_text("previous")
    monkeypatch.setattr(fileio, "_write_all", lambda fd, data: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    code = main(["explain", str(EXERCISE), "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and "No space left" in err and "Traceback" not in err
    assert target.read_text() == "previous" and os.listdir(tmp_path) == ["out.txt"]


def test_history_file_is_strict_json_lines(tmp_path):
    from glassnet.training import History

    h = History([{"epoch": 0, "loss": float("nan"), "val_loss": float("inf"),
                  "val_accuracy": None, "seconds": 0.1}])
    h.write_jsonl(tmp_path / "h.jsonl")
    line = (tmp_path / "h.jsonl").read_text()
    assert json.loads(line, parse_constant=_no_constant) == {
        "epoch": 0, "loss": None, "val_loss": None, "val_accuracy": None, "seconds": 0.1}


# --------------------------------------------------------------------- strict JSON
def _no_constant(name):
    raise AssertionError(f"{name} in JSON output")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=20)


def _count_nonfinite(obj) -> int:
    if isinstance(obj, float):
        return 0 if np.isfinite(obj) else 1
    if isinstance(obj, dict):
        return sum(_count_nonfinite(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_count_nonfinite(v) for v in obj)
    return 0


@settings(max_examples=200, deadline=None)
@given(JSON_VALUES)
def test_dumps_json_never_emits_nan(value):
    bad = _count_nonfinite(value)
    replaced: list[str] = []
    text = dumps_json(value, nonfinite="null", replaced=replaced)
    json.loads(text, parse_constant=_no_constant)  # strict JSON
    assert len(replaced) == bad
    if bad:
        with pytest.raises(NonFiniteJSONError, match="JSON has no NaN"):
            dumps_json(value)
    else:
        assert json.loads(dumps_json(value)) == json.loads(json.dumps(value))


def test_dumps_json_numpy_values():
    text = dumps_json({"a": np.float32(0.5), "b": np.arange(3), "c": np.array([np.nan])},
                      nonfinite="null")
    assert json.loads(text) == {"a": 0.5, "b": [0, 1, 2], "c": [None]}


def test_evaluate_json_writes_null_and_a_note_for_nan(tmp_path, capsys, monkeypatch):
    model = tmp_path / "m"
    assert main(["train", "--dataset", "digits", "--classes", "0,1", "--hidden", "4",
                 "--epochs", "1", "--quiet", "--out", str(model)]) == 0
    real = Classifier.evaluate

    def with_nan(self, X, y):
        return {**real(self, X, y), "loss": float("nan")}

    monkeypatch.setattr(Classifier, "evaluate", with_nan)
    capsys.readouterr()
    assert main(["evaluate", str(model), "--format", "json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out, parse_constant=_no_constant)
    assert doc["loss"] is None and doc["notes"] == ["loss is not a finite number; written as null"]


# ------------------------------------------------------------------ bounded reads
def test_read_bytes_capped(tmp_path):
    with pytest.raises(FileReadError, match="larger than 1.0 KiB"):
        read_bytes_capped("/dev/zero", 1024, "exercise file")
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_bytes_capped(path, 100) == b"x" * 100
    with pytest.raises(FileReadError, match="it has 100 bytes"):
        read_bytes_capped(path, 99)
    with pytest.raises(FileReadError, match="no such file"):
        read_bytes_capped(tmp_path / "nothing", 10)
    with pytest.raises(FileReadError, match="is a directory"):
        read_bytes_capped(tmp_path, 10)


def _npy_header(shape, dtype="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body)))


def _png_header(width, height) -> bytes:
    """A PNG that says width x height (8-bit gray) and holds the first rows' data only."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(bytes(width + 1) * 4))
            + _png_chunk(b"IEND", b""))


def _write_oversized(folder: Path) -> None:
    """Small files whose headers claim gigabytes (what the subprocess below reads)."""
    save_model(Classifier.build(6, ["a", "b", "c"], hidden=[4], seed=0), folder / "m")
    doc = json.loads((folder / "m" / "model.json").read_text())
    doc["network"]["layers"] = [100_000, 100_000, 3]
    doc["preprocessing"]["n_features"] = 100_000
    doc["weights"]["arrays"] = {"W1": {"shape": [100_000, 100_000], "dtype": "float32"},
                                "b1": {"shape": [100_000], "dtype": "float32"},
                                "W2": {"shape": [3, 100_000], "dtype": "float32"},
                                "b2": {"shape": [3], "dtype": "float32"}}
    (folder / "m" / "model.json").write_text(json.dumps(doc))
    (folder / "rows.npy").write_bytes(_npy_header((10**9, 784)) + bytes(64))
    (folder / "big.png").write_bytes(_png_header(20_000, 20_000))
    # IDX images: the header claims 10^5 images of 1000 x 1000 (100 GB) in a 1 KB file
    (folder / "images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, 10**5, 1000, 1000)
                                               + bytes(1000))
    # an .npz whose array header claims 10^9 rows (its zip entry holds 64 bytes)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("X.npy", _npy_header((10**9, 784)) + bytes(64))
    (folder / "bomb.npz").write_bytes(buf.getvalue())


LOW_MEMORY_CHECK = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {src!r})
    import numpy as np
    from glassnet.errors import GlassnetError
    from glassnet.training import Classifier
    from glassnet.data import load_inputs
    from glassnet.data.idx import read_idx
    limit = 1 << 30  # 1 GiB of address space: each claim below is far larger
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    folder = sys.argv[1]
    checks = [
        ("model", lambda: Classifier.load(folder + "/m")),
        ("npy", lambda: load_inputs(folder + "/rows.npy", 784)),
        ("png", lambda: load_inputs(folder + "/big.png", 784, (28, 28))),
        ("idx", lambda: read_idx(folder + "/images-idx3-ubyte")),
        ("npz", lambda: load_inputs(folder + "/bomb.npz", 4)),
    ]
    for name, check in checks:
        try:
            check()
        except GlassnetError as exc:
            print(name, "refused:", exc)
        except MemoryError:
            print(name, "MEMORY ERROR")
        else:
            print(name, "ACCEPTED")
""")


def test_oversized_headers_refused_without_allocating(tmp_path):
    _write_oversized(tmp_path)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-c", LOW_MEMORY_CHECK.format(src=src), str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    assert set(lines) == {"model", "npy", "png", "idx", "npz"}, run.stdout
    for name, line in lines.items():
        assert line.startswith("refused:"), (name, line)
    assert "only" in lines["model"] and "weights.npz" in lines["model"]
    assert "glassnet reads" in lines["npy"] and "glassnet decodes" in lines["png"]
    assert "truncated" in lines["idx"] or "holds" in lines["idx"]


def test_gzip_is_never_decompressed_past_the_header(tmp_path):
    """A gzip bomb's tail is not read: at most the declared bytes plus one come out."""
    from glassnet.data import idx

    payload = struct.pack(">II", 0x801, 10) + bytes(range(10))
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # a gzip stream
    blob = comp.compress(payload)
    block = bytes(1 << 20)
    for _ in range(64):  # 64 MB of zeros after the data
        blob += comp.compress(block)
    blob += comp.flush()
    path = tmp_path / "labels-idx1-ubyte"  # a raw IDX name: content decides
    path.write_bytes(blob)

    class Counting(gzip.GzipFile):
        produced = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.produced += len(data)  # (readinto goes through read too)
            return data

    real = gzip.GzipFile
    gzip.GzipFile = Counting
    try:
        with pytest.raises(GlassnetError, match="more bytes after them"):
            idx.read_idx(path)
    finally:
        gzip.GzipFile = real
    assert Counting.produced <= len(payload) + 1


def test_csv_and_image_file_caps(tmp_path, monkeypatch):
    from glassnet.data import inputs

    monkeypatch.setattr(inputs, "MAX_CSV_BYTES", 100)
    (tmp_path / "rows.csv").write_text("0.5\n" * 100)
    with pytest.raises(GlassnetError, match="larger than 100 bytes"):
        inputs.load_inputs(tmp_path / "rows.csv", 1)
    monkeypatch.setattr(inputs, "MAX_IMAGE_PIXELS", 100)
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    plt.imsave(tmp_path / "digit.png", np.zeros((20, 20)), cmap="gray")
    with pytest.raises(GlassnetError, match="20 x 20 pixels"):
        inputs.load_inputs(tmp_path / "digit.png", 784, (28, 28))


# ---------------------------------------------------------------- non-finite numbers
def test_save_refuses_non_finite_weights(tmp_path):
    clf = _tiny_model()
    clf.network.layers[0].W[0, 0] = np.inf
    with pytest.raises(ModelError, match="W1 contains NaN or infinity"):
        save_model(clf, tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_predict_never_reports_nan_as_a_class(tmp_path, capsys):
    clf = Classifier.build(3, ["a", "b"], hidden=[4], seed=0)
    clf.network.set_weights({"W1": [[1, -1, 0], [1, -1, 0], [0, 0, 0], [0, 0, 0]],
                             "b1": np.zeros(4), "W2": [[1, -1, 0, 0]], "b2": [0]})
    save_model(clf, tmp_path / "m")
    # z1 = 3e38 + 3e38 overflows float32 to inf in both units, then z2 = inf - inf = NaN
    (tmp_path / "rows.csv").write_text("3e38,-3e38,0\n0.1,0.2,0.3\n")
    code = main(["predict", str(tmp_path / "m"), str(tmp_path / "rows.csv")])
    captured = capsys.readouterr()
    assert code == 2 and "not a number" in captured.err and "row 0" in captured.err
    (tmp_path / "ok.csv").write_text("0.1,0.2,0.3\n")
    assert main(["predict", str(tmp_path / "m"), str(tmp_path / "ok.csv"), "--format",
                 "json"]) == 0
    json.loads(capsys.readouterr().out, parse_constant=_no_constant)


@pytest.mark.parametrize("split", ["0", "0.2"])
def test_diverged_runs_never_save(tmp_path, capsys, split):
    """With or without validation: a saved model is finite, a diverged run writes nothing."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "big.npz", X=rng.random((200, 4)) * 1e6, y=rng.integers(0, 2, 200))
    outcomes = {}
    for lr in ("1e2", "1e30", "1e36"):
        for batch in ("1000", "16"):  # one update per epoch (the last one breaks it), or many
            out = tmp_path / f"m{lr}-{batch}"
            code = main(["train", "--data", str(tmp_path / "big.npz"), "--scaling", "none",
                         "--hidden", "3", "--epochs", "2", "--batch-size", batch,
                         "--optimizer", "sgd", "--lr", lr, "--validation-split", split,
                         "--quiet", "--out", str(out)])
            err = capsys.readouterr().err
            outcomes[lr, batch] = code
            if code == 0:
                Classifier.load(out)  # loading refuses NaN or infinite weights
            else:
                assert code == 2 and "diverged" in err and "No model was written" in err, err
                assert not out.exists()
    assert outcomes["1e36", "1000"] == 2, outcomes  # the last (only) update broke the weights


def test_divergence_in_the_last_update_is_caught_without_validation():
    from glassnet.training import DivergenceWarning, fit

    rng = np.random.default_rng(0)
    X = (rng.random((64, 4)) * 1e6).astype(np.float32)
    y = rng.integers(0, 2, 64)
    clf = Classifier.build(4, ["a", "b"], hidden=[3], seed=0)
    initial = clf.network.get_weights()
    with pytest.warns(DivergenceWarning, match="last update"):
        h = fit(clf.network, X, y, epochs=1, batch_size=64, optimizer={"name": "sgd",
                                                                       "lr": 1e36},
                progress=False)
    assert h.diverged and h.restored_epoch is None
    for name, w in clf.network.get_weights().items():
        np.testing.assert_array_equal(w, initial[name])  # the initial weights, said so
    assert "restored the initial weights" in h.message


# ---------------------------------------------------------------- bounded downloads
class _Endless:
    """A fake HTTP response: ``length`` in the header (or none), zeros for ever."""

    def __init__(self, length=None):
        self.headers = {"Content-Length": str(length)} if length is not None else {}
        self.served = 0

    def read(self, n):
        self.served += n
        return bytes(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.mark.parametrize("case", ["announced too big", "endless stream", "too slow"])
def test_downloads_are_bounded_in_size_and_time(tmp_path, monkeypatch, case):
    from glassnet.data import DataError, sources

    size = sources.SIZES[("mnist", "t10k-labels-idx1-ubyte.gz")]
    response = _Endless(10**12 if case == "announced too big" else None)
    monkeypatch.setattr(sources, "_open_url", lambda url, timeout: response)
    if case == "too slow":
        monkeypatch.setattr(sources, "DOWNLOAD_SECONDS", -1.0)
    with pytest.raises(DataError) as info:
        sources.download_file("mnist", "t10k-labels-idx1-ubyte.gz", tmp_path,
                              mirrors="http://127.0.0.1:9/", progress=False)
    message = str(info.value)
    expected = {"announced too big": "announces 1000000000000 bytes",
                "endless stream": f"more than the {size} bytes",
                "too slow": "took more than"}[case]
    assert expected in message
    assert response.served <= size + (1 << 16)  # stopped within one block of the size
    assert os.listdir(tmp_path) == []  # nothing half-downloaded left behind


def test_evaluate_refuses_outputs_that_overflow_and_train_keeps_the_model(tmp_path, capsys):
    """Rows that overflow a finite model: no NaN metrics, no RuntimeWarning, one clear message."""
    import warnings

    from glassnet.errors import GlassnetError

    clf = Classifier.build(4, ["a", "b"], hidden=[3], seed=0)
    w = clf.network.get_weights()
    w = {k: np.zeros_like(v) for k, v in w.items()}
    w["W1"][:] = 1.0                      # every hidden z = 4 × 1e38: inf in float32
    w["W2"][0, :2] = [1.0, -1.0]          # the output z = inf − inf: not a number
    clf.network.set_weights(w)
    X = np.full((5, 4), 1e38, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GlassnetError, match="not finite numbers for row 0"):
            clf.evaluate(X, [0, 1, 0, 1, 0])
