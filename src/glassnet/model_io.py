"""Models on disk: a folder with ``model.json`` and ``weights.npz``.

Why this shape: the JSON says everything a reader (or another program)
needs to know without glassnet (architecture, activations, conventions,
loss, class names, preprocessing, dataset, how it was trained, versions);
the arrays sit in a plain ``.npz``. Loading parses JSON and reads the arrays
with ``allow_pickle=False``: it never executes code, and every field is
checked, so a damaged or hand-edited model fails with a message naming the
file and the field instead of predicting nonsense. The sizes model.json
declares are checked against the bytes really present (the ``.npy`` header
of every array) before anything is allocated, so a 10 KB model.json claiming
two 100 000-unit layers costs nothing.

This module is the model *document*: it knows networks and files, nothing of
training. :meth:`glassnet.training.Classifier.load` turns a
:class:`StoredModel` into a classifier; :func:`save_model` takes anything with
``network``, ``class_names``, ``task``, ``preprocessing``, ``dataset`` and
``training`` attributes.

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

Saving: nothing lost, never a gap
---------------------------------
* **Only glassnet's own folders are replaced.** A folder is replaced only when
  it holds nothing but glassnet's files (``model.json`` whose ``format`` is
  ``glassnet-model``, ``weights.npz``, the lock file ``.glassnet-model.lock``)
  or is empty. Anything else (a thesis beside a ``model.json``, a file in the
  way) is refused by :func:`check_output_dir`, which ``glassnet train`` calls
  before it trains.
* **One atomic switch.** The new model is written completely into a sibling
  folder ``.NAME.tmp-TOKEN`` (every file and the folder flushed to disk),
  then exchanged with ``NAME`` in one system call, Linux's
  ``renameat2(RENAME_EXCHANGE)``; the old model, now at the temporary name, is
  deleted afterwards. At every instant ``NAME`` is a complete model, old or
  new; a crash at any point leaves one of them, plus at most a
  ``.NAME.tmp-*`` folder that the next save deletes and that loads ignore.
  Why an exchange rather than versioned weight files behind a manifest
  (git's refs): it keeps the folder's format (``model.json`` +
  ``weights.npz``, what other programs read) and needs no garbage collection
  of old versions. Where the exchange is not available (not Linux, or a file
  system without it, e.g. NFS) the fallback renames ``NAME`` to
  ``.NAME.old-TOKEN`` and the new folder to ``NAME``: a gap of two renames
  that readers wait out, and that the next save repairs after a crash.
* **Readers never see a mixture.** :func:`read_model` opens the folder once
  and reads both files relative to that handle (``dir_fd``), so both come
  from the same model; when a concurrent save deletes the old folder under
  it, it starts again (a few times) from the current one.
* **Writers take turns.** A save holds an exclusive ``flock`` on
  ``NAME/.glassnet-model.lock`` (re-checked after it is granted, since the
  switch brings a new lock file); a second save to the same folder waits
  for the first and then replaces its result.
* **Failures are one clear error.** A full disk, a read-only or unwritable
  folder: :class:`ModelError` naming the folder and the reason, the old
  model untouched and no temporary folder left. Non-finite weights are never
  saved.

>>> import tempfile, os, numpy as np
>>> from glassnet.training import Classifier
>>> clf = Classifier.build(4, ["no", "yes"], hidden=[3], seed=0)
>>> path = os.path.join(tempfile.mkdtemp(), "model")
>>> save_model(clf, path)
>>> back = Classifier.load(path)
>>> back.class_names, np.array_equal(back.predict_proba(np.ones((1, 4))),
...                                   clf.predict_proba(np.ones((1, 4))))
(['no', 'yes'], True)
>>> sorted(os.listdir(path))
['.glassnet-model.lock', 'model.json', 'weights.npz']
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import stat
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .errors import GlassnetError
from .fileio import describe_os_error, dumps_json, fsync_dir, json_ready, read_at_most

__all__ = ["save_model", "read_model", "check_output_dir", "model_document", "StoredModel",
           "ModelError", "OutputDirError", "FORMAT", "FORMAT_VERSION", "MODEL_FILE",
           "WEIGHTS_FILE", "LOCK_FILE", "MODEL_FILES"]

FORMAT = "glassnet-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
#: held (flock) by a save; also marks a folder whose first save was interrupted
LOCK_FILE = ".glassnet-model.lock"
#: every name a glassnet model folder may hold
MODEL_FILES = (MODEL_FILE, WEIGHTS_FILE, LOCK_FILE)
#: the most model.json may hold (the per-epoch history makes it grow; 10 000 epochs ~ 1 MB)
MODEL_JSON_LIMIT = 64 * 1024 * 1024
#: bytes of zip and .npy headers allowed per array beyond its data, and in total
_NPZ_MEMBER_OVERHEAD = 1024
_NPZ_OVERHEAD = 64 * 1024

_KEYS = ("format", "format_version", "glassnet_version", "task", "network", "conventions",
         "class_names", "preprocessing", "dataset", "training", "weights")
_PRE_KEYS = ("n_features", "image_shape", "scaling")
#: optional: the per-feature standardization of a model trained with --data (checked by Classifier)
_PRE_OPTIONAL = ("mean", "scale")
_DTYPES = ("float32", "float64")


class ModelError(GlassnetError):
    """A model folder is missing, incomplete or corrupt, or cannot be written."""


class OutputDirError(ModelError):
    """A model cannot be written to the folder given (not glassnet's, a file, no permission)."""


@dataclass
class StoredModel:
    """What a model folder holds, checked: the network with its weights, and the metadata."""

    network: Any
    class_names: list[str]
    task: str
    preprocessing: dict[str, Any]
    dataset: dict[str, Any] | None
    training: dict[str, Any] | None
    path: Path


# ------------------------------------------------------------ output folders
def _resolve(path: Path) -> Path:
    """A symbolic link to a folder: the folder it points to (the link itself stays)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _foreign_message(shown: Path, what: str) -> OutputDirError:
    return OutputDirError(f"model folder {shown}: {what}; refusing to replace it (only a "
                          "folder holding nothing but a glassnet model is replaced): give a "
                          "new or empty folder")


def _check_replaceable(folder: Path, shown: Path) -> None:
    """Raise OutputDirError unless ``folder`` is empty or holds only a glassnet model."""
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise OutputDirError(f"model folder {shown}: cannot list it "
                             f"({describe_os_error(exc)})") from None
    foreign = sorted(set(names) - set(MODEL_FILES))
    if foreign:
        listed = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more"
                                           if len(foreign) > 5 else "")
        raise _foreign_message(shown, f"not a glassnet model folder (it holds {listed})")
    if not names or names == [LOCK_FILE]:
        return  # empty, or a first save that was interrupted
    if MODEL_FILE not in names:
        raise _foreign_message(shown, f"holds {', '.join(sorted(names))} but no {MODEL_FILE}")
    mpath = folder / MODEL_FILE
    try:
        if not stat.S_ISREG(os.stat(mpath, follow_symlinks=False).st_mode):
            raise _foreign_message(shown, f"its {MODEL_FILE} is not a regular file")
        with open(mpath, "rb") as fh:
            head = read_at_most(fh, MODEL_JSON_LIMIT + 1)
        doc = json.loads(head.decode("utf-8"))
    except OutputDirError:
        raise
    except (OSError, UnicodeDecodeError, ValueError):
        raise _foreign_message(shown, f"its {MODEL_FILE} is not a glassnet model file") \
            from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _foreign_message(shown, f"its {MODEL_FILE} is not a glassnet model file "
                                      f"(no \"format\": \"{FORMAT}\")")


def check_output_dir(path: str | os.PathLike) -> Path:
    """Check that a model can be written to ``path``, before any work; return the folder.

    Fine: a path that does not exist yet (its nearest existing parent must be
    a writable folder), an empty folder, or a folder holding only a glassnet
    model. Anything else raises :class:`OutputDirError` (exit status 2 on
    the command line): a file in the way, a folder holding anything else,
    a folder that cannot be written. Nothing is created or changed.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "thesis.tex"), "w").write("precious")
    >>> check_output_dir(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glassnet.model_io.OutputDirError: model folder ...: not a glassnet model folder (it holds \
thesis.tex); refusing to replace it ...
    """
    shown = Path(path)
    target = Path(os.path.abspath(_resolve(shown)))  # "." and ".." named by their real names
    if target == target.parent:
        raise OutputDirError(f"model folder {shown}: the root folder cannot be a model folder")
    if target.exists():
        if not target.is_dir():
            raise OutputDirError(f"model folder {shown}: a file is in the way, not a directory "
                                 "(a model is a folder); give a new folder name")
        _check_replaceable(target, shown)
        parent = target.absolute().parent
    else:
        parent = target.absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise OutputDirError(f"model folder {shown}: cannot be created, {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputDirError(f"model folder {shown}: folder {parent} is not writable")
    return target


# ------------------------------------------------------------------- saving
def model_document(model: Any) -> dict[str, Any]:
    """The model.json content for a classifier-like ``model`` (JSON-ready; NaN/inf -> null)."""
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
    return json_ready(doc, nonfinite="null")


def _write_new_file(path: Path, data: bytes) -> None:
    from . import fileio

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        fileio._write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _flock(fd: int, blocking: bool = True) -> bool:
    try:
        import fcntl
    except ImportError:  # not POSIX: saves are not serialised (each is still all or nothing)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _siblings(parent: Path, name: str, kind: str) -> list[Path]:
    prefix = f".{name}.{kind}-"
    try:
        return [parent / e for e in os.listdir(parent) if e.startswith(prefix)]
    except OSError:
        return []


def _lock_held(folder: Path) -> bool:
    """Is a live save holding ``folder``'s lock file?"""
    try:
        fd = os.open(folder / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        return not _flock(fd, blocking=False)
    finally:
        os.close(fd)


def _repair_gap(parent: Path, name: str) -> bool:
    """The fallback switch's gap: wait for a live save (True), or repair a dead one's.

    A dead save left ``.NAME.old-T`` (the old model) and maybe ``.NAME.tmp-T``
    (the complete new one): the new one is put in place, else the old one.
    Returns False when there is no gap (``NAME`` simply does not exist).
    """
    target = parent / name
    olds = _siblings(parent, name, "old")
    if not olds:
        return False
    for old in olds:
        if _lock_held(old):
            time.sleep(0.002)
            return True
        token = old.name.rsplit("-", 1)[-1]
        new = parent / f".{name}.tmp-{token}"
        try:
            os.rename(new if new.is_dir() else old, target)
        except OSError:
            if not target.exists():  # not a race with another repair: a real failure
                raise
        return True
    return True


def _lock_folder(target: Path) -> int:
    """Create ``target`` if needed and hold its lock file; return the open descriptor."""
    parent, name = target.parent, target.name
    while True:
        try:
            fd = os.open(target / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
                         | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except FileNotFoundError:
            if _repair_gap(parent, name):
                continue
            try:
                os.mkdir(target)
            except FileExistsError:
                pass
            continue
        _flock(fd)
        try:
            now = os.stat(target / LOCK_FILE, follow_symlinks=False)
        except FileNotFoundError:
            now = None
        held = os.fstat(fd)
        if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)  # a save switched folders while we waited: lock the new one


def _clean_leftovers(parent: Path, name: str) -> None:
    """Delete what interrupted saves left (called with the lock held)."""
    for kind in ("tmp", "old"):
        for folder in _siblings(parent, name, kind):
            try:
                inside = os.listdir(folder)
            except OSError:
                continue
            if set(inside) <= set(MODEL_FILES) and not _lock_held(folder):
                shutil.rmtree(folder, ignore_errors=True)


class _NoExchange(Exception):
    """The system or file system has no atomic exchange of two paths."""


def _exchange(a: Path, b: Path) -> None:
    """Swap the folders ``a`` and ``b`` atomically (Linux renameat2 RENAME_EXCHANGE)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        raise _NoExchange
    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise _NoExchange
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        raise _NoExchange
    raise OSError(err, os.strerror(err), str(b))


def _switch(new: Path, target: Path, token: str) -> None:
    """Put ``new`` at ``target``; afterwards ``new`` names the old folder (to delete)."""
    try:
        _exchange(new, target)
        return
    except _NoExchange:
        pass
    old = target.parent / f".{target.name}.old-{token}"
    os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        os.rename(old, target)
        raise
    os.rename(old, new)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def save_model(model: Any, path: str | os.PathLike) -> None:
    """Write ``model`` to the folder ``path``: all or nothing (see the module docstring).

    Raises :class:`ModelError` when a weight is NaN or infinite (nothing is
    written), :class:`OutputDirError` when ``path`` is not a folder glassnet
    may replace, and :class:`ModelError` when the disk is full or the folder
    cannot be written (the previous model stays as it was).
    """
    shown = Path(path)
    arrays = model.network.get_weights()
    for name, arr in arrays.items():
        if not np.isfinite(arr).all():
            raise ModelError(f"model {shown}: refusing to save: {name} contains NaN or "
                             "infinity (did the training diverge?)")
    text = dumps_json(model_document(model), indent=2) + "\n"
    payload = _npz_bytes(arrays)
    target = check_output_dir(shown)  # absolute
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputDirError(f"model folder {shown}: cannot create {parent} "
                             f"({describe_os_error(exc)})") from None
    lock = new_lock = None
    new = None
    done = False
    created = not target.exists()
    existed = (target / MODEL_FILE).is_file()
    try:
        lock = _lock_folder(target)
        _check_replaceable(target, shown)  # again: the folder may have changed while training
        existed = MODEL_FILE in os.listdir(target)
        _clean_leftovers(parent, target.name)
        token = uuid.uuid4().hex[:12]
        new = parent / f".{target.name}.tmp-{token}"
        os.mkdir(new)
        _write_new_file(new / WEIGHTS_FILE, payload)
        _write_new_file(new / MODEL_FILE, text.encode("utf-8"))
        new_lock = os.open(new / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        _flock(new_lock)
        fsync_dir(new)
        _switch(new, target, token)
        done = True
        fsync_dir(parent)
    except OSError as exc:
        kept = "the previous model is unchanged" if existed else "no model was written"
        raise ModelError(f"cannot save model {shown}: {describe_os_error(exc)}; {kept}") \
            from None
    finally:
        if new is not None:
            shutil.rmtree(new, ignore_errors=True)  # the unfinished new, or the replaced old
        if created and not done and lock is not None:
            _remove_empty(target)  # a failed first save leaves no empty folder behind
        for fd in (new_lock, lock):
            if fd is not None:
                os.close(fd)


def _remove_empty(target: Path) -> None:
    try:
        if os.listdir(target) == [LOCK_FILE]:
            os.unlink(target / LOCK_FILE)  # a save waiting on it sees it gone and starts over
            os.rmdir(target)
    except OSError:
        pass


# ------------------------------------------------------------------ loading
def _fail(path: Path, what: str) -> ModelError:
    return ModelError(f"model {path}: {what}")


class _Vanished(Exception):
    """The folder was switched by a concurrent save while being read: read again."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(path: Path, data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(path, f"{MODEL_FILE} is not UTF-8 text") from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
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


def read_model(path: str | os.PathLike) -> StoredModel:
    """Read and check the model stored in the folder ``path``.

    Raises :class:`ModelError` (a GlassnetError) for a missing folder or
    file, invalid JSON, a missing or unknown key, a wrong type, an
    inconsistent architecture, sizes the files do not hold, arrays of the
    wrong shape or dtype, or NaN. A save running at the same time is waited
    out (see the module docstring).
    """
    path = Path(path)
    for attempt in range(200):
        try:
            return _read_once(path)
        except _Vanished:
            time.sleep(min(0.0005 * 2 ** attempt, 0.02))
    raise _fail(path, "kept changing while being read (saved to over and over?); try again")


def _open_in(dfd: int, name: str, path: Path, where: Path) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dfd)
    except FileNotFoundError:
        _check_still_there(path, dfd, where)
        raise _fail(path, f"missing {name} (not a glassnet model folder, or an incomplete "
                          "one)") from None
    except IsADirectoryError:
        raise _fail(path, f"{name} is a folder, expected a file") from None
    except OSError as exc:
        raise _fail(path, f"cannot open {name} ({describe_os_error(exc)})") from None


def _check_still_there(path: Path, dfd: int, where: Path) -> None:
    """Raise _Vanished when ``where`` is no longer the folder ``dfd`` was opened as."""
    try:
        now = os.stat(where)
    except OSError:
        raise _Vanished from None
    held = os.fstat(dfd)
    if (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
        raise _Vanished


def _read_fd(fd: int, limit: int, path: Path, name: str, too_big: str) -> bytes:
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _fail(path, f"{name} is not a regular file")
        if st.st_size > limit:
            raise _fail(path, too_big.format(size=st.st_size))
        data = read_at_most(fh, limit + 1)
    if len(data) > limit:
        raise _fail(path, too_big.format(size=len(data)))
    return data


def _where_to_read(path: Path) -> Path:
    """``path``, or while a fallback save's gap lasts, the folder that will be put there."""
    parent, name = path.absolute().parent, path.name
    for _ in range(1000):  # a live save closes its gap within microseconds
        if path.exists() or not _siblings(parent, name, "old"):
            return path
        olds = _siblings(parent, name, "old")
        if olds and not any(_lock_held(o) for o in olds):
            old = olds[0]
            new = parent / f".{name}.tmp-{old.name.rsplit('-', 1)[-1]}"
            return new if new.is_dir() else old  # a dead save's gap: what it would restore
        time.sleep(0.002)
    return path


def _read_once(path: Path) -> StoredModel:
    where = _where_to_read(path)
    try:
        dfd = os.open(where, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        # a fallback save's gap (an old sibling), or one that closed since we looked (the
        # path is back, its old sibling already deleted): read again
        if _siblings(path.absolute().parent, path.name, "old") or os.path.isdir(path):
            raise _Vanished from None
        raise _fail(path, "no such directory") from None
    except NotADirectoryError:
        raise _fail(path, "is not a directory (a model is a folder with model.json and "
                          "weights.npz)") from None
    except OSError as exc:
        raise _fail(path, f"cannot open ({describe_os_error(exc)})") from None
    try:
        mfd = _open_in(dfd, MODEL_FILE, path, where)
        mdata = _read_fd(mfd, MODEL_JSON_LIMIT, path, MODEL_FILE,  # closes mfd
                         f"{MODEL_FILE} has {{size}} bytes, more than the "
                         f"{MODEL_JSON_LIMIT} a model description may have")
        doc = _parse_json(path, mdata)
        wfd = _open_in(dfd, WEIGHTS_FILE, path, where)
        return _parse_model(path, doc, wfd)
    finally:
        os.close(dfd)


def _expected_arrays(path: Path, config: dict[str, Any]) -> dict[str, tuple[tuple[int, ...],
                                                                              np.dtype]]:
    """The arrays model.json's network section implies: name -> (shape, dtype)."""
    layers = config.get("layers")
    if not isinstance(layers, list) or not all(_is_int(s) and s >= 1 for s in layers) \
            or len(layers) < 2:
        raise _fail(path, f"network.layers must be a list of at least 2 positive integers, "
                          f"got {layers!r}"[:300])
    dtype = config.get("dtype", "float64")
    if dtype not in _DTYPES:
        raise _fail(path, f"network.dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    biases = config.get("biases", True)
    if not isinstance(biases, bool):
        raise _fail(path, "network.biases must be true or false")
    dt = np.dtype(dtype)
    out = {}
    for i in range(1, len(layers)):
        out[f"W{i}"] = ((layers[i], layers[i - 1]), dt)
        if biases:
            out[f"b{i}"] = ((layers[i],), dt)
    return out


def _parse_model(path: Path, doc: dict[str, Any], wfd: int) -> StoredModel:
    from .network import Network

    try:
        _check_keys(path, doc, _KEYS, MODEL_FILE)
        if doc["format"] != FORMAT:
            raise _fail(path, f"format is {doc['format']!r}, expected {FORMAT!r}")
        if not _is_int(doc["format_version"]):
            raise _fail(path, f"format_version must be an integer, got "
                              f"{doc['format_version']!r}")
        if doc["format_version"] > FORMAT_VERSION:
            raise _fail(path, f"format_version {doc['format_version']} was written by a newer "
                              f"glassnet (this is {__version__}, reading version "
                              f"{FORMAT_VERSION})")
        if doc["format_version"] < 1:
            raise _fail(path, f"format_version must be >= 1, got {doc['format_version']}")

        names = doc["class_names"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
                or len(names) < 2 or len(set(names)) != len(names):
            raise _fail(path, "class_names must be a list of at least 2 distinct strings")
        task = doc["task"]
        expected_task = "binary" if len(names) == 2 else "multiclass"
        if task != expected_task:
            raise _fail(path, f"task is {task!r} but there are {len(names)} classes "
                              f"(expected {expected_task!r})")
        config = doc["network"]
        if not isinstance(config, dict):
            raise _fail(path, "network must be an object")
        for key in ("biases", "update_biases"):
            if key in config and not isinstance(config[key], bool):
                raise _fail(path, f"network.{key} must be true or false")
        expected = _expected_arrays(path, config)

        # the declared arrays, and the bytes really present, before anything is allocated
        wdesc = doc["weights"]
        if not isinstance(wdesc, dict):
            raise _fail(path, "weights must be an object")
        _check_keys(path, wdesc, ("file", "arrays"), "weights")
        if wdesc["file"] != WEIGHTS_FILE:
            raise _fail(path, f"weights.file must be {WEIGHTS_FILE!r}, got {wdesc['file']!r}")
        declared = wdesc["arrays"]
        if not isinstance(declared, dict) or set(declared) != set(expected):
            raise _fail(path, f"weights.arrays must describe exactly "
                              f"{', '.join(sorted(expected))}")
        for name, (shape, dt) in expected.items():
            d = declared[name]
            if not isinstance(d, dict) or d.get("shape") != list(shape) \
                    or d.get("dtype") != dt.name:
                raise _fail(path, f"weights.arrays.{name} must be {{'shape': {list(shape)}, "
                                  f"'dtype': {dt.name!r}}}, got {d!r}"[:300])
        need = sum(int(np.prod(s, dtype=object)) * dt.itemsize for s, dt in expected.values())
        limit = need + _NPZ_MEMBER_OVERHEAD * len(expected) + _NPZ_OVERHEAD
        fd, wfd = wfd, -1  # _read_fd closes it
        data = _read_fd(fd, limit, path, WEIGHTS_FILE,
                        f"{WEIGHTS_FILE} has {{size}} bytes, more than the {need} bytes of "
                        f"arrays model.json declares (layers {config['layers']}) need")
        if data[:4] != b"PK\x03\x04":  # every .npz is a zip archive
            raise _fail(path, f"{WEIGHTS_FILE} is not a valid .npz archive (not a zip file)")
        if len(data) < need:
            raise _fail(path, f"model.json declares layers {config['layers']}: {need} bytes of "
                              f"weights, but {WEIGHTS_FILE} holds only {len(data)} bytes "
                              "(truncated, or model.json does not belong to these weights)")
        arrays = _read_npz(path, data, expected, config["layers"])
    finally:
        if wfd >= 0:
            os.close(wfd)

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

    pre = doc["preprocessing"]
    if not isinstance(pre, dict):
        raise _fail(path, "preprocessing must be an object")
    _check_keys(path, {k: v for k, v in pre.items() if k not in _PRE_OPTIONAL}, _PRE_KEYS,
                "preprocessing")
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
    try:
        net.set_weights(arrays)
    except GlassnetError as exc:
        raise _fail(path, f"{WEIGHTS_FILE}: {exc}") from None
    return StoredModel(network=net, class_names=list(names), task=task, preprocessing=pre,
                       dataset=dataset, training=doc["training"], path=path)


def _read_npz(path: Path, data: bytes, expected: dict[str, tuple[tuple[int, ...], np.dtype]],
              layers: list[int]) -> dict[str, np.ndarray]:
    """The arrays of an .npz held in ``data``, each header checked before its data is read."""
    from numpy.lib import format as npy

    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = {}
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise _fail(path, f"{WEIGHTS_FILE} has an unexpected member "
                                      f"{info.filename!r}")
                members[info.filename[:-4]] = info
            missing = sorted(set(expected) - set(members))
            extra = sorted(set(members) - set(expected))
            if missing:
                raise _fail(path, f"{WEIGHTS_FILE} lacks the array {missing[0]!r}")
            if extra:
                raise _fail(path, f"{WEIGHTS_FILE} has an unexpected array {extra[0]!r}")
            for name, (shape, dt) in expected.items():
                info = members[name]
                with zf.open(info) as member:
                    version = npy.read_magic(member)
                    if version == (1, 0):
                        found, fortran, fdt = npy.read_array_header_1_0(member)
                    elif version in ((2, 0), (3, 0)):
                        found, fortran, fdt = npy.read_array_header_2_0(member)
                    else:
                        raise _fail(path, f"{WEIGHTS_FILE}: {name} has .npy version {version}")
                    if fdt.hasobject or fdt.kind != dt.kind:
                        raise _fail(path, f"{WEIGHTS_FILE}: {name} cannot be read safely "
                                          f"(dtype {fdt}, expected {dt.name})")
                    if tuple(found) != shape:
                        raise _fail(path, f"{WEIGHTS_FILE}: {name} has shape {tuple(found)}, "
                                          f"expected {shape} for layers {layers}")
                    if fdt.itemsize != dt.itemsize:
                        raise _fail(path, f"{WEIGHTS_FILE}: {name} has dtype {fdt.name}, "
                                          f"expected {dt.name} (network.dtype)")
                    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
                    body = read_at_most(member, nbytes + 1)
                    if len(body) != nbytes:
                        raise _fail(path, f"{WEIGHTS_FILE}: {name} holds {len(body)} bytes of "
                                          f"data, its header says {nbytes}")
                arr = np.frombuffer(body, dtype=fdt).reshape(shape,
                                                            order="F" if fortran else "C")
                if not np.isfinite(arr).all():
                    raise _fail(path, f"{WEIGHTS_FILE}: {name} contains NaN or infinity")
                arrays[name] = arr
    except ModelError:
        raise
    except ValueError as exc:  # bad .npy headers
        raise _fail(path, f"{WEIGHTS_FILE} cannot be read safely: {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError,
            NotImplementedError, RuntimeError) as exc:
        raise _fail(path, f"{WEIGHTS_FILE} is not a valid .npz archive: {exc}") from None
    return arrays


def __getattr__(name: str) -> Any:
    if name == "load_model":  # moved: the model document knows nothing of training
        raise AttributeError("glassnet.model_io.load_model moved: use "
                             "glassnet.training.Classifier.load(path), or read_model(path) "
                             "for the network and metadata")
    raise AttributeError(f"module 'glassnet.model_io' has no attribute {name!r}")
