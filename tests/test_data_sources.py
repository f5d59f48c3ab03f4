"""Finding MNIST-style files: data_dir > $GLASSNET_DATA > cache > download, all checked.

No test here can reach the internet: every test runs with the cache in tmp_path, no
$GLASSNET_DATA, the mirror pointed at 127.0.0.1, and the URL opener replaced by one that
fails the test for any other host. Downloads are served by a local http.server thread.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from shared_data import SHARED  # tests/shared_data.py

from glassnet.data import DataError, load_dataset, locate_files, write_idx
from glassnet.data import sources as src

needs_shared = pytest.mark.skipif(
    not all((SHARED / "mnist" / f).is_file()
            for f in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")),
    reason=f"MNIST IDX files not found in {SHARED / 'mnist'} (set GLASSNET_SHARED_DATA)",
)
TEST_STEMS = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Cache in tmp_path, no $GLASSNET_DATA, mirror on a closed local port, only 127.0.0.1."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("GLASSNET_MIRROR", "http://127.0.0.1:9/{name}/")
    real_open = src._open_url

    def local_only(url, timeout):
        host = urllib.parse.urlsplit(url).hostname
        assert host == "127.0.0.1", f"a test tried to reach {url}"
        return real_open(url, timeout)

    monkeypatch.setattr(src, "_open_url", local_only)
    src._verified.clear()
    yield
    src._verified.clear()


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def serve():
    """serve(folder) -> base URL of an HTTP server on 127.0.0.1 serving that folder."""
    servers = []

    def start(folder, handler_base=_Handler):
        handler = type("H", (handler_base,), {"requests": []})
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append(server)
        start.requests = handler.requests
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def cache_folder(tmp_path, name="mnist") -> Path:
    return tmp_path / "cache" / "glassnet" / name


def write_fake_test_split(folder: Path, marker: int, n: int = 3) -> None:
    """Raw (uncompressed) MNIST-shaped test files whose pixels all equal ``marker``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / TEST_STEMS[0], np.full((n, 28, 28), marker, dtype=np.uint8))
    write_idx(folder / TEST_STEMS[1], np.arange(n, dtype=np.uint8) % 10)


def marker_of(ds) -> int:
    values = np.unique(np.round(ds.X * 255).astype(int))
    assert len(values) == 1
    return int(values[0])


def no_partial_files(folder: Path) -> bool:
    return not folder.exists() or not any(p.name.endswith(".part") for p in folder.iterdir())


# --- the search order ------------------------------------------------------------------------

def test_lookup_order_data_dir_env_cache(tmp_path, monkeypatch):
    write_fake_test_split(tmp_path / "mine", 1)
    write_fake_test_split(tmp_path / "env" / "mnist", 2)
    write_fake_test_split(cache_folder(tmp_path), 3)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    assert marker_of(load_dataset("mnist", "test", data_dir=tmp_path / "mine")) == 1
    assert marker_of(load_dataset("mnist", "test")) == 2
    monkeypatch.delenv("GLASSNET_DATA")
    assert marker_of(load_dataset("mnist", "test")) == 3


def test_env_without_this_dataset_falls_through_to_cache(tmp_path, monkeypatch):
    write_fake_test_split(tmp_path / "env" / "fashion-mnist", 2)  # only the other dataset
    write_fake_test_split(cache_folder(tmp_path), 3)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    assert marker_of(load_dataset("mnist", "test")) == 3
    assert marker_of(load_dataset("fashion-mnist", "test")) == 2


def test_nothing_local_means_download_is_tried(tmp_path, serve):
    base = serve(tmp_path / "empty-mirror")
    (tmp_path / "empty-mirror").mkdir()
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "test", mirrors=[base])
    assert "t10k-images-idx3-ubyte.gz" in str(info.value) and "404" in str(info.value)
    assert serve.requests == ["/t10k-images-idx3-ubyte.gz"]


def test_data_dir_must_hold_the_files_no_fallback(tmp_path):
    write_fake_test_split(cache_folder(tmp_path), 3)
    (tmp_path / "wrong").mkdir()
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "test", data_dir=tmp_path / "wrong")
    message = str(info.value)
    assert str(tmp_path / "wrong") in message and "t10k-images-idx3-ubyte.gz" in message
    with pytest.raises(DataError, match="no such folder"):
        load_dataset("mnist", "test", data_dir=tmp_path / "missing")


def test_data_dir_may_be_the_parent_folder(tmp_path):
    write_fake_test_split(tmp_path / "data" / "mnist", 7)
    assert marker_of(load_dataset("mnist", "test", data_dir=tmp_path / "data")) == 7


def test_gz_preferred_over_raw_and_checked(tmp_path):
    folder = tmp_path / "d"
    write_fake_test_split(folder, 4)
    assert marker_of(load_dataset("mnist", "test", data_dir=folder)) == 4  # raw: no checksum
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.full((3, 28, 28), 5, dtype=np.uint8))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: checksum mismatch"):
        load_dataset("mnist", "test", data_dir=folder)


def test_download_false_without_files(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "env"))
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "test", download=False)
    message = str(info.value)
    assert "downloading is turned off" in message
    assert str(cache_folder(tmp_path)) in message and str(tmp_path / "env" / "mnist") in message


# --- checksums -------------------------------------------------------------------------------

def test_local_gz_with_wrong_checksum(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28), dtype=np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(2, dtype=np.uint8))
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "test", data_dir=folder)
    message = str(info.value)
    assert "checksum mismatch" in message and "t10k-images-idx3-ubyte.gz" in message
    assert src.SHA256[("mnist", "t10k-images-idx3-ubyte.gz")] in message
    assert "the original 1648877 (truncated?)" in message


@needs_shared
def test_truncated_official_file_is_reported_as_such(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    for stem in TEST_STEMS:
        shutil.copy(SHARED / "mnist" / f"{stem}.gz", folder)
    blob = (folder / "t10k-images-idx3-ubyte.gz").read_bytes()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(blob[:100_000])
    with pytest.raises(DataError, match="it has 100000 bytes, the original 1648877"):
        load_dataset("mnist", "test", data_dir=folder)
    # same size, one byte changed
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(DataError, match="same size as the original, different content"):
        load_dataset("mnist", "test", data_dir=folder)


def test_sizes_and_checksums_cover_the_same_files():
    assert set(src.SIZES) == set(src.SHA256)
    for name, splits in src.DATASET_FILES.items():
        for stems in splits.values():
            for stem in stems:
                assert (name, f"{stem}.gz") in src.SHA256


def test_embedded_checksums_match_the_shipped_sums_files():
    for name in ("mnist", "fashion-mnist"):
        sums = SHARED / name / "SHA256SUMS"
        if not sums.is_file():
            pytest.skip(f"{sums} not found")
        for line in sums.read_text().splitlines():
            digest, filename = line.split()
            assert src.SHA256[(name, filename)] == digest
            assert src.SIZES[(name, filename)] == (SHARED / name / filename).stat().st_size


@needs_shared
def test_real_files_verified_once_per_process(monkeypatch):
    calls = []
    real = src._sha256
    monkeypatch.setattr(src, "_sha256", lambda p: calls.append(p.name) or real(p))
    first = load_dataset("mnist", "test", data_dir=SHARED / "mnist")
    second = load_dataset("mnist", "test", data_dir=SHARED / "mnist")
    assert sorted(calls) == sorted(f"{s}.gz" for s in TEST_STEMS)
    np.testing.assert_array_equal(first.X, second.X)


# --- downloads from a local server -----------------------------------------------------------

@needs_shared
def test_download_from_local_mirror_then_cache(tmp_path, serve, monkeypatch):
    base = serve(SHARED)
    monkeypatch.setenv("GLASSNET_MIRROR", base + "{name}/")
    ds = load_dataset("mnist", "test", progress=False)
    assert sorted(serve.requests) == sorted(f"/mnist/{s}.gz" for s in TEST_STEMS)
    cache = cache_folder(tmp_path)
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{s}.gz" for s in TEST_STEMS)
    for stem in TEST_STEMS:
        assert (cache / f"{stem}.gz").read_bytes() == (SHARED / "mnist" / f"{stem}.gz").read_bytes()
    direct = load_dataset("mnist", "test", data_dir=SHARED / "mnist")
    np.testing.assert_array_equal(ds.X, direct.X)
    np.testing.assert_array_equal(ds.y, direct.y)
    # second load: from the cache, no request
    load_dataset("mnist", "test", progress=False)
    assert len(serve.requests) == 2


@needs_shared
def test_second_mirror_used_when_first_404s(tmp_path, serve):
    (tmp_path / "empty").mkdir()
    bad = serve(tmp_path / "empty")
    bad_requests = serve.requests
    good = serve(SHARED / "mnist")
    ds = load_dataset("mnist", "test", mirrors=[bad, good], progress=False)
    assert ds.n_samples == 10000
    assert len(bad_requests) == 2 and len(serve.requests) == 2


@needs_shared
def test_damaged_cache_file_is_replaced_by_download(tmp_path, serve):
    cache = cache_folder(tmp_path)
    cache.mkdir(parents=True)
    for stem in TEST_STEMS:
        shutil.copy(SHARED / "mnist" / f"{stem}.gz", cache)
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    with pytest.raises(DataError, match="checksum mismatch"):
        load_dataset("mnist", "test", download=False)
    src._verified.clear()
    base = serve(SHARED / "mnist")
    ds = load_dataset("mnist", "test", mirrors=base, progress=False)
    assert serve.requests == ["/t10k-labels-idx1-ubyte.gz"]
    assert np.bincount(ds.y).tolist()[:3] == [980, 1135, 1032]


def test_corrupted_file_on_server_leaves_nothing(tmp_path, serve):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for stem in TEST_STEMS:
        (mirror / f"{stem}.gz").write_bytes(b"not the real file" * 100)
    base = serve(mirror)
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "test", mirrors=[base], progress=False)
    message = str(info.value)
    assert "checksum mismatch" in message and base + "t10k-images-idx3-ubyte.gz" in message
    assert "--data-dir" in message
    cache = cache_folder(tmp_path)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_404_on_every_mirror(tmp_path, serve):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = serve(tmp_path / "a"), serve(tmp_path / "b")
    with pytest.raises(DataError) as info:
        load_dataset("fashion-mnist", "train", mirrors=[first, second], progress=False)
    message = str(info.value)
    assert message.count("HTTP 404") == 2 and first in message and second in message
    assert no_partial_files(cache_folder(tmp_path, "fashion-mnist"))


def test_connection_refused_is_a_data_error(tmp_path):
    with pytest.raises(DataError) as info:  # the fixture's mirror: port 9 on 127.0.0.1
        load_dataset("mnist", "test", progress=False)
    assert "http://127.0.0.1:9/mnist/t10k-images-idx3-ubyte.gz" in str(info.value)


class _CutHandler(_Handler):
    """Promises the full Content-Length, sends half, then hangs up."""

    def do_GET(self):
        self.requests.append(self.path)
        body = Path(self.directory, self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@needs_shared
def test_interrupted_download_is_atomic(tmp_path, serve):
    base = serve(SHARED / "mnist", handler_base=_CutHandler)
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "test", mirrors=[base], progress=False)
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)
    cache = cache_folder(tmp_path)
    assert list(cache.iterdir()) == []  # neither the file nor a temporary file


def test_interrupted_download_removes_temp_file(tmp_path, serve, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "t10k-images-idx3-ubyte.gz").write_bytes(bytes(300_000))
    base = serve(mirror)
    cache = cache_folder(tmp_path)
    seen_during_download = []
    local_open = src._open_url

    class Interrupting:
        """A response that lets one block through, then the user presses Ctrl-C."""

        def __init__(self, response):
            self.response, self.headers, self.reads = response, response.headers, 0

        def read(self, size):
            self.reads += 1
            if self.reads == 2:
                seen_during_download.extend(sorted(p.name for p in cache.iterdir()))
                raise KeyboardInterrupt
            return self.response.read(size)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.response.close()

    monkeypatch.setattr(src, "_open_url", lambda url, timeout: Interrupting(local_open(url,
                                                                                        timeout)))
    with pytest.raises(KeyboardInterrupt):
        src.download_file("mnist", "t10k-images-idx3-ubyte.gz", cache, mirrors=[base],
                          progress=False)
    # while downloading, only a hidden temporary file existed; afterwards, nothing
    assert len(seen_during_download) == 1
    assert seen_during_download[0].startswith(".t10k-images-idx3-ubyte.gz.")
    assert seen_during_download[0].endswith(".part")
    assert list(cache.iterdir()) == []


# --- small pieces ----------------------------------------------------------------------------

def test_mirror_urls(monkeypatch):
    monkeypatch.delenv("GLASSNET_MIRROR")
    assert src.mirror_urls("mnist") == list(src.MIRRORS["mnist"])
    assert src.mirror_urls("fashion-mnist", "http://a/{name} http://b/x/") == [
        "http://a/fashion-mnist/", "http://b/x/"]
    monkeypatch.setenv("GLASSNET_MIRROR", "http://127.0.0.1:1/{name}")
    assert src.mirror_urls("mnist") == ["http://127.0.0.1:1/mnist/"]
    with pytest.raises(DataError, match="expected an http"):
        src.mirror_urls("mnist", ["ftp://example.org/"])
    with pytest.raises(DataError, match="no mirror"):
        src.mirror_urls("mnist", [])


def test_cache_dir_follows_xdg(tmp_path, monkeypatch):
    assert src.cache_dir("mnist") == cache_folder(tmp_path)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert src.cache_dir("mnist") == tmp_path / "home" / ".cache" / "glassnet" / "mnist"


def test_unknown_names():
    with pytest.raises(DataError, match="fashion-mnist, mnist"):
        locate_files("emnist", "train")
    with pytest.raises(DataError, match="expected 'train' or 'test'"):
        locate_files("mnist", "validation")
    with pytest.raises(DataError, match="not a known mnist file"):
        src.download_file("mnist", "other.gz", "/nonexistent")


def test_progress_bar_off_when_not_a_terminal_or_disabled(monkeypatch):
    assert src._progress_bar(100, "x", enabled=False) is None
    monkeypatch.setattr(src.sys.stderr, "isatty", lambda: False, raising=False)
    assert src._progress_bar(100, "x", enabled=True) is None
