"""BLAS threads: how many to use, chosen from the machine's load and a measurement.

Why glassnet decides this itself: OpenBLAS (NumPy's BLAS) starts one worker
per core and its workers *spin* while they wait for each other. On a 2-core
machine where another process holds one core, a matrix product split over two
threads waits, at every call, for the half that the scheduler has parked
behind the other process: a 784-128-10 epoch went from 0.41 s to 1.48 s, and
``glassnet train --dataset digits`` (small matrices, many calls) from 1.5 s to
90 s. One thread on the free core does not wait for anybody.

So the rule is: use as many threads as there are cores *free of other
processes*, and two only where two are measurably faster than one for this
network's matrix products. The machine's load is read from ``/proc/stat``
(CPU time of the whole machine minus this process's own, over a short
sample, or over the last epoch while training), and re-read after every
epoch, so a neighbour that starts or stops in the middle of a run is noticed
at the next epoch. ``--threads N`` (``threads=N``) overrides all of it.

Nothing here is imported by ``import glassnet``; threadpoolctl is imported
only when a limit is set.

>>> choose_threads(2, busy_others=0.0)   # a quiet 2-core machine
2
>>> choose_threads(2, busy_others=1.0)   # one core held by another process
1
>>> choose_threads(2, busy_others=0.0, speedup=1.05)   # 2 threads barely help: keep 1
1
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from .errors import GlassnetError

__all__ = ["cpu_count", "choose_threads", "LoadMeter", "other_busy_cpus", "gemm_speedup",
           "ThreadManager", "check_threads", "current_threads", "quick_threads", "step_speedup",
           "runnable_others"]

#: a core counts as free when other processes use less than this fraction of it
FREE_CORE = 0.6
#: two threads must be at least this much faster than one to be worth the risk
MIN_SPEEDUP = 1.15
#: how long the first look at the machine's load lasts (seconds)
SAMPLE_SECONDS = 0.12

_SPEEDUP_CACHE: dict[tuple, float] = {}
#: the manager of the run in progress (``fit`` uses it instead of making its own)
_ACTIVE: list[ThreadManager] = []
#: the last load reading of this process: (perf_counter time, busy CPUs), reused for a while
_LAST_READING: list[tuple[float, float]] = []
#: how long a load reading stays fresh enough to reuse (seconds)
READING_TTL = 5.0


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def check_threads(value: Any, what: str = "--threads") -> int | None:
    """None/'auto' → None (choose automatically); a whole number >= 1 → itself."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "auto"):
        return None
    try:
        n = int(value)
        ok = not isinstance(value, bool) and float(value) == n and n >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise GlassnetError(f"{what}: expected a whole number of threads >= 1 or 'auto', "
                            f"got {value!r}")
    return n


def choose_threads(n_cpus: int, busy_others: float | None, speedup: float | None = None) -> int:
    """The number of BLAS threads for ``n_cpus`` cores when other processes keep
    ``busy_others`` CPUs busy (None: unknown, assumed quiet).

    One thread per core that others leave (at least ``FREE_CORE``) free; one
    thread when a measured two-thread ``speedup`` is below ``MIN_SPEEDUP``.
    """
    n_cpus = max(1, int(n_cpus))
    busy = max(0.0, float(busy_others or 0.0))
    free = n_cpus - busy
    n = max(1, min(n_cpus, int(free + (1.0 - FREE_CORE))))
    if n >= 2 and speedup is not None and speedup < MIN_SPEEDUP:
        n = 1
    return n


# ------------------------------------------------------------------ the load
def _machine_busy_seconds() -> float | None:
    """CPU-seconds the whole machine has spent busy since boot (from /proc/stat)."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu":
        return None
    try:
        values = [int(v) for v in fields[1:]]
    except ValueError:
        return None
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    busy = sum(values[:8]) - idle
    return busy / _clock_ticks()


def _clock_ticks() -> float:
    try:
        return float(os.sysconf("SC_CLK_TCK"))
    except (AttributeError, ValueError, OSError):
        return 100.0


class LoadMeter:
    """How many CPUs *other* processes kept busy between two readings.

    The machine's busy CPU time (``/proc/stat``) minus this process's own
    (``time.process_time``, every thread of it), per second of wall time.

    >>> meter = LoadMeter()
    >>> busy = meter.read()     # None on systems without /proc/stat
    >>> busy is None or busy >= 0.0
    True
    """

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        self._wall = time.perf_counter()
        self._own = time.process_time()
        self._machine = _machine_busy_seconds()

    def read(self, restart: bool = True) -> float | None:
        """Other processes' busy CPUs since the last (re)start; None when unknown or too short."""
        wall, own, machine = time.perf_counter(), time.process_time(), _machine_busy_seconds()
        result = None
        elapsed = wall - self._wall
        # /proc/stat counts in clock ticks (10 ms): shorter samples say little
        if machine is not None and self._machine is not None and elapsed >= 0.05:
            result = max(0.0, ((machine - self._machine) - (own - self._own)) / elapsed)
        if restart and (result is not None or machine is None or self._machine is None):
            self._wall, self._own, self._machine = wall, own, machine
        return result


def other_busy_cpus(seconds: float = SAMPLE_SECONDS) -> float | None:
    """Sample the machine for ``seconds`` (this process sleeping): other processes' busy CPUs."""
    meter = LoadMeter()
    time.sleep(seconds)
    return meter.read()


def runnable_others() -> float | None:
    """Processes runnable right now besides this one (``/proc/loadavg``'s 4th field, less 1).

    A snapshot, free to take: what a quick command (evaluate, predict) uses instead
    of sampling the load for longer than it will run.
    """
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return float(max(0, running - 1))


class quick_threads:
    """For a short command: one BLAS thread when other processes are runnable right now
    (a snapshot, no sampling), the library's own default otherwise; ``requested`` wins.

    >>> with quick_threads(1) as n:
    ...     n
    1
    """

    def __init__(self, requested: int | None = None, busy_others: float | None = -1.0):
        self.requested = check_threads(requested, "threads")
        self._busy = busy_others
        self._limit: Any = None

    def __enter__(self) -> int | None:
        n = self.requested
        if n is None:
            busy = runnable_others() if self._busy == -1.0 else self._busy
            n = choose_threads(cpu_count(), busy)
            if n >= cpu_count():
                return None  # nothing to limit: leave BLAS as it is (and threadpoolctl unloaded)
        self._limit = _limits(n)
        return n

    def __exit__(self, *exc: Any) -> None:
        if self._limit is not None:
            self._limit.restore_original_limits()
            self._limit = None


# ------------------------------------------------------------- measurement
def _limits(n: int) -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(n))


def current_threads() -> int | None:
    """The BLAS library's current thread count (threadpoolctl), None when there is no BLAS."""
    from threadpoolctl import threadpool_info

    counts = [d["num_threads"] for d in threadpool_info() if d.get("user_api") == "blas"]
    return min(counts) if counts else None


def gemm_speedup(shape: Sequence[int] = (128, 784, 128), dtype: str = "float32",
                 budget: float = 0.04) -> float:
    """How much faster two BLAS threads multiply an (m, k)·(k, n) product than one.

    Timed back to back, best of a few calls each, within about ``budget``
    seconds; cached per process and shape (it is asked once per run).
    Call it only when two cores are free: on a busy machine the two-thread
    timing is the very collapse it is meant to avoid.
    """
    import numpy as np

    m, k, n = (int(s) for s in shape)
    key = (m, k, n, str(dtype))
    if key in _SPEEDUP_CACHE:
        return _SPEEDUP_CACHE[key]
    rng = np.random.default_rng(0)
    A = rng.random((m, k), dtype=np.float32).astype(dtype, copy=False)
    B = rng.random((k, n), dtype=np.float32).astype(dtype, copy=False)
    out = np.empty((m, n), dtype=dtype)
    best = {}
    for threads in (1, 2):
        with _limits(threads):
            np.matmul(A, B, out=out)  # wake the workers
            times: list[float] = []
            start = time.perf_counter()
            while len(times) < 3 or (time.perf_counter() - start < budget / 2
                                     and len(times) < 50):
                t0 = time.perf_counter()
                np.matmul(A, B, out=out)
                times.append(time.perf_counter() - t0)
            best[threads] = min(times)
    speedup = best[1] / best[2] if best[2] > 0 else 1.0
    _SPEEDUP_CACHE[key] = speedup
    return speedup


def step_speedup(sizes: Sequence[int], batch_size: int, optimizer: str = "sgd",
                 dtype: str = "float32", budget: float = 0.15) -> float:
    """How much faster two BLAS threads run a whole *training step* of this network than one.

    Why not just a matrix product: two threads split each product, and its result
    then lies half in the other core's cache, so the elementwise work that follows
    (bias, activation, the optimizer's passes over every weight) reads it across
    cores, and OpenBLAS's second thread keeps spinning beside it. Measured on this
    project's 2-core machine, quiet: for 784-128-10 SGD the product alone was 1.3×
    faster on two threads, the epoch 5 % *slower*; for 784-512-256-10 Adam both
    gained. So the step is timed as ``fit`` runs it (a scratch network of
    ``sizes``, ``optimizer``, random rows), in alternating blocks of one and
    two threads (so a load that changes meanwhile hits both alike), and the best
    step of each is compared. Cached per process and workload.
    """
    from .training.budget import scratch_step

    sizes = tuple(int(s) for s in sizes)
    key = ("step", sizes, int(batch_size), str(optimizer), str(dtype))
    if key in _SPEEDUP_CACHE:
        return _SPEEDUP_CACHE[key]
    step = scratch_step(sizes, int(batch_size), dtype, optimizer)
    best = {1: float("inf"), 2: float("inf")}
    start = time.perf_counter()
    for block in range(6):
        threads = 1 + block % 2
        with _limits(threads):
            step()  # the workers wake up, the caches fill
            for _ in range(3):
                t0 = time.perf_counter()
                step()
                best[threads] = min(best[threads], time.perf_counter() - t0)
        if block % 2 and time.perf_counter() - start > budget:
            break
    speedup = best[1] / best[2] if best[2] > 0 else 1.0
    _SPEEDUP_CACHE[key] = speedup
    return speedup


# ------------------------------------------------------------------ manager
class ThreadManager:
    """Holds the BLAS thread limit for one run and re-decides it as the load changes.

    ``requested``: a number of threads (kept as given for the whole run) or
    None to choose automatically. ``shape`` is a typical matrix product of
    the run, (batch, inputs, units of the first layer); with the network's
    layer ``sizes`` (and ``optimizer``) the speed-up is measured on a whole
    training step (:func:`step_speedup`), else on that product alone.
    ``meter``/``speedup``/``n_cpus`` can be injected (tests).

    Use as a context manager; call :meth:`update` after each epoch with
    nothing else: it reads the load over the epoch it just ran (no extra
    sampling). ``changes`` records (epoch, threads, others' busy CPUs).

    >>> with ThreadManager(requested=1) as tm:
    ...     tm.threads
    1
    """

    def __init__(self, requested: int | None = None, *, shape: Sequence[int] | None = None,
                 dtype: str = "float32", sizes: Sequence[int] | None = None,
                 optimizer: str = "sgd", n_cpus: int | None = None,
                 meter: LoadMeter | None = None, speedup: float | None = None,
                 sample_seconds: float = SAMPLE_SECONDS):
        self.requested = check_threads(requested, "threads")
        self.n_cpus = cpu_count() if n_cpus is None else max(1, int(n_cpus))
        self.shape = tuple(shape) if shape is not None else (128, 784, 128)
        self.dtype = str(dtype)
        self.sizes = tuple(int(s) for s in sizes) if sizes is not None else None
        self.optimizer = str(optimizer)
        self._workload_known = shape is not None or sizes is not None
        self.meter = meter
        self._speedup = speedup
        self.sample_seconds = sample_seconds
        self.threads: int | None = None
        self.busy_others: float | None = None
        self.changes: list[tuple[int | None, int, float | None]] = []
        self._limit: Any = None

    def _decide(self, busy: float | None) -> int:
        if self.requested is not None:
            return self.requested
        n = choose_threads(self.n_cpus, busy)
        # the speed-up is measured for the run's own workload: until set_shape tells it
        # (glassnet train enters before its data is loaded), the load alone decides
        if n >= 2 and (self._workload_known or self._speedup is not None):
            n = choose_threads(self.n_cpus, busy, self.speedup())
        return n

    def speedup(self) -> float:
        """The measured two-thread speed-up for this run (measured once, on demand): of a
        whole training step when the network's sizes are known, else of one product."""
        if self._speedup is None:
            if self.sizes is not None:
                try:
                    self._speedup = step_speedup(self.sizes, self.shape[0], self.optimizer,
                                                 self.dtype)
                except (GlassnetError, MemoryError, ValueError):
                    # a workload the scratch step cannot build (an optimizer name it
                    # does not know, no memory for a second copy): time the product
                    self._speedup = None
            if self._speedup is None:
                self._speedup = gemm_speedup(self.shape, self.dtype)
        return self._speedup

    def _apply(self, n: int) -> None:
        if self._limit is not None:
            self._limit.restore_original_limits()
        self._limit = _limits(n)
        self.threads = n

    def __enter__(self) -> ThreadManager:
        _ACTIVE.append(self)
        if self.requested is not None:
            self._apply(self.requested)
            self.changes.append((None, self.requested, None))
            return self
        if self.meter is None:
            self.meter = LoadMeter()
            recent = _LAST_READING[-1] if _LAST_READING else None
            if recent is not None and time.perf_counter() - recent[0] < READING_TTL:
                self.busy_others = recent[1]
            else:
                time.sleep(self.sample_seconds)
                self.busy_others = self.meter.read()
        else:
            self.busy_others = self.meter.read()
        self._remember(self.busy_others)
        self._apply(self._decide(self.busy_others))
        self.changes.append((None, self.threads, self.busy_others))
        self.meter.restart()
        return self

    @staticmethod
    def _remember(busy: float | None) -> None:
        if busy is not None:
            _LAST_READING[:] = [(time.perf_counter(), busy)]

    def update(self, epoch: int | None = None) -> int | None:
        """Re-decide from the load since the last call; return the thread count in force."""
        if self.requested is not None or self.meter is None:
            return self.threads
        busy = self.meter.read()
        if busy is None:
            return self.threads
        self.busy_others = busy
        self._remember(busy)
        n = self._decide(busy)
        if n != self.threads:
            self._apply(n)
            self.changes.append((epoch, n, busy))
        return self.threads

    def __exit__(self, *exc: Any) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        if self._limit is not None:
            self._limit.restore_original_limits()
            self._limit = None

    def set_shape(self, shape: Sequence[int], dtype: str | None = None,
                  sizes: Sequence[int] | None = None,
                  optimizer: str | None = None) -> int | None:
        """Tell the manager the run's typical matrix product (batch, inputs, units), and
        the network's layer ``sizes`` and ``optimizer`` when known, once the data and
        network are, and re-decide (the speed-up is measured for them)."""
        shape = tuple(int(s) for s in shape)
        if dtype is not None:
            self.dtype = str(dtype)
        sizes = tuple(int(s) for s in sizes) if sizes is not None else self.sizes
        optimizer = str(optimizer) if optimizer is not None else self.optimizer
        if (shape, sizes, optimizer) != (self.shape, self.sizes, self.optimizer):
            self.shape, self.sizes, self.optimizer = shape, sizes, optimizer
            self._speedup = None
        self._workload_known = True
        if self.requested is None and self.threads is not None:
            n = self._decide(self.busy_others)
            if n != self.threads:
                self._apply(n)
                self.changes.append((None, n, self.busy_others))
        return self.threads

    @staticmethod
    def active() -> ThreadManager | None:
        """The manager of the run in progress in this process, if any."""
        return _ACTIVE[-1] if _ACTIVE else None

    def describe(self) -> str:
        """One line for the progress display and the History, e.g. '1 (auto; others busy 1.0)'."""
        if self.requested is not None:
            return f"{self.requested} (--threads)"
        busy = "unknown" if self.busy_others is None else f"{self.busy_others:.1f} CPUs"
        return f"{self.threads} (auto; other processes busy: {busy})"
