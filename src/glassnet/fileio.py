"""Files in and out: atomic writes, bounded reads, strict JSON.

Every command that writes a file (``explain -o``, ``check -o``, ``train
--history``, plots, ``evaluate``/``predict`` JSON, model saves) goes through
this module, so that three promises hold everywhere:

* **A write is all or nothing.** :func:`atomic_write_bytes` writes a
  temporary file next to the target, flushes it to disk (``fsync``) and
  renames it over the target in one step (``os.replace``), as SQLite and git
  do. A reader sees the old file or the new one, never half of one; a full
  disk, a missing folder or a folder without write permission is one
  :class:`FileWriteError` (a :class:`~glassnet.errors.GlassnetError`: one
  line, exit status 2) and the old file is left as it was, with no temporary
  file behind. Special files (``/dev/stdout``, a pipe) are written directly:
  renaming over them would replace the device entry, not write to it.
* **An output never destroys an input.** :func:`refuse_overwriting_inputs`
  (with :func:`check_outputs` for a command's whole list) refuses, before any
  work, an output that is one of the command's input files (``train --data
  d.csv --history d.csv``, ``explain ex.yaml -o ex.yaml``), or lies inside a
  glassnet model folder (``export m --out m/weights.npz``).
* **JSON is JSON.** :func:`dumps_json` never emits ``NaN`` or ``Infinity``
  (Python's ``json`` does by default, and no other JSON reader accepts
  them): a non-finite number is refused with the place where it sits, or,
  when the caller says so, written as ``null`` and listed so the caller can
  say so.
* **A read is bounded.** :func:`read_bytes_capped` refuses a file larger than
  a stated limit before reading it, and never reads more than ``limit + 1``
  bytes even from a file whose size the system does not know (``/dev/zero``,
  a pipe), so a wrong path cannot exhaust the memory.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "out.json")
>>> atomic_write_text(path, dumps_json({"loss": 0.5, "gap": float("nan")},
...                                    nonfinite="null") + "\\n")
>>> read_bytes_capped(path, 1000, "result file")
b'{"loss": 0.5, "gap": null}\\n'
>>> dumps_json({"loss": float("inf")})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
glassnet.fileio.NonFiniteJSONError: cannot write JSON: $.loss is inf; JSON has no NaN or Infinity...
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import GlassnetError

__all__ = [
    "FileReadError", "FileWriteError", "NonFiniteJSONError", "atomic_write_bytes",
    "atomic_write_text", "check_output_file", "refuse_overwriting_inputs", "refuse_same_outputs",
    "refuse_inside_model_folder", "check_outputs",
    "dumps_json", "json_ready", "fsync_dir", "discard_temp",
    "open_input", "read_at_most", "read_bytes_capped", "read_text_capped", "describe_os_error",
    "load_npy_capped", "load_npz_capped",
]

#: default cap of :func:`read_bytes_capped` for text inputs (exercise files, JSON): 16 MiB
TEXT_LIMIT = 16 * 1024 * 1024
_BLOCK = 1 << 20


class FileWriteError(GlassnetError):
    """A file could not be written (full disk, no permission, missing folder, ...)."""


class FileReadError(GlassnetError):
    """A file could not be read, or is larger than glassnet accepts for its purpose."""


class NonFiniteJSONError(GlassnetError):
    """A value to be written as JSON is NaN or infinite (JSON has neither)."""


def describe_os_error(exc: OSError) -> str:
    """'No space left on device (ENOSPC)': the system's words plus the error name."""
    name = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc)
    return f"{text} ({name})" if name else text


# ------------------------------------------------------------------- writing
def fsync_dir(folder: str | os.PathLike) -> None:
    """Flush a folder's entries (a rename inside it) to disk; a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """``os.write`` until every byte is out (a seam: tests inject ENOSPC here)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view[:_BLOCK])
        view = view[n:]


def check_output_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """Check, before any work, that ``path`` can be written as a file; return it.

    The folder must exist and be writable, and ``path`` must not be a folder.
    Raises :class:`FileWriteError` naming ``what`` and the path.
    """
    path = Path(path)
    if path.is_dir():
        raise FileWriteError(f"{what} {path}: is a directory, expected a file name")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise FileWriteError(f"{what} {path}: folder {folder} does not exist")
    if path.exists() and not path.is_file():
        return path  # a device or pipe: written directly
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileWriteError(f"{what} {path}: folder {folder} is not writable")
    return path


def _real(path: str | os.PathLike) -> Path:
    """The absolute path with every symbolic link resolved (also for a path not there yet)."""
    return Path(os.path.realpath(os.path.abspath(path)))


def _same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name one file: the same resolved path, or the same inode."""
    if _real(a) == _real(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _is_within(path: Path, folder: Path) -> bool:
    try:
        _real(path).relative_to(_real(folder))
    except ValueError:
        return False
    return True


def _model_folder_above(path: Path) -> Path | None:
    """The nearest folder holding ``path`` whose model.json says ``"format": "glassnet-model"``."""
    model_json_limit = 64 * 1024 * 1024  # model_io.MODEL_JSON_LIMIT (not imported: no numpy here)
    folder = _real(path).parent
    while True:
        candidate = folder / "model.json"
        try:
            if stat.S_ISREG(os.stat(candidate).st_mode):
                with open(candidate, "rb") as fh:
                    doc = json.loads(read_at_most(fh, model_json_limit + 1).decode("utf-8"))
                if isinstance(doc, dict) and doc.get("format") == "glassnet-model":
                    return folder
        except (OSError, UnicodeDecodeError, ValueError):
            pass
        if folder == folder.parent:
            return None
        folder = folder.parent


def _labelled(inputs: Any) -> list[tuple[str, Path]]:
    """``[(label, path), ...]`` from paths and (label, path) pairs; None entries dropped."""
    out = []
    for item in inputs or ():
        label, path = item if isinstance(item, tuple) else ("input", item)
        if path is not None and str(path) != "":
            out.append((label, Path(path)))
    return out


def refuse_overwriting_inputs(output: str | os.PathLike, inputs: Any = (),
                              what: str = "output file", *,
                              model_folders: Any = ()) -> Path:
    """Check, before any work, that writing ``output`` destroys nothing the user has; return it.

    One rule for every command that writes a file (``train --history``,
    ``explain -o``, ``grade --out``, ``export --out``, ``plot --out``, ...).
    ``output`` is refused with a :class:`FileWriteError` naming ``what``
    (the option, e.g. ``"--history"``) and the file when

    (a) it is the same file as one of ``inputs`` (same resolved path or, for
        hard links, same inode): ``train --data d.csv --history d.csv`` would
        replace the training data with the history. ``inputs`` holds paths
        or ``(label, path)`` pairs such as ``("--data", "d.csv")``; ``None``
        entries (and inputs not there: the command says so) are skipped. A
        folder among the inputs stands for every file in it: an existing
        file anywhere below it is not replaced;
    (b) it lies inside a glassnet model folder (one whose model.json has
        ``"format": "glassnet-model"``), or inside one of ``model_folders``
        (the folder this command is about to save a model to): a foreign
        file there would make the folder "not glassnet's" and a weights
        file there is the model itself (``export m --out m/weights.npz``);
    (c) it is a folder, or its folder is missing or not writable
        (:func:`check_output_file`).

    An output that exists and is not a regular file (``/dev/stdout``, a pipe)
    is written directly and never compared with the inputs.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> data = os.path.join(folder, "d.csv")
    >>> _ = open(data, "w").write("1,2,0\\n")
    >>> refuse_overwriting_inputs(data, [("--data", data)], "--history")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glassnet.fileio.FileWriteError: --history .../d.csv: the same file as --data .../d.csv, \
which this command reads; writing it would destroy that input: give another file name
    >>> refuse_overwriting_inputs(os.path.join(folder, "h.jsonl"), [("--data", data)],
    ...                           "--history").name
    'h.jsonl'
    """
    path = check_output_file(output, what)
    if path.exists() and not path.is_file():
        return path  # a device or a pipe: written directly, replaces nothing
    labelled = _labelled(inputs)
    for label, given in labelled:
        if given.exists() and not given.is_dir() and _same_file(path, given):
            raise FileWriteError(
                f"{what} {path}: the same file as {label} {given}, which this command reads; "
                "writing it would destroy that input: give another file name")
    refuse_inside_model_folder(path, what, model_folders=model_folders)
    for label, given in labelled:
        if given.is_dir() and path.exists() and _is_within(path, given):
            raise FileWriteError(
                f"{what} {path}: already exists inside {label} {given}, a folder this "
                "command reads; refusing to replace a file there: give another file name")
    return path


def refuse_inside_model_folder(path: str | os.PathLike, what: str = "output file", *,
                               model_folders: Any = ()) -> None:
    """Rule (b) of :func:`refuse_overwriting_inputs` alone, for a file or a folder to be made.

    Refuses ``path`` inside a glassnet model folder, or inside one of
    ``model_folders`` (``(label, path)`` pairs: the folders this command
    saves a model to, which may not exist yet).
    """
    path = Path(path)
    for label, folder in _labelled(model_folders):
        if _is_within(path, folder):
            raise FileWriteError(
                f"{what} {path}: inside the model folder {folder} ({label}); a model "
                "folder holds only model.json and weights.npz: give a name outside it")
    model = _model_folder_above(path / "x" if path.is_dir() else path)
    if model is not None:
        raise FileWriteError(
            f"{what} {path}: inside the glassnet model folder {model}; writing there would "
            "replace or spoil the model (a model folder holds only model.json and "
            "weights.npz): give a name outside it")


def check_outputs(outputs: Any, inputs: Any = (), *, model_folders: Any = ()) -> None:
    """Every ``(option, path)`` of ``outputs`` through :func:`refuse_overwriting_inputs`,
    then :func:`refuse_same_outputs`: the one call a command makes before its work.

    >>> import os, tempfile
    >>> ex = os.path.join(tempfile.mkdtemp(), "ex.yaml")
    >>> _ = open(ex, "w").write("loss: half_sse\\n")
    >>> check_outputs([("--picture", None), ("--output", ex)], [("exercise file", ex)])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glassnet.fileio.FileWriteError: --output .../ex.yaml: the same file as exercise file \
.../ex.yaml, which this command reads; writing it would destroy that input: give another file name
    """
    for label, path in _labelled(outputs):
        refuse_overwriting_inputs(path, inputs, label, model_folders=model_folders)
    refuse_same_outputs(outputs)


def refuse_same_outputs(outputs: Any) -> None:
    """Refuse two outputs of one command naming one file (``explain --picture x -o x``).

    ``outputs`` holds ``(label, path)`` pairs; ``None`` paths are skipped.

    >>> refuse_same_outputs([("--picture", "a.svg"), ("--output", "a.svg")])
    Traceback (most recent call last):
    ...
    glassnet.fileio.FileWriteError: --picture a.svg and --output a.svg name the same file; \
the second would overwrite the first: give two different file names
    """
    seen: list[tuple[str, Path]] = []
    for label, path in _labelled(outputs):
        if path.exists() and not path.is_file():
            continue  # /dev/null, /dev/stdout, a pipe: written directly, one after the other
        for other_label, other in seen:
            if _same_file(path, other):
                raise FileWriteError(
                    f"{other_label} {other} and {label} {path} name the same file; the second "
                    "would overwrite the first: give two different file names")
        seen.append((label, path))


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, what: str = "output file",
                       mode: int | None = None) -> None:
    """Write ``data`` to ``path`` all or nothing (see the module docstring).

    A new file gets the usual permissions (0666 minus the umask), a replaced
    file keeps its own; a symbolic link is followed, so the file it points
    to is replaced and the link stays.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise FileWriteError(f"cannot write {what} {path}: {describe_os_error(exc)}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FileWriteError(f"cannot write {what} {path}: is a directory, expected a file name")
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_special(path, data, what)
        return
    folder = path.absolute().parent
    if not folder.is_dir():
        raise FileWriteError(f"cannot write {what} {path}: folder {folder} does not exist")
    if mode is None:
        mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        try:
            _write_all(fd, data)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
        fsync_dir(folder)
    except OSError as exc:
        raise FileWriteError(f"cannot write {what} {path}: {describe_os_error(exc)}; "
                             + ("the previous file is unchanged" if st is not None
                                else "nothing was written")) from None
    finally:
        if tmp is not None:
            discard_temp(tmp)


def discard_temp(path: str | os.PathLike) -> None:
    """Remove the temporary file of a write that did not finish, if it is there.

    Called on the way out of a failed write: failing to remove it (already gone,
    or the disk itself failing) must not hide the error being reported.
    """
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_special(path: Path, data: bytes, what: str) -> None:
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise FileWriteError(f"cannot write {what} {path}: {describe_os_error(exc)}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str, *, what: str = "output file",
                      encoding: str = "utf-8") -> None:
    """:func:`atomic_write_bytes` of ``text`` encoded (UTF-8, ``\\n`` line ends as given)."""
    atomic_write_bytes(path, text.encode(encoding), what=what)


# ---------------------------------------------------------------------- JSON
def json_ready(obj: Any, *, nonfinite: str = "error",
               replaced: list[str] | None = None, where: str = "$") -> Any:
    """``obj`` as plain JSON types (NumPy numbers and arrays included).

    ``nonfinite="error"`` raises :class:`NonFiniteJSONError` naming the first
    NaN/infinity (e.g. ``$.per_class[2].f1``); ``"null"`` writes it as None
    and appends its place to ``replaced``.
    """
    if nonfinite not in ("error", "null"):
        raise GlassnetError(f"nonfinite must be 'error' or 'null', got {nonfinite!r}")
    if isinstance(obj, dict):
        return {str(k): json_ready(v, nonfinite=nonfinite, replaced=replaced,
                                   where=f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v, nonfinite=nonfinite, replaced=replaced, where=f"{where}[{i}]")
                for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (str, bool)):
        return obj
    if isinstance(obj, int):
        return obj
    kind = getattr(getattr(obj, "dtype", None), "kind", None)
    if kind is not None and hasattr(obj, "tolist"):  # NumPy scalars and arrays
        return json_ready(obj.tolist(), nonfinite=nonfinite, replaced=replaced, where=where)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        if nonfinite == "error":
            raise NonFiniteJSONError(f"cannot write JSON: {where} is {obj}; JSON has no NaN or "
                                     "Infinity")
        if replaced is not None:
            replaced.append(where)
        return None
    raise GlassnetError(f"cannot write JSON: {where} is a {type(obj).__name__}, not a JSON value")


def dumps_json(obj: Any, *, indent: int | None = None, nonfinite: str = "error",
               replaced: list[str] | None = None, sort_keys: bool = False) -> str:
    """``json.dumps`` that never emits NaN/Infinity (see :func:`json_ready`).

    >>> dumps_json({"a": float("nan"), "b": [1, 2.5]}, nonfinite="null")
    '{"a": null, "b": [1, 2.5]}'
    """
    clean = json_ready(obj, nonfinite=nonfinite, replaced=replaced)
    return json.dumps(clean, indent=indent, allow_nan=False, sort_keys=sort_keys,
                      ensure_ascii=False)


# ------------------------------------------------------------------- reading
def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def open_input(path: str | os.PathLike, where: str, error: type[GlassnetError] | None = None,
               expected: str = "a file", opener: Any = None) -> Any:
    """Open ``path`` for reading in binary; a missing file, a folder or an OS error is one
    ``error`` (FileReadError by default) that starts with ``where``."""
    error = error or FileReadError
    try:
        return open(path, "rb", opener=opener) if opener else open(path, "rb")
    except FileNotFoundError:
        raise error(f"{where}: no such file") from None
    except IsADirectoryError:
        raise error(f"{where}: is a directory, expected {expected}") from None
    except OSError as exc:
        raise error(f"{where}: cannot open ({describe_os_error(exc)})") from None


def read_at_most(fh: Any, n: int) -> bytes:
    """Up to ``n`` bytes from ``fh``, in blocks: memory grows with what is there, not with ``n``.

    (``fh.read(n)`` allocates ``n`` bytes before it reads one.)
    """
    parts = []
    left = n
    while left > 0:
        piece = fh.read(min(left, _BLOCK))
        if not piece:
            break
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)


def read_bytes_capped(path: str | os.PathLike, limit: int, what: str = "file", *,
                      opener: Callable[..., Any] | None = None) -> bytes:
    """All bytes of ``path``, refusing more than ``limit`` (checked before reading).

    A regular file is measured first (``fstat``); anything else (a device,
    a pipe) is read up to ``limit + 1`` bytes. Missing files, folders and
    unreadable files raise :class:`FileReadError` naming ``what``.

    >>> read_bytes_capped("/dev/zero", 10, "exercise file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glassnet.fileio.FileReadError: exercise file /dev/zero: larger than 10 bytes, the most ...
    """
    path = Path(path)
    fh = open_input(path, f"{what} {path}", opener=opener)
    too_big = (f"{what} {path}: larger than {_size_text(limit)}, the most glassnet reads for "
               "this purpose")
    with fh:
        try:
            st = os.fstat(fh.fileno())
            if stat.S_ISDIR(st.st_mode):
                raise FileReadError(f"{what} {path}: is a directory, expected a file")
            if stat.S_ISREG(st.st_mode) and st.st_size > limit:
                raise FileReadError(f"{too_big} (it has {_size_text(st.st_size)})")
            data = read_at_most(fh, limit + 1)
        except OSError as exc:
            raise FileReadError(f"{what} {path}: read error ({describe_os_error(exc)})") from None
    if len(data) > limit:
        raise FileReadError(too_big)
    return data


def read_text_capped(path: str | os.PathLike, limit: int = TEXT_LIMIT, what: str = "file",
                     encoding: str = "utf-8") -> str:
    """:func:`read_bytes_capped` decoded (a leading UTF-8 byte-order mark is dropped)."""
    data = read_bytes_capped(path, limit, what)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileReadError(f"{what} {path}: not {encoding.upper()} text (byte {exc.start})") \
            from None
    return text[1:] if text.startswith("\ufeff") else text


# ------------------------------------------------------------- NumPy files
def _npy_header(fh: Any, where: str, error: type[GlassnetError]) -> tuple[tuple, bool, Any]:
    """(shape, fortran_order, dtype) from an open .npy stream, positioned after the header."""
    from numpy.lib import format as npy

    try:
        version = npy.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(fh)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npy.read_array_header_2_0(fh)
        else:
            raise error(f"{where}: unsupported .npy format version {version}")
    except ValueError as exc:
        raise error(f"{where}: not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise error(f"{where}: not a plain numeric array: it holds Python objects (a pickle), "
                    "which glassnet never loads")
    return tuple(shape), bool(fortran), dtype


def _npy_body(fh: Any, shape: tuple, fortran: bool, dtype: Any, available: int,
              max_bytes: int, where: str, error: type[GlassnetError]) -> Any:
    """The array whose header was just read, checked against the bytes really there."""
    import numpy as np

    count = 1
    for d in shape:
        count *= int(d)
    nbytes = count * dtype.itemsize
    declared = f"its header declares shape {shape} of {dtype} = {_size_text(nbytes)}"
    if nbytes > max_bytes:
        raise error(f"{where}: {declared}, more than the {_size_text(max_bytes)} glassnet "
                    "reads from one input")
    if available != nbytes:
        what = "truncated?" if available < nbytes else "extra bytes after the data"
        raise error(f"{where}: {declared}, but {available} bytes follow the header ({what})")
    data = read_at_most(fh, nbytes + 1)
    if len(data) != nbytes:
        raise error(f"{where}: {declared}, but {len(data)} bytes follow the header")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def load_npy_capped(path: str | os.PathLike, max_bytes: int, what: str = "file", *,
                    error: type[GlassnetError] = FileReadError) -> Any:
    """A ``.npy`` array, its header checked against the file's size before anything is read.

    Refuses pickles (object arrays), a header declaring more than
    ``max_bytes`` of data, and a header that does not match the bytes present
    (a 100-byte file claiming 10⁹ rows is refused without allocating).
    """
    path = Path(path)
    where = f"{what} {path}" if what else str(path)
    fh = open_input(path, where, error)
    with fh:
        try:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise error(f"{where}: not a regular file")
            shape, fortran, dtype = _npy_header(fh, where, error)
            return _npy_body(fh, shape, fortran, dtype, st.st_size - fh.tell(), max_bytes,
                             where, error)
        except OSError as exc:
            raise error(f"{where}: read error ({describe_os_error(exc)})") from None


def load_npz_capped(path: str | os.PathLike, max_bytes: int, what: str = "file", *,
                    error: type[GlassnetError] = FileReadError) -> dict[str, Any]:
    """Every array of an ``.npz``, each header checked before its data is decompressed.

    The zip directory's sizes are checked against ``max_bytes`` (in total)
    and against each array's ``.npy`` header; a member is never decompressed
    beyond the size the directory states, so a zip bomb costs nothing.
    """
    import zipfile

    path = Path(path)
    where = f"{what} {path}" if what else str(path)
    if not path.is_file():
        raise error(f"{where}: no such file" if not path.exists()
                    else f"{where}: not a regular file")
    try:
        if path.stat().st_size > max_bytes:
            raise error(f"{where}: larger than {_size_text(max_bytes)}, the most glassnet "
                        "reads from one input")
        arrays = {}
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > max_bytes:
                raise error(f"{where}: its arrays would take {_size_text(total)}, more than "
                            f"the {_size_text(max_bytes)} glassnet reads from one input")
            for info in infos:
                name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                inner = f"{where}, array {name!r}"
                with zf.open(info) as member:
                    shape, fortran, dtype = _npy_header(member, inner, error)
                    arrays[name] = _npy_body(member, shape, fortran, dtype,
                                             info.file_size - member.tell(), max_bytes, inner,
                                             error)
        return arrays
    except GlassnetError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
            RuntimeError, ValueError) as exc:
        raise error(f"{where}: not a valid .npz archive ({exc})") from None
