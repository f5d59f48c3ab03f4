"""How fast does glassnet train? Against a plain NumPy loop, PyTorch (CPU) and scikit-learn.

One process trains the same networks on MNIST with every system, interleaved
epoch by epoch (so a noisy neighbour slows every system alike), from the same
initial weights, with the same plain SGD (no momentum), learning rate, batch
size, float32 data and softmax + cross-entropy output with the mean over the
batch. Then it prints one table per network:

* median seconds per epoch (min–max), the first (warm-up) epoch excluded and
  shown on its own, and rounds disturbed by other processes left out;
* the ratios to PyTorch's and to the NumPy loop's medians from the same run;
* the percentage of the GEMM floor: the time the matrix products of one epoch
  take by themselves at the rates NumPy reaches for these shapes (forward
  X·Wᵀ, weight gradients δᵀ·X, and δ·W for every layer but the first), as
  written and with the faster operand order;
* test accuracy after the last epoch (a check that every system learns the
  same thing);
* peak resident memory while training, measured in a separate process per
  system (``/proc/self/clear_refs`` resets the high-water mark right before
  the epoch, so loading the data does not count).

The systems:

``glassnet fit``
    ``glassnet.training.fit(net, X, y, epochs=1, optimizer=sgd, ...)`` called
    once per round: the real training path (checks, shuffling by index,
    batch buffers, History). Its time is the epoch's ``seconds`` from the
    returned History (the same number ``glassnet train --history`` writes:
    shuffling and the training passes); the fit call's one-off setup (input
    checks, targets) is reported separately.
``glassnet engine``
    The engine's own calls ``net._forward``, ``net._backward``, ``opt.step``
    in a four-line loop over the benchmark's permutation (what fit does
    minus its bookkeeping).
``numpy loop``
    The in-house yardstick: the same maths written out by hand with plain
    NumPy and no abstraction (see :class:`NumpyLoop`).
``pytorch``
    ``nn.Sequential`` of ``nn.Linear``, ``torch.optim.SGD``, ``F.cross_entropy``,
    a DataLoader-free loop over the same permutation; ``torch.set_num_threads``.
``scikit-learn``
    ``MLPClassifier(solver="sgd", momentum=0, nesterovs_momentum=False,
    alpha=0, learning_rate="constant", batch_size=...)``, one ``partial_fit``
    per epoch. It shuffles with its own generator (by index, like the others).

Optional peers (torch, scikit-learn) are skipped with a note when missing.

Usage::

    python benchmarks/bench_train.py                 # full run, about 4 minutes
    python benchmarks/bench_train.py --quick         # 784-128-10 only, 3 epochs, no memory
    python benchmarks/bench_train.py --json out.json --data-dir /path/to/mnist
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# ------------------------------------------------------------------- settings
NETWORKS: dict[str, tuple[tuple[int, ...], str]] = {
    "784-128-10-relu": ((784, 128, 10), "relu"),
    "784-256-128-10-relu": ((784, 256, 128, 10), "relu"),
    "784-128-10-sigmoid": ((784, 128, 10), "sigmoid"),
}
SYSTEMS = ("glassnet-fit", "glassnet-engine", "numpy", "torch", "sklearn")
LABELS = {"glassnet-fit": "glassnet fit", "glassnet-engine": "glassnet engine",
          "numpy": "numpy loop", "torch": "pytorch", "sklearn": "scikit-learn"}


# ----------------------------------------------------------------------- data
def find_data_dir(data_dir: str | None) -> Path:
    candidates = [data_dir] if data_dir else []
    if os.environ.get("GLASSNET_DATA"):
        candidates.append(os.path.join(os.environ["GLASSNET_DATA"], "mnist"))
    here = Path(__file__).resolve().parent
    candidates += [str(here.parent.parent / "shared" / "data" / "mnist"),
                   str(here.parent / "shared" / "data" / "mnist")]
    for c in candidates:
        if any((Path(c) / name).exists()
               for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte")):
            return Path(c)
    sys.exit("bench_train: MNIST not found; give --data-dir DIR (the four IDX files) "
             "or set GLASSNET_DATA")


def _read_idx(path: Path, offset: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_mnist(data_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """(X_train, y_train, X_test, y_test, source): float32 pixels in [0, 1], int64 labels."""
    try:
        from glassnet.data import load_dataset
    except ImportError:
        load_dataset = None
    if load_dataset is not None:
        train = load_dataset("mnist", "train", data_dir=data_dir, download=False, progress=False)
        test = load_dataset("mnist", "test", data_dir=data_dir, download=False, progress=False)
        return train.X, train.y, test.X, test.y, "glassnet.data.load_dataset"
    out = []
    for split in ("train", "t10k"):
        name = f"{split}-images-idx3-ubyte"
        p = data_dir / (name + ".gz") if (data_dir / (name + ".gz")).exists() else data_dir / name
        pixels = _read_idx(p, 16).reshape(-1, 784)
        X = np.empty(pixels.shape, np.float32)
        np.divide(pixels, np.float32(255), out=X, dtype=np.float32)
        name = f"{split}-labels-idx1-ubyte"
        p = data_dir / (name + ".gz") if (data_dir / (name + ".gz")).exists() else data_dir / name
        out += [X, _read_idx(p, 8).astype(np.int64)]
    return out[0], out[1], out[2], out[3], "bench_train's own IDX reader"


def initial_weights(sizes: tuple[int, ...], activation: str, seed: int) -> list[tuple]:
    """[(W, b), ...] float32, W of shape (out, in): He normal for ReLU, Glorot uniform else."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        if activation == "relu":
            W = rng.normal(0.0, math.sqrt(2.0 / n_in), size=(n_out, n_in))
        else:
            limit = math.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_out, n_in))
        params.append((W.astype(np.float32), np.zeros(n_out, np.float32)))
    return params


# -------------------------------------------------------------------- systems
class System:
    """One way of training: ``epoch(perm, round)`` returns the epoch's seconds."""

    name = ""

    def __init__(self, cfg: argparse.Namespace, data: dict[str, Any], sizes: tuple[int, ...],
                 activation: str, params: list[tuple]):
        self.cfg, self.data, self.sizes, self.activation = cfg, data, sizes, activation
        self.last_loss = float("nan")
        self.notes: list[str] = []

    def epoch(self, perm: np.ndarray, round_: int) -> float:
        raise NotImplementedError

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError


class GlassnetFit(System):
    """glassnet's real training path, one ``fit(..., epochs=1)`` per round."""

    name = "glassnet-fit"

    def __init__(self, cfg, data, sizes, activation, params):
        super().__init__(cfg, data, sizes, activation, params)
        from glassnet import SGD, Network
        from glassnet.training import fit

        self.fit = fit
        self.net = Network(list(sizes), [activation] * (len(sizes) - 2) + ["softmax"],
                           "cross_entropy", weights=[W for W, _ in params],
                           biases=[b for _, b in params], reduction="mean", dtype="float32")
        self.opt = SGD(lr=cfg.lr)
        self.setup_seconds: list[float] = []
        #: BLAS threads for glassnet's epochs: --glassnet-threads, else --threads
        self.threads = cfg.threads

    def epoch(self, perm, round_):
        t0 = time.perf_counter()
        history = self.fit(self.net, self.data["X"], self.data["y"], epochs=1,
                           batch_size=self.cfg.batch_size, optimizer=self.opt,
                           seed=self.cfg.seed + round_, progress=False,
                           threads=self.threads)
        wall = time.perf_counter() - t0
        seconds = float(history["seconds"][-1])
        self.setup_seconds.append(wall - seconds)
        self.last_loss = float(history["loss"][-1])
        return seconds

    def accuracy(self, X, y):
        return float(np.mean(self.net.predict(X).argmax(axis=1) == y))


class GlassnetEngine(GlassnetFit):
    """The engine's three calls in a bare loop over the benchmark's permutation."""

    name = "glassnet-engine"

    def epoch(self, perm, round_):
        limiter = set_threads(self.threads) if self.threads != self.cfg.threads else None
        try:
            return self._epoch(perm)
        finally:
            if limiter is not None:
                limiter.restore_original_limits()

    def _epoch(self, perm):
        X, T, B = self.data["X"], self.data["T"], self.cfg.batch_size
        net, opt = self.net, self.opt
        total = 0.0
        t0 = time.perf_counter()
        for start in range(0, len(perm), B):
            idx = perm[start:start + B]
            net._forward(X[idx])
            total += net._backward(T[idx]) * len(idx)
            opt.step(net)
        seconds = time.perf_counter() - t0
        self.last_loss = total / len(perm)
        return seconds


class NumpyLoop(System):
    """The yardstick: plain NumPy, written as one would by hand, no abstraction.

    Same maths as the others: Z = X Wᵀ + b, hidden ReLU or sigmoid, softmax
    output, cross-entropy averaged over the batch, fused δ = (p − t)/n,
    no input gradient for the first layer, W −= lr·∂E/∂W.
    """

    name = "numpy"

    def __init__(self, cfg, data, sizes, activation, params):
        super().__init__(cfg, data, sizes, activation, params)
        self.Ws = [W.copy() for W, _ in params]
        self.bs = [b.copy() for _, b in params]

    def epoch(self, perm, round_):
        X, T, B, lr = self.data["X"], self.data["T"], self.cfg.batch_size, self.cfg.lr
        Ws, bs, L = self.Ws, self.bs, len(self.Ws)
        relu = self.activation == "relu"
        total = 0.0
        t0 = time.perf_counter()
        with np.errstate(over="ignore"):  # exp(-z) may overflow to inf for a sigmoid: fine
            for start in range(0, len(perm), B):
                idx = perm[start:start + B]
                x, t = X[idx], T[idx]
                n = len(idx)
                acts = [x]                                  # inputs of each layer
                for l in range(L - 1):
                    z = acts[-1] @ Ws[l].T + bs[l]
                    acts.append(np.maximum(z, 0) if relu else 1 / (1 + np.exp(-z)))
                z = acts[-1] @ Ws[-1].T + bs[-1]
                z -= z.max(axis=1, keepdims=True)          # stable softmax
                e = np.exp(z)
                s = e.sum(axis=1, keepdims=True)
                total += float(np.log(s).sum() - (t * z).sum())   # Σ −log softmax(z)·t
                delta = (e / s - t) / n
                for l in range(L - 1, -1, -1):
                    grad_W = delta.T @ acts[l]
                    grad_b = delta.sum(axis=0)
                    if l > 0:
                        a = acts[l]
                        delta = (delta @ Ws[l]) * ((a > 0) if relu else a * (1 - a))
                    Ws[l] -= lr * grad_W
                    bs[l] -= lr * grad_b
        seconds = time.perf_counter() - t0
        self.last_loss = total / len(perm)
        return seconds

    def accuracy(self, X, y):
        a = X
        for l in range(len(self.Ws)):
            z = a @ self.Ws[l].T + self.bs[l]
            a = z if l == len(self.Ws) - 1 else (
                np.maximum(z, 0) if self.activation == "relu" else 1 / (1 + np.exp(-z)))
        return float(np.mean(a.argmax(axis=1) == y))


class TorchSystem(System):
    name = "torch"

    @staticmethod
    def available() -> str | None:
        try:
            import torch  # noqa: F401
        except ImportError:
            return "PyTorch not installed (pip install torch==2.13.0, CPU build)"
        return None

    def __init__(self, cfg, data, sizes, activation, params):
        super().__init__(cfg, data, sizes, activation, params)
        import torch

        torch.set_num_threads(cfg.threads)
        self.torch = torch
        layers: list[Any] = []
        for l, (W, b) in enumerate(params):
            lin = torch.nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            if l < len(params) - 1:
                layers.append(torch.nn.ReLU() if activation == "relu" else torch.nn.Sigmoid())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.lr)
        self.X = torch.from_numpy(data["X"])          # shares memory: no copy
        self.y = torch.from_numpy(data["y"])

    def epoch(self, perm, round_):
        torch, F = self.torch, self.torch.nn.functional
        model, opt, X, y, B = self.model, self.opt, self.X, self.y, self.cfg.batch_size
        total = 0.0
        t0 = time.perf_counter()
        perm_t = torch.from_numpy(perm)
        for start in range(0, len(perm), B):
            idx = perm_t[start:start + B]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        seconds = time.perf_counter() - t0
        self.last_loss = total / len(perm)
        return seconds

    def accuracy(self, X, y):
        with self.torch.inference_mode():
            out = self.model(self.torch.from_numpy(X)).numpy()
        return float(np.mean(out.argmax(axis=1) == y))


class SklearnSystem(System):
    name = "sklearn"

    @staticmethod
    def available() -> str | None:
        try:
            import sklearn  # noqa: F401
        except ImportError:
            return "scikit-learn not installed"
        return None

    def __init__(self, cfg, data, sizes, activation, params):
        super().__init__(cfg, data, sizes, activation, params)
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        self.clf = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]),
            activation="relu" if activation == "relu" else "logistic",
            solver="sgd", learning_rate="constant", learning_rate_init=cfg.lr,
            momentum=0.0, nesterovs_momentum=False, alpha=0.0,
            batch_size=cfg.batch_size, shuffle=True, random_state=cfg.seed,
            early_stopping=False, tol=0.0, n_iter_no_change=10**9, max_iter=1,
        )
        # One update on one batch creates the fitted state, then our weights replace
        # the random ones in place (the optimizer holds references to these arrays).
        X, y = data["X"], data["y"]
        B = cfg.batch_size
        self.clf.partial_fit(X[:B], y[:B], classes=np.arange(sizes[-1]))
        for (W, b), coef, intercept in zip(params, self.clf.coefs_, self.clf.intercepts_,
                                                  strict=True):
            np.copyto(coef, W.T)
            np.copyto(intercept, b)
        if self.clf.coefs_[0].dtype != np.float32:
            self.notes.append(f"scikit-learn trains in {self.clf.coefs_[0].dtype}")

    def epoch(self, perm, round_):
        t0 = time.perf_counter()
        self.clf.partial_fit(self.data["X"], self.data["y"])
        seconds = time.perf_counter() - t0
        self.last_loss = float(self.clf.loss_)
        return seconds

    def accuracy(self, X, y):
        return float(np.mean(self.clf.predict(X) == y))


SYSTEM_CLASSES = {"glassnet-fit": GlassnetFit, "glassnet-engine": GlassnetEngine,
                  "numpy": NumpyLoop, "torch": TorchSystem, "sklearn": SklearnSystem}


def unavailable(name: str) -> str | None:
    check = getattr(SYSTEM_CLASSES[name], "available", None)
    return check() if check else None


# ----------------------------------------------------------------- GEMM floor
def gemm_shapes(sizes: tuple[int, ...], n: int) -> list[tuple[str, tuple, tuple, bool, bool]]:
    """The matrix products of one batch of n rows: (what, A shape, B shape, A.T?, B.T?)."""
    shapes = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        shapes.append((f"X·Wᵀ {l + 1}", (n, n_in), (n_out, n_in), False, True))
        shapes.append((f"δᵀ·X {l + 1}", (n, n_out), (n, n_in), True, False))
        if l > 0:
            shapes.append((f"δ·W {l + 1}", (n, n_out), (n_out, n_in), False, False))
    return shapes


def time_gemm(a_shape, b_shape, ta, tb, reps: int,
              rng: np.random.Generator) -> tuple[float, float]:
    """Median seconds of one float32 product C = A·B at this shape, two ways.

    ``as_written``: the expression as backpropagation writes it (X·Wᵀ, δᵀ·X, δ·W with
    row-major X, W, δ), into a preallocated output or a new one, whichever is faster;
    ``best``: also Bᵀ·Aᵀ into a row-major Cᵀ, the other order BLAS can be asked for.
    """
    A = rng.standard_normal(a_shape, dtype=np.float32)
    Bm = rng.standard_normal(b_shape, dtype=np.float32)
    a, b = (A.T if ta else A), (Bm.T if tb else Bm)
    found = []
    for x, y in ((a, b), (b.T, a.T)):
        out = np.empty((x.shape[0], y.shape[1]), np.float32)
        best = math.inf
        for use_out in (True, False):
            for _ in range(3):
                np.matmul(x, y, out=out) if use_out else x @ y
            ts = []
            for _ in range(reps):
                t0 = time.perf_counter()
                np.matmul(x, y, out=out) if use_out else x @ y
                ts.append(time.perf_counter() - t0)
            best = min(best, statistics.median(ts))
        found.append(best)
    return found[0], min(found)


def gemm_floor(sizes: tuple[int, ...], n_rows: int, batch: int, reps: int,
               seed: int = 0) -> tuple[float, float]:
    """Seconds the GEMMs of one epoch take by themselves: (as written, best order)."""
    rng = np.random.default_rng(seed)
    full, last = divmod(n_rows, batch)
    as_written = best = 0.0
    for n, count in ((batch, full), (last, 1)):
        if count and n:
            for _, a, b, ta, tb in gemm_shapes(sizes, n):
                t_written, t_best = time_gemm(a, b, ta, tb, reps, rng)
                as_written += count * t_written
                best += count * t_best
    return as_written, best


# --------------------------------------------------------------------- memory
def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def memory_probe(cfg: argparse.Namespace) -> None:
    """Child process: one system, each network: peak RSS during 1 epoch (JSON on stdout)."""
    data = make_data(cfg)
    system = cfg.memory_probe
    results = {}
    for key in cfg.networks:
        sizes, act = NETWORKS[key]
        params = initial_weights(sizes, act, cfg.seed)
        sys_obj = SYSTEM_CLASSES[system](cfg, data, sizes, act, params)
        perm = np.random.default_rng(cfg.seed).permutation(len(data["X"]))
        if system not in ("glassnet-fit", "sklearn"):  # page the libraries' code in first
            sys_obj.epoch(perm[:4 * cfg.batch_size], 0)
        gc.collect()
        if not _reset_peak():
            results[key] = None
            continue
        rss_before = _status_kb("VmRSS")
        sys_obj.epoch(perm, 0)
        peak = _status_kb("VmHWM")
        results[key] = {"peak_mb": peak / 1024, "delta_mb": (peak - rss_before) / 1024}
        del sys_obj
        gc.collect()
    print(json.dumps(results))


def run_memory_probes(cfg: argparse.Namespace, systems: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for system in systems:
        cmd = [sys.executable, __file__, "--memory-probe", system, "--data-dir",
               str(cfg.data_dir), "--lr", str(cfg.lr), "--batch-size", str(cfg.batch_size),
               "--threads", str(cfg.threads), "--seed", str(cfg.seed),
               "--networks", *cfg.networks]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  memory probe for {system} failed: {proc.stderr.strip()[-300:]}",
                  file=sys.stderr)
            continue
        out[system] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# ------------------------------------------------------------ background load
def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy jiffies of the whole machine, jiffies of this process and its children)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        values = [int(v) for v in fields]
        busy = sum(values) - values[3] - (values[4] if len(values) > 4 else 0)  # − idle, iowait
        own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        mine = sum(int(v) for v in own[11:15])  # utime stime cutime cstime
        return busy, mine
    except (OSError, ValueError, IndexError):
        return None


class BackgroundLoad:
    """How busy the machine was with *other* processes, in CPUs, over a stretch of time."""

    def __init__(self) -> None:
        self.start, self.t0 = _cpu_jiffies(), time.monotonic()

    def cpus(self) -> float | None:
        end = _cpu_jiffies()
        if self.start is None or end is None:
            return None
        hz = os.sysconf("SC_CLK_TCK")
        others = (end[0] - self.start[0]) - (end[1] - self.start[1])
        return max(0.0, others / hz / (time.monotonic() - self.t0))


def quiet_check(seconds: float = 2.0) -> float | None:
    probe = BackgroundLoad()
    time.sleep(seconds)
    return probe.cpus()


# ------------------------------------------------------------------ machine
def machine_info(threads: int) -> dict[str, str]:
    info = {"date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "python": platform.python_version(), "numpy": np.__version__,
            "nproc": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count())}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        info["cpu"] = platform.processor() or "unknown"
    try:
        from threadpoolctl import threadpool_info

        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        blas.sort(key=lambda p: "numpy" not in str(p.get("filepath", "")))  # NumPy's first
        if blas:
            p = blas[0]
            info["numpy BLAS"] = (f"{p.get('internal_api')} {p.get('version')} "
                                  f"({p.get('architecture')}, {p.get('threading_layer')})")
    except ImportError:
        pass
    info["BLAS threads"] = str(threads)
    if unavailable("torch") is None:
        import torch

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    if unavailable("sklearn") is None:
        import sklearn

        info["scikit-learn"] = sklearn.__version__
    return info


# ---------------------------------------------------------------------- main
def make_data(cfg: argparse.Namespace) -> dict[str, Any]:
    X, y, X_test, y_test, source = load_mnist(cfg.data_dir)
    T = np.zeros((len(y), 10), np.float32)
    T[np.arange(len(y)), y] = 1.0
    return {"X": X, "y": y, "T": T, "X_test": X_test, "y_test": y_test, "source": source}


def glassnet_threads(cfg: argparse.Namespace, sizes: tuple[int, ...]) -> int:
    """--glassnet-threads for this network: a number, or glassnet's own choice (auto)."""
    value = cfg.glassnet_threads
    if value is None:
        return cfg.threads
    if str(value).strip().lower() != "auto":
        return int(value)
    from glassnet.threads import ThreadManager

    limiter = set_threads(2)  # glassnet measures from the machine's own default
    try:
        with ThreadManager(None, shape=(cfg.batch_size, sizes[0], sizes[1]), sizes=sizes,
                           optimizer="sgd") as manager:
            print(f"glassnet threads for {'-'.join(map(str, sizes))}: {manager.describe()}, "
                  f"two-thread speed-up of a training step {manager.speedup():.2f}", flush=True)
            return int(manager.threads)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()


def set_threads(n: int) -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=n, user_api="blas")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=8,
                   help="epochs per system; the first is a warm-up, reported apart (default 8)")
    p.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    p.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=list(SYSTEMS))
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", default="2",
                   help="BLAS / torch threads, or auto: glassnet's own choice from the machine's "
                        "load (glassnet.threads), used for every system (default 2)")
    p.add_argument("--glassnet-threads", default=None,
                   help="BLAS threads for glassnet's two systems only, or auto: glassnet's "
                        "own choice per network, from the load and a timed training step at "
                        "1 and 2 threads (what `glassnet train` does); the peers keep "
                        "--threads (default: --threads)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--pause", type=float, default=0.3,
                   help="seconds of rest between two systems' epochs, so the BLAS and OpenMP "
                        "workers of the previous one stop spinning (default 0.3)")
    p.add_argument("--gemm-reps", type=int, default=25)
    p.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="wait up to this long for other processes to leave the CPUs idle")
    p.add_argument("--max-background", type=float, default=0.15, metavar="CPUS",
                   help="leave out of the statistics the rounds during which other processes "
                        "kept more than this many CPUs busy (default 0.15)")
    p.add_argument("--quick", action="store_true",
                   help="784-128-10 only, 3 epochs, no memory probes (about 30 s)")
    p.add_argument("--json", default=None, help="also write every measurement to this file")
    p.add_argument("--busy-neighbour", action="store_true",
                   help="start a process spinning on one core (python -c 'while True: pass') "
                        "for the whole run: issue 12's busy machine")
    p.add_argument("--memory-probe", default=None, help=argparse.SUPPRESS)
    cfg = p.parse_args(argv)
    if cfg.quick:
        cfg.epochs, cfg.networks, cfg.no_memory = 3, ["784-128-10-relu"], True
        cfg.gemm_reps = min(cfg.gemm_reps, 15)
    if cfg.epochs < 2:
        p.error("--epochs must be at least 2 (the first is a warm-up)")
    cfg.data_dir = find_data_dir(cfg.data_dir)
    return cfg


def quiet_rounds(background: list[float | None], cfg: argparse.Namespace) -> list[int]:
    """The rounds whose epochs are timed: all but the warm-up, less those during which
    other processes kept more than --max-background CPUs busy (while at least two remain:
    then the quietest ones)."""
    rounds = list(range(1, len(background)))
    quiet = [r for r in rounds if background[r] is None or background[r] <= cfg.max_background]
    if len(quiet) >= min(2, len(rounds)):
        return quiet
    return sorted(sorted(rounds, key=lambda r: background[r] or 0.0)[:2])


def fmt_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def uptime() -> str:
    """The machine's load averages, as `uptime` prints them."""
    try:
        return "load average " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load average unknown"


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    neighbour = None
    if cfg.busy_neighbour and not cfg.memory_probe:
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(1.0)
        print("busy neighbour: a process spinning on one core for the whole run", flush=True)
    try:
        return _main(cfg)
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()


def _main(cfg: argparse.Namespace) -> int:
    print(f"uptime at start: {uptime()}", flush=True)
    if str(cfg.threads).strip().lower() == "auto":
        from glassnet.threads import ThreadManager

        manager = ThreadManager(None, shape=(cfg.batch_size, 784, 128)).__enter__()
        cfg.threads = manager.threads
        print(f"threads: {manager.describe()}", flush=True)
    cfg.threads = int(cfg.threads)
    limiter = set_threads(cfg.threads)  # noqa: F841  (kept alive for the whole run)
    if cfg.memory_probe:
        memory_probe(cfg)
        return 0

    systems, skipped = [], {}
    for name in cfg.systems:
        reason = unavailable(name)
        if reason:
            skipped[name] = reason
        else:
            systems.append(name)
    for name, reason in skipped.items():
        print(f"note: skipping {LABELS[name]}: {reason}")

    background = quiet_check()
    deadline = time.monotonic() + cfg.wait_quiet
    while background is not None and background > 0.2 and time.monotonic() < deadline:
        print(f"waiting for a quiet machine: {background:.2f} CPUs busy with other processes",
              flush=True)
        time.sleep(10)
        background = quiet_check()
    if background is not None and background > 0.2:
        print(f"WARNING: {background:.2f} CPUs are busy with other processes: the timings will "
              f"be noisy (interleaving keeps the comparison fair, not the absolute numbers)")

    t_start = time.perf_counter()
    data = make_data(cfg)
    n_rows = len(data["X"])
    info = machine_info(cfg.threads)
    print(f"data: MNIST train {data['X'].shape} {data['X'].dtype}, test {data['X_test'].shape}"
          f" (via {data['source']})")
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    print(f"settings: SGD lr {cfg.lr}, no momentum, batch {cfg.batch_size}, float32, "
          f"{cfg.epochs} epochs (first = warm-up), softmax + cross-entropy (mean)\n")

    results: dict[str, Any] = {"machine": info, "settings": {
        k: v for k, v in vars(cfg).items() if k not in ("memory_probe",)} | {
        "data_dir": str(cfg.data_dir)}, "networks": {}}
    load = BackgroundLoad()
    for key in cfg.networks:
        sizes, act = NETWORKS[key]
        params = initial_weights(sizes, act, cfg.seed)
        objs = {name: SYSTEM_CLASSES[name](cfg, data, sizes, act, params) for name in systems}
        own = glassnet_threads(cfg, sizes)
        for name in ("glassnet-fit", "glassnet-engine"):
            if name in objs:
                objs[name].threads = own
        times: dict[str, list[float]] = {name: [] for name in systems}
        losses: dict[str, list[float]] = {name: [] for name in systems}
        floors: list[float] = []
        floors_best: list[float] = []
        background: list[float | None] = []
        perm_rng = np.random.default_rng([cfg.seed, 7])
        for round_ in range(cfg.epochs):
            perm = perm_rng.permutation(n_rows)
            order = systems[round_ % len(systems):] + systems[:round_ % len(systems)]
            round_load = BackgroundLoad()
            for name in order:  # rotate, so no system always follows the same one
                time.sleep(cfg.pause)
                times[name].append(objs[name].epoch(perm, round_))
                losses[name].append(objs[name].last_loss)
            time.sleep(cfg.pause)
            floor, floor_best = gemm_floor(sizes, n_rows, cfg.batch_size, cfg.gemm_reps,
                                           seed=round_)
            floors.append(floor)
            floors_best.append(floor_best)
            background.append(round_load.cpus())
            busy = background[-1]
            print(f"  {key} epoch {round_}: " + ", ".join(
                f"{LABELS[n]} {times[n][-1]:.3f}s" for n in systems)
                  + f", GEMM floor {floors[-1]:.3f}s (best order {floors_best[-1]:.3f}s)"
                  + ("" if busy is None else f", other processes {busy:.2f} CPUs"), flush=True)
        acc = {name: objs[name].accuracy(data["X_test"], data["y_test"]) for name in systems}
        results["networks"][key] = {
            "sizes": sizes, "activation": act, "epoch_seconds": times, "train_loss": losses,
            "gemm_floor_seconds": floors, "gemm_floor_best_order_seconds": floors_best,
            "test_accuracy": acc,
            "background_cpus": background, "timed_rounds": quiet_rounds(background, cfg),
            "fit_setup_seconds": getattr(objs.get("glassnet-fit"), "setup_seconds", None),
            "notes": {n: o.notes for n, o in objs.items() if o.notes},
        }
        del objs
        gc.collect()

    results["background_cpus"] = load.cpus()
    memory = {} if cfg.no_memory else run_memory_probes(cfg, systems)
    results["memory"] = memory
    results["total_seconds"] = time.perf_counter() - t_start

    print()
    print(render_tables(results, systems, cfg))
    if results["background_cpus"] is not None:
        print(f"background load during the timed epochs: {results['background_cpus']:.2f} of "
              f"{info['nproc']} CPUs busy with other processes")
    for name, reason in skipped.items():
        print(f"note: {LABELS[name]} skipped: {reason}")
    if cfg.json:
        Path(cfg.json).write_text(json.dumps(results, indent=1, default=str))
    print(f"\n(total run time {results['total_seconds']:.0f} s; uptime at the end: {uptime()})")
    return 0


def render_tables(results: dict[str, Any], systems: list[str], cfg: argparse.Namespace) -> str:
    lines = []
    for key, r in results["networks"].items():
        rounds = r["timed_rounds"]
        floors = [r["gemm_floor_seconds"][i] for i in rounds]
        floor = statistics.median(floors)
        floor_best = statistics.median([r["gemm_floor_best_order_seconds"][i] for i in rounds])
        torch_med = (statistics.median([r["epoch_seconds"]["torch"][i] for i in rounds])
                     if "torch" in r["epoch_seconds"] else None)
        numpy_med = (statistics.median([r["epoch_seconds"]["numpy"][i] for i in rounds])
                     if "numpy" in r["epoch_seconds"] else None)
        dropped = len(r["gemm_floor_seconds"]) - 1 - len(rounds)
        lines.append(f"### {key} (SGD lr {cfg.lr}, batch {cfg.batch_size}, float32; "
                     f"{len(rounds)} timed epochs after 1 warm-up"
                     + (f", {dropped} noisy round(s) left out" if dropped else "")
                     + f"; GEMM floor {floor:.3f} s, min–max {min(floors):.3f}–"
                     f"{max(floors):.3f}; with the best operand order {floor_best:.3f} s)")
        lines.append("")
        lines.append(fmt_row(["system", "epoch s, median (min–max)", "first epoch s",
                              "× pytorch", "× numpy loop", "% of GEMM floor",
                              "(best order)", f"test acc ({cfg.epochs} ep)", "last-epoch loss",
                              "peak RSS MB (Δ training)"]))
        lines.append(fmt_row(["---"] * 10))
        for name in systems:
            ts = r["epoch_seconds"][name]
            timed = [ts[i] for i in rounds]
            med = statistics.median(timed)
            ratio = f"{med / torch_med:.2f}" if torch_med else "–"
            ratio_np = f"{med / numpy_med:.2f}" if numpy_med else "–"
            mem = results.get("memory", {}).get(name, {}).get(key)
            mem_s = f"{mem['peak_mb']:.0f} (+{mem['delta_mb']:.0f})" if mem else "–"
            lines.append(fmt_row([
                LABELS[name], f"{med:.3f} ({min(timed):.3f}–{max(timed):.3f})",
                f"{ts[0]:.3f}", ratio, ratio_np, f"{100 * floor / med:.0f}%",
                f"{100 * floor_best / med:.0f}%",
                f"{100 * r['test_accuracy'][name]:.2f}%",
                f"{r['train_loss'][name][-1]:.4f}", mem_s]))
        setup = r.get("fit_setup_seconds")
        if setup:
            lines.append("")
            lines.append(f"glassnet fit: per-call setup outside the epoch (checks, targets, "
                         f"History): median {statistics.median(setup[1:] or setup):.3f} s")
        for name, notes in r.get("notes", {}).items():
            for note in notes:
                lines.append(f"note ({LABELS[name]}): {note}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
