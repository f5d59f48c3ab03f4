"""BLAS threads: the choice from the load (injected readings), the manager, --threads in a run."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.cli import main
from glassnet.errors import GlassnetError
from glassnet.threads import (
    MIN_SPEEDUP,
    LoadMeter,
    ThreadManager,
    check_threads,
    choose_threads,
    current_threads,
)

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads() -> list[int]:
    """What threadpoolctl itself reports for the BLAS libraries loaded now."""
    return [d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas"]


class FakeMeter:
    """A LoadMeter that returns prepared readings of other processes' busy CPUs."""

    def __init__(self, readings):
        self.readings = list(readings)

    def read(self, restart=True):
        return self.readings.pop(0)

    def restart(self):
        pass


# ------------------------------------------------------------------ the rule
@pytest.mark.parametrize("n_cpus, busy, speedup, expected", [
    (2, 0.0, None, 2),      # quiet: both cores
    (2, 0.1, None, 2),      # a little background noise is not a neighbour
    (2, 1.0, None, 1),      # a spinning neighbour holds one core: one thread
    (2, 0.7, None, 1),      # most of a core is taken
    (2, 2.0, None, 1),      # everything taken: still one thread, never zero
    (2, None, None, 2),     # unknown load (no /proc/stat): assume quiet
    (2, 0.0, 1.05, 1),      # two threads do not pay for this shape
    (2, 0.0, MIN_SPEEDUP, 2),
    (4, 1.0, None, 3),
    (4, 2.5, 2.0, 1),
    (1, 0.0, None, 1),
])
def test_choose_threads_table(n_cpus, busy, speedup, expected):
    assert choose_threads(n_cpus, busy, speedup) == expected


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 64), busy=st.floats(0, 64), extra=st.floats(0, 64),
       speedup=st.one_of(st.none(), st.floats(0.1, 4)))
def test_choose_threads_bounds_and_monotone(n, busy, extra, speedup):
    k = choose_threads(n, busy, speedup)
    assert 1 <= k <= n
    # never more threads than cores left free by others (rounded with FREE_CORE), at least 1
    assert k <= max(1, n - int(busy))
    # more load never means more threads
    assert choose_threads(n, busy + extra, speedup) <= k


@pytest.mark.parametrize("value, expected", [(None, None), ("auto", None), (" AUTO ", None),
                                             (1, 1), ("2", 2), (3, 3)])
def test_check_threads_accepts(value, expected):
    assert check_threads(value) == expected


@pytest.mark.parametrize("value", [0, -1, "0", "x", "1.5", 1.5, True, ""])
def test_check_threads_refuses(value):
    with pytest.raises(GlassnetError, match="--threads"):
        check_threads(value)


def test_load_meter_reads_real_proc_stat():
    meter = LoadMeter()
    x = np.ones((300, 300))
    for _ in range(30):  # ~50 ms of our own work: it must not count as others' load
        x @ x
    import time

    time.sleep(0.06)
    busy = meter.read()
    assert busy is None or busy >= 0.0


# ----------------------------------------------------------------- manager
def test_manager_follows_the_injected_load():
    """Quiet → 2 threads; a neighbour appears → 1; it leaves → 2 again; limits really set."""
    meter = FakeMeter([0.0, 1.0, 1.0, 0.05])
    with ThreadManager(n_cpus=2, meter=meter, speedup=1.6) as tm:
        assert tm.threads == 2 and set(blas_threads()) <= {2}
        assert tm.update(0) == 1 and set(blas_threads()) == {1} or not blas_threads()
        assert tm.update(1) == 1
        assert tm.update(2) == 2
    assert [c[1] for c in tm.changes] == [2, 1, 2]
    assert [c[0] for c in tm.changes] == [None, 0, 2]


def test_manager_keeps_one_thread_when_two_do_not_pay():
    with ThreadManager(n_cpus=2, meter=FakeMeter([0.0, 0.0]), speedup=1.0) as tm:
        assert tm.threads == 1
        assert tm.update(0) == 1


def test_manager_restores_the_limits():
    before = blas_threads()
    with ThreadManager(requested=1) as tm:
        assert tm.threads == 1
        assert ThreadManager.active() is tm
        if before:
            assert set(blas_threads()) == {1} and current_threads() == 1
    assert blas_threads() == before
    assert ThreadManager.active() is None


def test_requested_threads_ignore_the_load():
    with ThreadManager(requested=2, n_cpus=2, meter=FakeMeter([2.0, 2.0])) as tm:
        assert tm.update(0) == 2
    assert "--threads" in tm.describe()


# ------------------------------------------------------------- inside runs
class _RecordThreads:
    """A fit callback that records the BLAS thread counts while training runs."""

    def __new__(cls):
        from glassnet.training import Callback

        class Recorder(Callback):
            seen: list = []

            def on_epoch_end(self, epoch, logs=None):
                self.seen.append(blas_threads())

        return Recorder()


@pytest.mark.parametrize("n", [1, 2])
def test_fit_respects_threads(n):
    from glassnet import Network
    from glassnet.training import fit

    if not blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    rng = np.random.default_rng(0)
    X = rng.random((200, 8)).astype(np.float32)
    y = (X[:, 0] > 0.5).astype(int)
    net = Network([8, 16, 2], ["relu", "softmax"], "cross_entropy", weights="he_normal",
                  reduction="mean", dtype="float32", seed=0)
    rec = _RecordThreads()
    before = blas_threads()
    h = fit(net, X, y, epochs=2, batch_size=32, progress=False, callbacks=[rec], threads=n)
    assert rec.seen == [[n] * len(before)] * 2
    assert h.params["threads"].startswith(f"{n} ")
    assert blas_threads() == before  # given back after the run


def test_cli_train_threads_option(tmp_path, capsys, monkeypatch):
    """--threads 1 holds during glassnet train's fit (seen by threadpoolctl inside the run)."""
    from glassnet.training import Classifier

    if not blas_threads():
        pytest.skip("no BLAS library found by threadpoolctl")
    seen = []
    original = Classifier.fit

    def spy(self, *args, **kwargs):
        seen.append(blas_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Classifier, "fit", spy)
    code = main(["train", "--dataset", "digits", "--epochs", "1", "--threads", "1", "--quiet",
                 "--out", str(tmp_path / "m")])
    assert code == 0 and seen and set(seen[0]) == {1}


def test_cli_train_bad_threads(tmp_path, capsys):
    code = main(["train", "--dataset", "digits", "--threads", "0", "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "--threads" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


# ------------------------------------------------------- evaluate / predict
def test_quick_threads_from_an_injected_snapshot():
    from glassnet.threads import cpu_count, quick_threads

    if cpu_count() < 2 or not blas_threads():
        pytest.skip("needs 2 cores and a BLAS library")
    before = blas_threads()
    with quick_threads(busy_others=1.0) as n:  # another process runnable: one thread
        assert n == 1 and set(blas_threads()) == {1}
    assert blas_threads() == before
    with quick_threads(busy_others=0.0) as n:  # quiet: BLAS left as it is
        assert n is None and blas_threads() == before
    with quick_threads(2, busy_others=5.0) as n:  # asked for: wins
        assert n == 2 and set(blas_threads()) == {2}


def test_runnable_others_reads_proc_loadavg():
    from glassnet.threads import runnable_others

    value = runnable_others()
    assert value is None or (value >= 0 and value == int(value))


# ------------------------------------------------------------------ doctests
@pytest.mark.parametrize("module", ["glassnet.threads", "glassnet.training.budget",
                                    "glassnet.training.augment"])
def test_doctests_of_the_speed_modules(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------- whole-step speed-up
def test_step_speedup_times_a_real_step_at_one_and_two_threads(monkeypatch):
    """The speed-up is the ratio of the best one-thread step to the best two-thread step,
    both really timed (not a constant), and cached per workload."""
    import glassnet.threads as th

    seen = []

    class Limits:
        def __init__(self, n):
            seen.append(n)
            self.n = n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

    clock = iter(range(10**6))
    monkeypatch.setattr(th, "_limits", Limits)
    # each timed step "takes" one tick, 1.5 s long at one thread and 1 s at two: 1.5×
    calls = {"n": 0}

    def fake_step():
        calls["n"] += 1

    def perf_counter():
        return next(clock) * (1.5 if seen and seen[-1] == 1 else 1.0)

    monkeypatch.setattr(th.time, "perf_counter", perf_counter)
    monkeypatch.setattr("glassnet.training.budget.scratch_step", lambda *a, **k: fake_step)
    th._SPEEDUP_CACHE.clear()
    s = th.step_speedup((784, 128, 10), 128, "sgd")
    assert s == pytest.approx(1.5)
    assert set(seen) == {1, 2} and calls["n"] >= 8
    n = calls["n"]
    assert th.step_speedup((784, 128, 10), 128, "sgd") == s and calls["n"] == n  # cached
    th._SPEEDUP_CACHE.clear()


def test_step_speedup_on_the_real_engine_is_a_positive_ratio():
    from glassnet.threads import step_speedup

    s = step_speedup((64, 32, 10), 16, "adam", budget=0.02)
    assert 0.05 < s < 20


def test_manager_with_sizes_measures_the_whole_step(monkeypatch):
    import glassnet.threads as th

    asked = []
    monkeypatch.setattr(th, "step_speedup", lambda sizes, batch, opt, dtype: asked.append(
        (sizes, batch, opt, dtype)) or 0.9)
    monkeypatch.setattr(th, "gemm_speedup", lambda *a, **k: pytest.fail("product timed"))
    with ThreadManager(n_cpus=2, meter=FakeMeter([0.0]), shape=(128, 784, 128),
                       sizes=(784, 128, 10), optimizer="sgd") as tm:
        assert tm.threads == 1  # two threads slower for the whole step: one
    assert asked == [((784, 128, 10), 128, "sgd", "float32")]


def test_manager_falls_back_to_the_product_when_the_step_cannot_be_built(monkeypatch):
    import glassnet.threads as th

    def broken(*a, **k):
        raise GlassnetError("unknown optimizer")

    monkeypatch.setattr(th, "step_speedup", broken)
    monkeypatch.setattr(th, "gemm_speedup", lambda *a, **k: 1.6)
    with ThreadManager(n_cpus=2, meter=FakeMeter([0.0]), sizes=(784, 128, 10),
                       optimizer="nonsense") as tm:
        assert tm.threads == 2 and tm.speedup() == 1.6


def test_manager_measures_only_once_it_knows_the_workload(monkeypatch):
    """glassnet train enters before its data is loaded: the load alone decides then, and
    the speed-up is measured once, for the network set_shape names."""
    import glassnet.threads as th

    asked = []
    monkeypatch.setattr(th, "gemm_speedup", lambda *a, **k: pytest.fail("product timed"))
    monkeypatch.setattr(th, "step_speedup",
                        lambda sizes, batch, opt, dtype: asked.append(sizes) or 0.9)
    with ThreadManager(n_cpus=2, meter=FakeMeter([0.0])) as tm:
        assert tm.threads == 2 and asked == []
        assert tm.set_shape((32, 64, 256), sizes=(64, 256, 10), optimizer="adam") == 1
    assert asked == [(64, 256, 10)]
