"""Models on disk: a directory with ``model.json`` and ``weights.npz``.

Why this shape: the JSON says everything a reader (or another program)
needs to know without glassnet (architecture, activations, conventions,
loss, class names, preprocessing, dataset, how it was trained, versions);
the arrays sit in a plain ``.npz`` written by ``np.savez``. Loading parses
JSON and calls ``np.load(..., allow_pickle=False)``: it never executes code,
and every field is checked, so a damaged or hand-edited model fails with a
message naming the file and the field instead of predicting nonsense.

model.json (format version 1)::

    {
      "format": "glassnet-model", "format_version": 1, "glassnet_version": "0.1.0",
      "task": "binary" | "multiclass",
      "network": {"layers": [784, 256, 128, 10], "activation": [...], "loss": ...,
                  "biases": true, "update_biases": true, "reduction": "mean",
                  "dtype": "float32"},
      "conventions": {...},               # human-readable statements (not used to load)
      "class_names": ["0", ..., "9"],
      "preprocessing": {"n_features": 784, "image_shape": [28, 28],
                        "scaling": "pixel / 255"},
      "dataset": {"name": "mnist", "classes": null} | null,
      "training": {...} | null,           # settings and per-epoch history
      "weights": {"file": "weights.npz",
                  "arrays": {"W1": {"shape": [256, 784], "dtype": "float32"}, ...}}
    }

Writing is atomic: everything goes into a temporary directory next to the
target, which is renamed into place only when complete; an existing model
there is replaced only then. A target that exists but is not a glassnet model
directory (a file, or a non-empty folder without model.json) is never touched.

>>> import tempfile, os, numpy as np
>>> from glassnet.training import Classifier
>>> clf = Classifier.build(4, ["no", "yes"], hidden=[3], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model")
>>> save_model(clf, path)
>>> back = load_model(path)
>>> back.class_names, np.array_equal(back.predict_proba(np.ones((1, 4))),
...                                   clf.predict_proba(np.ones((1, 4))))
(['no', 'yes'], True)
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .errors import GlassnetError

__all__ = ["save_model", "load_model", "FORMAT", "FORMAT_VERSION", "MODEL_FILE", "WEIGHTS_FILE"]

FORMAT = "glassnet-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"

_KEYS = ("format", "format_version", "glassnet_version", "task", "network", "conventions",
         "class_names", "preprocessing", "dataset", "training", "weights")
_PRE_KEYS = ("n_features", "image_shape", "scaling")


class ModelError(GlassnetError):
    """A model directory is missing, incomplete or corrupt."""


# ------------------------------------------------------------------- saving
def _json_ready(obj: Any) -> Any:
    """Plain JSON types only; NaN/inf become null (JSON has none)."""
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.ndarray):
        return _json_ready(obj.tolist())
    return obj


def model_document(model: Any) -> dict[str, Any]:
    """The model.json content for a :class:`~glassnet.training.Classifier`."""
    net = model.network
    weights = net.get_weights()
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "task": model.task,
        "network": net.get_config(),
        "conventions": net.conventions(),
        "class_names": list(model.class_names),
        "preprocessing": dict(model.preprocessing),
        "dataset": model.dataset,
        "training": model.training,
        "weights": {"file": WEIGHTS_FILE,
                    "arrays": {k: {"shape": list(v.shape), "dtype": v.dtype.name}
                               for k, v in weights.items()}},
    }
    return _json_ready(doc)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def save_model(model: Any, path: str | os.PathLike) -> None:
    """Write ``model`` to the directory ``path`` atomically (see the module docstring)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ModelError(f"{path}: exists and is not a directory; give a new or model directory")
    if path.is_dir() and any(path.iterdir()) and not (path / MODEL_FILE).is_file():
        raise ModelError(f"{path}: a non-empty folder without {MODEL_FILE} (not a glassnet "
                         "model); refusing to replace it")
    parent = path.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"{path}: cannot create folder {parent}: {exc.strerror}") from None
    doc = model_document(model)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
    try:
        weights_path = tmp / WEIGHTS_FILE
        with open(weights_path, "wb") as f:
            np.savez(f, **model.network.get_weights())
            f.flush()
            os.fsync(f.fileno())
        with open(tmp / MODEL_FILE, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        old = None
        if path.exists():
            old = parent / f".{path.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(path, old)
        try:
            os.rename(tmp, path)
        except OSError:
            if old is not None:
                os.rename(old, path)  # put the previous model back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ------------------------------------------------------------------ loading
def _fail(path: Path, what: str) -> ModelError:
    return ModelError(f"model {path}: {what}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _read_json(path: Path, mpath: Path) -> dict[str, Any]:
    try:
        text = mpath.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(path, f"{MODEL_FILE} is not UTF-8 text") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise _fail(path, f"{MODEL_FILE} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise _fail(path, f"{MODEL_FILE} must hold a JSON object, got {type(doc).__name__}")
    return doc


def _check_keys(path: Path, obj: dict, keys: tuple[str, ...], where: str) -> None:
    missing = [k for k in keys if k not in obj]
    if missing:
        raise _fail(path, f"{where}: missing key {missing[0]!r}")
    unknown = sorted(set(obj) - set(keys))
    if unknown:
        raise _fail(path, f"{where}: unknown key {unknown[0]!r}; expected only: "
                          f"{', '.join(keys)}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def load_model(path: str | os.PathLike) -> Any:
    """Read, check and return the :class:`~glassnet.training.Classifier` stored in ``path``.

    Raises :class:`ModelError` (a GlassnetError) for a missing directory or
    file, invalid JSON, a missing or unknown key, a wrong type, an
    inconsistent architecture, arrays of the wrong shape or dtype, or NaN.
    """
    from .network import Network
    from .training.classifier import Classifier

    path = Path(path)
    if not path.exists():
        raise _fail(path, "no such directory")
    if not path.is_dir():
        raise _fail(path, "is not a directory (a model is a folder with model.json and "
                          "weights.npz)")
    mpath, wpath = path / MODEL_FILE, path / WEIGHTS_FILE
    for p in (mpath, wpath):
        if not p.is_file():
            raise _fail(path, f"missing {p.name} (not a glassnet model directory, or an "
                              "incomplete one)")
    doc = _read_json(path, mpath)
    _check_keys(path, doc, _KEYS, MODEL_FILE)
    if doc["format"] != FORMAT:
        raise _fail(path, f"format is {doc['format']!r}, expected {FORMAT!r}")
    if not _is_int(doc["format_version"]):
        raise _fail(path, f"format_version must be an integer, got {doc['format_version']!r}")
    if doc["format_version"] > FORMAT_VERSION:
        raise _fail(path, f"format_version {doc['format_version']} was written by a newer "
                          f"glassnet (this is {__version__}, reading version {FORMAT_VERSION})")
    if doc["format_version"] < 1:
        raise _fail(path, f"format_version must be >= 1, got {doc['format_version']}")

    # class names and task
    names = doc["class_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
            or len(names) < 2 or len(set(names)) != len(names):
        raise _fail(path, "class_names must be a list of at least 2 distinct strings")
    task = doc["task"]
    expected_task = "binary" if len(names) == 2 else "multiclass"
    if task != expected_task:
        raise _fail(path, f"task is {task!r} but there are {len(names)} classes "
                          f"(expected {expected_task!r})")

    # the network
    config = doc["network"]
    if not isinstance(config, dict):
        raise _fail(path, "network must be an object")
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(_is_int(s) and s >= 1 for s in layers) \
            or len(layers) < 2:
        raise _fail(path, f"network.layers must be a list of at least 2 positive integers, "
                          f"got {layers!r}")
    for key in ("biases", "update_biases"):
        if key in config and not isinstance(config[key], bool):
            raise _fail(path, f"network.{key} must be true or false")
    try:
        net = Network.from_config(config)
    except GlassnetError as exc:
        raise _fail(path, f"network: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise _fail(path, f"network: malformed configuration ({exc})") from None
    binary = task == "binary"
    want_loss = "binary_cross_entropy" if binary else "cross_entropy"
    want_out = "sigmoid" if binary else "softmax"
    if net.loss.name != want_loss or net.layers[-1].activation.name != want_out:
        raise _fail(path, f"a {task} model needs a {want_out} output and {want_loss}, got "
                          f"{net.layers[-1].activation.name} and {net.loss.name}")
    if net.n_outputs != (1 if binary else len(names)):
        raise _fail(path, f"network has {net.n_outputs} outputs for {len(names)} classes")
    if not isinstance(doc["conventions"], dict):
        raise _fail(path, "conventions must be an object")

    # preprocessing, dataset, training
    pre = doc["preprocessing"]
    if not isinstance(pre, dict):
        raise _fail(path, "preprocessing must be an object")
    _check_keys(path, pre, _PRE_KEYS, "preprocessing")
    if pre["n_features"] != net.n_inputs or not _is_int(pre["n_features"]):
        raise _fail(path, f"preprocessing.n_features is {pre['n_features']!r} but the network "
                          f"has {net.n_inputs} inputs")
    shape = pre["image_shape"]
    if shape is not None and (not isinstance(shape, list) or len(shape) != 2
                              or not all(_is_int(s) and s >= 1 for s in shape)
                              or shape[0] * shape[1] != net.n_inputs):
        raise _fail(path, f"preprocessing.image_shape must be null or [rows, columns] with "
                          f"rows x columns = {net.n_inputs}, got {shape!r}")
    if not isinstance(pre["scaling"], str):
        raise _fail(path, "preprocessing.scaling must be a string")
    dataset = doc["dataset"]
    if dataset is not None:
        if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
            raise _fail(path, "dataset must be null or an object with a string 'name'")
        classes = dataset.get("classes")
        if classes is not None and (not isinstance(classes, list)
                                    or not all(isinstance(c, (str, int)) for c in classes)):
            raise _fail(path, "dataset.classes must be null or a list of class labels")
    if doc["training"] is not None and not isinstance(doc["training"], dict):
        raise _fail(path, "training must be null or an object")
    if not isinstance(doc["glassnet_version"], str):
        raise _fail(path, "glassnet_version must be a string")

    # the arrays
    wdesc = doc["weights"]
    if not isinstance(wdesc, dict):
        raise _fail(path, "weights must be an object")
    _check_keys(path, wdesc, ("file", "arrays"), "weights")
    if wdesc["file"] != WEIGHTS_FILE:
        raise _fail(path, f"weights.file must be {WEIGHTS_FILE!r}, got {wdesc['file']!r}")
    declared = wdesc["arrays"]
    expected = {k: v for k, v in net.get_weights().items()}
    if not isinstance(declared, dict) or set(declared) != set(expected):
        raise _fail(path, f"weights.arrays must describe exactly {', '.join(sorted(expected))}")
    arrays = _read_npz(path, wpath)
    missing = sorted(set(expected) - set(arrays))
    extra = sorted(set(arrays) - set(expected))
    if missing:
        raise _fail(path, f"{WEIGHTS_FILE} lacks the array {missing[0]!r}")
    if extra:
        raise _fail(path, f"{WEIGHTS_FILE} has an unexpected array {extra[0]!r}")
    for name, target in expected.items():
        arr, d = arrays[name], declared[name]
        if not isinstance(d, dict) or d.get("shape") != list(target.shape) \
                or d.get("dtype") != target.dtype.name:
            raise _fail(path, f"weights.arrays.{name} must be {{'shape': "
                              f"{list(target.shape)}, 'dtype': {target.dtype.name!r}}}, got {d!r}")
        if arr.shape != target.shape:
            raise _fail(path, f"{WEIGHTS_FILE}: {name} has shape {arr.shape}, expected "
                              f"{target.shape} for layers {layers}")
        if arr.dtype != target.dtype:
            raise _fail(path, f"{WEIGHTS_FILE}: {name} has dtype {arr.dtype}, expected "
                              f"{target.dtype} (network.dtype)")
        if not np.isfinite(arr).all():
            raise _fail(path, f"{WEIGHTS_FILE}: {name} contains NaN or infinity")
    net.set_weights(arrays)
    return Classifier(net, names, preprocessing=pre, dataset=dataset, training=doc["training"])


def _read_npz(path: Path, wpath: Path) -> dict[str, np.ndarray]:
    with open(wpath, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise _fail(path, f"{WEIGHTS_FILE} is not a valid .npz archive (not a zip file)")
    try:
        with np.load(wpath, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise _fail(path, f"{WEIGHTS_FILE} is a single array, not an .npz archive")
            return {k: z[k] for k in z.files}
    except ModelError:
        raise
    except ValueError as exc:  # pickled object arrays, bad headers
        raise _fail(path, f"{WEIGHTS_FILE} cannot be read safely: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise _fail(path, f"{WEIGHTS_FILE} is not a valid .npz archive: {exc}") from None
