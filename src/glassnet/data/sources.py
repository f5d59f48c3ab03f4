"""Where MNIST and Fashion-MNIST come from: a folder you name, the environment, the cache, a mirror.

:func:`locate_files` looks for the two IDX files of a split (images and
labels) in this order, and uses the first place that has both:

1. ``data_dir``, when given (``--data-dir``): the folder holding the IDX
   files (``.gz`` or raw). A folder that has a ``<name>/`` subfolder with the
   files also works. When given, it must have them: no silent fallback.
2. ``$GLASSNET_DATA/<name>`` (``<name>`` is ``mnist`` or ``fashion-mnist``).
3. The user cache: ``$XDG_CACHE_HOME/glassnet/<name>``, by default
   ``~/.cache/glassnet/<name>``.
4. A download from the public mirrors into the cache (``download=True``).

Why checksums: the files travel through third-party mirrors and disks. Every
``.gz`` file whose name is one of the eight official files is checked
against the SHA-256 published for it (the values below, also in the data
README) before it is used, whether downloaded or found locally. A raw
(already decompressed) file has no published checksum and is checked
structurally by :func:`~glassnet.data.idx.read_idx` only. A verified file is
not hashed again in the same process unless it changes on disk.

Downloads are atomic: bytes go to a temporary file in the cache folder, are
verified, and only then renamed into place (``os.replace``), so an
interrupted or corrupted download never leaves a file that looks complete.
``$GLASSNET_MIRROR`` (whitespace-separated base URLs; ``{name}`` in a URL is
replaced by the dataset name) or the ``mirrors`` argument overrides the
built-in mirror list, e.g. for a local copy or for tests.

>>> sorted(DATASET_FILES)
['fashion-mnist', 'mnist']
>>> DATASET_FILES["mnist"]["test"]
('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from ..fileio import discard_temp
from .errors import DataError

__all__ = [
    "DATASET_FILES", "MIRRORS", "SHA256", "SIZES", "cache_dir", "download_file", "locate_files",
    "mirror_urls", "verify_file",
]

#: dataset -> split -> (images file, labels file), without the ".gz"
DATASET_FILES: dict[str, dict[str, tuple[str, str]]] = {
    name: {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
    for name in ("mnist", "fashion-mnist")
}

#: (dataset, file name) -> SHA-256 of the original gzip file, as published
SHA256: dict[tuple[str, str], str] = {
    ("mnist", "train-images-idx3-ubyte.gz"):
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ("mnist", "train-labels-idx1-ubyte.gz"):
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ("mnist", "t10k-images-idx3-ubyte.gz"):
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ("mnist", "t10k-labels-idx1-ubyte.gz"):
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ("fashion-mnist", "train-images-idx3-ubyte.gz"):
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    ("fashion-mnist", "train-labels-idx1-ubyte.gz"):
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    ("fashion-mnist", "t10k-images-idx3-ubyte.gz"):
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    ("fashion-mnist", "t10k-labels-idx1-ubyte.gz"):
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

#: (dataset, file name) -> size in bytes of the original gzip file (for clearer messages)
SIZES: dict[tuple[str, str], int] = {
    ("mnist", "train-images-idx3-ubyte.gz"): 9_912_422,
    ("mnist", "train-labels-idx1-ubyte.gz"): 28_881,
    ("mnist", "t10k-images-idx3-ubyte.gz"): 1_648_877,
    ("mnist", "t10k-labels-idx1-ubyte.gz"): 4_542,
    ("fashion-mnist", "train-images-idx3-ubyte.gz"): 26_421_880,
    ("fashion-mnist", "train-labels-idx1-ubyte.gz"): 29_515,
    ("fashion-mnist", "t10k-images-idx3-ubyte.gz"): 4_422_102,
    ("fashion-mnist", "t10k-labels-idx1-ubyte.gz"): 5_148,
}

#: dataset -> base URLs tried in order (the file name is appended)
MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ),
}

MIRROR_ENV = "GLASSNET_MIRROR"
DATA_ENV = "GLASSNET_DATA"
_TIMEOUT = 30.0
#: the longest one file's download may take, in seconds (MNIST's largest file is 10 MB)
DOWNLOAD_SECONDS = 600.0
_BLOCK = 1 << 16

#: (expected SHA-256, resolved path, size, mtime_ns, inode) of files whose checksum matched
_verified: set[tuple[str, str, int, int, int]] = set()


def _check_name(name: str) -> None:
    if name not in DATASET_FILES:
        raise DataError(
            f"no IDX files are known for dataset {name!r}; expected one of: "
            f"{', '.join(sorted(DATASET_FILES))}"
        )


def cache_dir(name: str | None = None) -> Path:
    """The user cache folder: ``$XDG_CACHE_HOME/glassnet[/name]``, else ``~/.cache/glassnet``.

    >>> cache_dir("mnist").parts[-2:]
    ('glassnet', 'mnist')
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    root = Path(base) / "glassnet"
    return root / name if name else root


def mirror_urls(name: str, mirrors: Sequence[str] | str | None = None) -> list[str]:
    """The base URLs to download ``name`` from: ``mirrors``, else ``$GLASSNET_MIRROR``, else ours.

    ``{name}`` in a URL becomes the dataset name; a missing final ``/`` is added.

    >>> mirror_urls("mnist", "http://127.0.0.1:8000/{name}")
    ['http://127.0.0.1:8000/mnist/']
    """
    _check_name(name)
    if mirrors is None:
        mirrors = os.environ.get(MIRROR_ENV) or None
    if mirrors is None:
        urls = list(MIRRORS[name])
    else:
        urls = mirrors.split() if isinstance(mirrors, str) else list(mirrors)
        if not urls:
            raise DataError(f"no mirror URL given for {name} (check ${MIRROR_ENV})")
    out = []
    for url in urls:
        url = url.replace("{name}", name)
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https", "file"):
            raise DataError(f"mirror URL {url!r}: expected an http://, https:// or file:// URL")
        out.append(url if url.endswith("/") else url + "/")
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike, name: str) -> None:
    """Check ``path`` against the published SHA-256 when it is one of ``name``'s ``.gz`` files.

    Raw files and unknown names pass (they are checked structurally when read).
    A mismatch raises :class:`DataError` with both digests. A match is
    remembered for this process while the file's size, mtime and inode stay
    the same, so loading a dataset twice hashes it once.
    """
    path = Path(path)
    expected = SHA256.get((name, path.name))
    if expected is None:
        return
    try:
        st = path.stat()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    # the expected digest is part of the key: the same file checked as another dataset's
    # (a Fashion-MNIST file in an MNIST folder) must be hashed and compared again
    key = (expected, str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key in _verified:
        return
    try:
        actual = _sha256(path)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if actual != expected:
        _raise_if_other_dataset(path, name, actual)
        size = SIZES[(name, path.name)]
        if st.st_size != size:
            how = f"it has {st.st_size} bytes, the original {size}" + (
                " (truncated?)" if st.st_size < size else "")
        else:
            how = "same size as the original, different content"
        raise DataError(
            f"{path}: checksum mismatch: SHA-256 is {actual}, expected {expected} "
            f"(the official {name} file; {how}); the file is corrupt or not the original: "
            "delete it and download it again"
        )
    _verified.add(key)


def _find_in(folder: Path, stems: Sequence[str]) -> list[Path] | None:
    """Files for ``stems`` in ``folder`` (``.gz`` preferred, else raw); None if one is missing."""
    found = []
    for stem in stems:
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found.append(candidate)
                break
        else:
            return None
    return found


def _expected_names(stems: Sequence[str]) -> str:
    return ", ".join(f"{s}.gz (or {s})" for s in stems)


def locate_files(
    name: str,
    split: str,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: bool = True,
    mirrors: Sequence[str] | str | None = None,
) -> tuple[Path, Path]:
    """Find (or download) and verify the images and labels files of ``name``'s ``split``.

    Returns ``(images_path, labels_path)``; see the module docstring for the
    search order. Raises :class:`DataError` when ``data_dir`` lacks the
    files, when a file's checksum does not match, or when the files are
    nowhere and ``download`` is False or every mirror fails.
    """
    _check_name(name)
    if split not in DATASET_FILES[name]:
        raise DataError(f"unknown split {split!r} for {name}; expected 'train' or 'test'")
    stems = DATASET_FILES[name][split]

    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            raise DataError(f"data directory {folder}: no such folder")
        files = _find_in(folder, stems) or _find_in(folder / name, stems)
        if files is None:
            raise DataError(
                f"data directory {folder} does not hold the {name} {split} files: expected "
                f"{_expected_names(stems)} there or in {folder / name}"
            )
        return _verified_pair(files, name)

    env = os.environ.get(DATA_ENV)
    if env:
        files = _find_in(Path(env).expanduser() / name, stems)
        if files is not None:
            return _verified_pair(files, name)

    # The cache is ours: a damaged cached file is replaced by a fresh download.
    cache = cache_dir(name)
    paths: list[Path | None] = []
    for stem in stems:
        found = _find_in(cache, [stem])
        if found is not None:
            try:
                verify_file(found[0], name)
                paths.append(found[0])
                continue
            except DataError:
                if not download:
                    raise
                try:
                    found[0].unlink()
                except OSError:
                    raise DataError(
                        f"{found[0]}: damaged cached file (checksum mismatch) that cannot be "
                        "deleted; delete it yourself"
                    ) from None
        paths.append(None)

    if None in paths and not download:
        where = [str(cache)]
        if env:
            where.insert(0, str(Path(env).expanduser() / name))
        raise DataError(
            f"the {name} {split} files ({_expected_names(stems)}) are not in "
            f"{' or '.join(where)} and downloading is turned off; pass --data-dir or set "
            f"${DATA_ENV}"
        )
    for i, stem in enumerate(stems):
        if paths[i] is None:
            paths[i] = download_file(name, f"{stem}.gz", cache, mirrors=mirrors,
                                     progress=progress)
    return paths[0], paths[1]


def _verified_pair(files: Sequence[Path], name: str) -> tuple[Path, Path]:
    for f in files:
        verify_file(f, name)
    return files[0], files[1]


def _open_url(url: str, timeout: float):
    """Open ``url`` (a seam for tests, which refuse anything but 127.0.0.1)."""
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "glassnet"})
    return urllib.request.urlopen(request, timeout=timeout)


def _progress_bar(total: int | None, label: str, enabled: bool):
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but a missing bar must not stop a download
        return None
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                leave=False, file=sys.stderr)


def download_file(
    name: str,
    filename: str,
    folder: str | os.PathLike,
    *,
    mirrors: Sequence[str] | str | None = None,
    progress: bool = True,
) -> Path:
    """Download ``filename`` of dataset ``name`` into ``folder``, verified and atomically.

    Tries each mirror in turn. The bytes are hashed while they arrive and
    written to a temporary file in ``folder``; only a file whose SHA-256
    matches the published one is renamed to ``folder/filename``. On failure
    nothing is left behind and the :class:`DataError` lists what each mirror
    did.
    """
    expected = SHA256.get((name, filename))
    if expected is None:
        raise DataError(f"{filename} is not a known {name} file; expected one of: "
                        + ", ".join(f for (n, f) in SHA256 if n == name))
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the cache folder {folder} ({exc.strerror or exc}); "
                        f"pass --data-dir or set ${DATA_ENV}") from None
    target = folder / filename
    failures = []
    for base in mirror_urls(name, mirrors):
        url = base + filename
        try:
            _fetch(url, target, expected, progress, SIZES[(name, filename)])
            return target
        except _FetchError as exc:
            failures.append(f"{url}: {exc}")
    raise DataError(
        f"could not download {name} file {filename}: " + "; ".join(failures)
        + f". Download it yourself and pass --data-dir, or set ${DATA_ENV}"
    )


class _FetchError(Exception):
    """One mirror failed; the message says how."""


def _fetch(url: str, target: Path, expected: str, progress: bool, size: int) -> None:
    """Download ``url`` to ``target`` (via a temporary file), bounded in size and time.

    At most ``size`` bytes (the published size of the file) are accepted: a
    larger Content-Length is refused before reading, and the transfer stops
    at the first byte too many. Each read waits at most ``_TIMEOUT`` seconds
    and the whole download at most ``DOWNLOAD_SECONDS``.
    """
    import http.client
    import time
    import urllib.error

    tmp = None
    deadline = time.monotonic() + DOWNLOAD_SECONDS
    try:
        try:
            response = _open_url(url, _TIMEOUT)
        except urllib.error.HTTPError as exc:
            raise _FetchError(f"HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise _FetchError(f"{exc.reason}") from None
        with response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > size:
                raise _FetchError(f"the server announces {total} bytes; the file has {size}")
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                       suffix=".part")
            digest = hashlib.sha256()
            received = 0
            bar = _progress_bar(total, target.name, progress)
            try:
                with os.fdopen(fd, "wb") as out:
                    while block := response.read(_BLOCK):
                        if time.monotonic() > deadline:
                            raise _FetchError(f"took more than {DOWNLOAD_SECONDS:.0f} s "
                                              f"({received} of {size} bytes)")
                        if received + len(block) > size:
                            raise _FetchError(f"more than the {size} bytes the file has")
                        out.write(block)
                        digest.update(block)
                        received += len(block)
                        if bar is not None:
                            bar.update(len(block))
                    out.flush()
                    os.fsync(out.fileno())
            finally:
                if bar is not None:
                    bar.close()
        if total is not None and received != total:
            raise _FetchError(f"received {received} of {total} bytes (connection cut?)")
        actual = digest.hexdigest()
        if actual != expected:
            raise _FetchError(f"checksum mismatch: SHA-256 of the {received} bytes received is "
                              f"{actual}, expected {expected}")
        os.replace(tmp, target)
        tmp = None
    except _FetchError:
        raise
    except (OSError, ValueError, http.client.HTTPException) as exc:  # sockets, timeouts, ...
        raise _FetchError(f"{type(exc).__name__}: {exc}") from None
    finally:
        if tmp is not None:
            discard_temp(tmp)


# ------------------------------------------- MNIST files where Fashion-MNIST was meant
#: how the datasets are named in messages
_DISPLAY = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
#: images read to recognise a dataset by content
_SNIFF_IMAGES = 1000


def identify_images(path: str | os.PathLike) -> str | None:
    """Which dataset a 28×28 IDX images file (``.gz`` or raw) looks like, by content.

    MNIST digits are centred in a 20×20 box, leaving a 4-pixel empty margin:
    of the first 1,000 images about 1.5 % have any ink on the outermost ring
    of pixels. Fashion-MNIST's clothes fill the frame: all of them do, yet
    half of their pixels are still black background (at least a fifth in
    99 % of them). So a ring share above 1/2 with a black background says
    ``"fashion-mnist"``, a ring share below 1/10 ``"mnist"``, and anything
    else (a blank or constant file, or one that is not 28×28 IDX images) None.
    """
    import gzip

    path = Path(path)
    n_bytes = 16 + 784 * _SNIFF_IMAGES
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as fh:
            data = fh.read(n_bytes)
    except (OSError, EOFError):
        return None
    if len(data) < 16 + 784 or data[:4] != b"\x00\x00\x08\x03" \
            or data[8:16] != b"\x00\x00\x00\x1c\x00\x00\x00\x1c":
        return None
    import numpy as np

    n = (len(data) - 16) // 784
    images = np.frombuffer(data, np.uint8, count=n * 784, offset=16).reshape(n, 28, 28)
    ring = np.ones((28, 28), dtype=bool)
    ring[1:-1, 1:-1] = False
    share = float((images[:, ring] > 0).any(axis=1).mean())
    background = float((images == 0).mean())
    if share > 0.5 and background > 0.2:
        return "fashion-mnist"
    if share < 0.1:
        return "mnist"
    return None


def _raise_if_other_dataset(path: Path, name: str, actual: str) -> None:
    """A checksum mismatch that is really the other dataset's file: say so, plainly."""
    for (other, fname), digest in SHA256.items():
        if other != name and fname == path.name and digest == actual:
            why = f"its SHA-256 is that of the official {_DISPLAY[other]} {fname}"
            break
    else:
        other = identify_images(path) if "images" in path.name else None
        if other is None or other == name:
            return
        why = ("its images fill the frame as clothes do, where MNIST digits leave a margin"
               if other == "fashion-mnist" else
               "its images are digits with an empty margin, not clothes")
    raise DataError(
        f"{path}: these are {_DISPLAY[other]} files, not {_DISPLAY[name]} ({why}); use "
        f"--dataset {other} for them, or give --data-dir a folder with the {_DISPLAY[name]} "
        "files"
    )
