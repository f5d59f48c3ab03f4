"""A save is all or nothing: crashes at every step, concurrent readers and writers, full disks.

The classes of failure, each tested from the outside (the folder on disk, what a
reader gets), not from the implementation's own bookkeeping:

* a process killed at any point of a save (every system call of it, in a forked
  child that dies there with ``os._exit``; and SIGKILL of a real process at
  random moments) leaves the old model or the new one, loadable and equal to
  one of them, and nothing else that the next save does not clean up;
* a reader running while another process saves over and over never fails and
  never sees a mixture of two models (the two differ in architecture *and*
  values, so a mixture would fail a check or predict something else);
* two writers saving to one folder at the same time take turns, both succeed;
* a full disk or a failing system call is one ModelError (exit status 2 from
  the command line), the old model intact and no temporary folder left;
* the fallback without an atomic exchange (other systems, NFS) keeps the same
  promises, repairing a crash in its two-rename gap.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from glassnet import fileio, model_io
from glassnet.model_io import ModelError, save_model
from glassnet.training import Classifier

PROBE = np.linspace(0, 1, 24, dtype=np.float32).reshape(4, 6)


def make(hidden, seed):
    return Classifier.build(6, ["a", "b", "c"], hidden=hidden, seed=seed)


A, B, C = make([5], 1), make([7, 3], 2), make([4], 3)
OUTPUTS = {name: m.predict_proba(PROBE) for name, m in (("A", A), ("B", B), ("C", C))}


def which(path) -> str:
    """Which of A, B, C the folder holds (loads it: fails on anything else)."""
    out = Classifier.load(path).predict_proba(PROBE)
    for name, ref in OUTPUTS.items():
        if out.shape == ref.shape and np.array_equal(out, ref):
            return name
    raise AssertionError(f"{path} holds a model that is none of A, B, C")


def leftovers(parent, name="m"):
    return sorted(e for e in os.listdir(parent) if e != name)


# ------------------------------------------------- a crash at every step of a save
STEPS = ["mkdir", "open", "rename", "fsync", "close", "unlink", "rmdir"]


def crash_at(step: int, target, model, exchange: bool) -> int:
    """Fork; the child saves ``model`` and dies (os._exit) at its ``step``-th system call.

    Returns the child's exit status: 99 if it died there, 0 if the save had fewer steps.
    """
    pid = os.fork()
    if pid:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    try:  # the child: count the calls, die at one of them
        count = [0]

        def tick():
            count[0] += 1
            if count[0] == step:
                os._exit(99)

        def wrap(fn):
            def wrapped(*args, **kwargs):
                tick()
                return fn(*args, **kwargs)
            return wrapped

        for name in STEPS:
            setattr(os, name, wrap(getattr(os, name)))
        real_write = fileio._write_all

        def write_half_then_die(fd, data):  # a crash in the middle of writing a file
            count[0] += 1
            if count[0] == step:
                real_write(fd, bytes(data)[:len(data) // 2])
                os._exit(99)
            real_write(fd, data)

        fileio._write_all = write_half_then_die
        if not exchange:
            def no_exchange(a, b):
                raise model_io._NoExchange
            model_io._exchange = no_exchange
        else:
            model_io._exchange = wrap(model_io._exchange)
        shutil.rmtree = wrap(shutil.rmtree)
        save_model(model, target)
        os._exit(0)
    except BaseException:
        os._exit(3)


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "fallback-renames"])
def test_a_crash_at_every_step_leaves_old_or_new(tmp_path, exchange):
    seen = set()
    for step in range(1, 200):
        parent = tmp_path / f"s{step}"
        parent.mkdir()
        target = parent / "m"
        save_model(A, target)
        status = crash_at(step, target, B, exchange)
        assert status in (0, 99), f"step {step}: the save failed instead of crashing ({status})"
        got = which(target)  # loads: the old model or the new one, never neither
        seen.add(got)
        assert got in ("A", "B")
        assert all(e.startswith((".m.tmp-", ".m.old-")) for e in leftovers(parent)), \
            leftovers(parent)
        save_model(C, target)  # the next save repairs and cleans everything up
        assert which(target) == "C" and leftovers(parent) == []
        assert sorted(os.listdir(target)) == sorted(model_io.MODEL_FILES)
        if status == 0:
            break
    else:
        pytest.fail("the save never completed")
    assert seen == {"A", "B"}, seen  # both outcomes occurred: the crash points span the switch
    assert step > 10  # every system call of the save was a crash point


def test_a_crash_in_the_first_save_leaves_nothing_or_the_model(tmp_path):
    for step in range(1, 200):
        parent = tmp_path / f"s{step}"
        parent.mkdir()
        target = parent / "m"
        status = crash_at(step, target, B, exchange=True)
        if target.exists() and "model.json" in os.listdir(target):
            assert which(target) == "B"
        model_io.check_output_dir(target)  # whatever is left is glassnet's to replace
        save_model(C, target)
        assert which(target) == "C" and leftovers(parent) == []
        if status == 0:
            break


# --------------------------------------------------- SIGKILL of a real process
WRITER = textwrap.dedent("""
    import sys
    sys.path[:0] = [{src!r}, {tests!r}]
    from test_crash_consistency import A, B
    from glassnet import model_io
    from glassnet.model_io import save_model
    if {fallback!r}:  # as on a system without an atomic exchange: two renames
        def no_exchange(a, b):
            raise model_io._NoExchange
        model_io._exchange = no_exchange
    print("ready", flush=True)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else -1  # -1: until killed
    i = 0
    while i != count:
        save_model(A if i % 2 else B, sys.argv[1])
        i += 1
""")


def _writer(tmp_path, target, count=None, fallback=False):
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(src=src, tests=os.path.dirname(os.path.abspath(__file__)),
                                    fallback=fallback))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    args = [sys.executable, str(script), str(target)] + ([str(count)] if count else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline().strip() == b"ready"
    return proc


def test_sigkill_at_random_moments(tmp_path):
    rng = np.random.default_rng(11)
    target = tmp_path / "m"
    save_model(A, target)
    kinds = set()
    for _ in range(6):
        proc = _writer(tmp_path, target)
        time.sleep(float(rng.uniform(0.0, 0.05)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kinds.add(which(target))
        assert all(e.startswith((".m.tmp-", ".m.old-")) for e in leftovers(tmp_path, "m")
                   if e != "writer.py")
    save_model(C, target)
    assert which(target) == "C" and leftovers(tmp_path) == ["writer.py"]


# ------------------------------------------------- concurrent readers and writers
@pytest.mark.parametrize("fallback, loads", [(False, 1500), (True, 500)],
                         ids=["exchange", "fallback-renames"])
def test_loads_never_fail_while_another_process_saves(tmp_path, fallback, loads):
    target = tmp_path / "m"
    save_model(A, target)
    proc = _writer(tmp_path, target, fallback=fallback)
    counts = {"A": 0, "B": 0}
    try:
        for _ in range(loads):
            counts[which(target)] += 1  # raises on any failure or mixture
    finally:
        proc.kill()
        proc.wait()
    print(f"\nloads during concurrent saves ({'fallback' if fallback else 'exchange'}): "
          f"{counts}")
    assert counts["A"] + counts["B"] == loads
    assert counts["A"] and counts["B"]  # the saves really did switch under the reader


def test_two_writers_take_turns(tmp_path):
    target = tmp_path / "m"
    procs = [_writer(tmp_path, target, count=40) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]  # 80 saves, none failed
    assert which(target) in ("A", "B")
    save_model(C, target)
    assert leftovers(tmp_path) == ["writer.py"]


def test_a_waiting_writer_replaces_after_the_first(tmp_path):
    """While one process holds the folder's lock, a save waits, then succeeds."""
    import fcntl
    import threading

    target = tmp_path / "m"
    save_model(A, target)
    fd = os.open(target / model_io.LOCK_FILE, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (save_model(B, target), done.set()))
    thread.start()
    assert not done.wait(0.3)  # blocked on the lock
    assert which(target) == "A"
    os.close(fd)
    thread.join(120)
    assert done.is_set() and which(target) == "B"


# ------------------------------------------------ full disks and failing calls
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS])
def test_full_disk_keeps_the_old_model(tmp_path, monkeypatch, code):
    target = tmp_path / "m"
    save_model(A, target)

    def full(fd, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fileio, "_write_all", full)
    with pytest.raises(ModelError, match=os.strerror(code)) as info:
        save_model(B, target)
    assert "previous model is unchanged" in str(info.value)
    monkeypatch.undo()
    assert which(target) == "A" and leftovers(tmp_path) == []


def test_full_disk_on_a_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(fileio, "_write_all", lambda fd, data: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(ModelError, match="no model was written"):
        save_model(A, tmp_path / "m")
    assert os.listdir(tmp_path) == []


def test_every_failing_call_is_one_clear_error(tmp_path, monkeypatch):
    """Inject EACCES at each system call of a save in turn: ModelError, old model intact."""
    target = tmp_path / "m"
    save_model(A, target)
    failures = 0
    for step in range(1, 100):
        count = [0]
        originals = {name: getattr(os, name) for name in ("mkdir", "open", "rename", "fsync")}

        def make(fn, count=count, step=step):
            def failing(*args, **kwargs):
                count[0] += 1
                if count[0] == step:
                    raise PermissionError(errno.EACCES, "Permission denied")
                return fn(*args, **kwargs)
            return failing

        for name, fn in originals.items():
            monkeypatch.setattr(os, name, make(fn))
        try:
            save_model(B, target)
            ok = True
        except ModelError as exc:
            ok = False
            failures += 1
            assert "Permission denied" in str(exc)
        monkeypatch.undo()
        assert which(target) == ("B" if ok else "A")
        if count[0] < step:  # the save made fewer calls: every one of them has failed once
            break
        if not ok:  # (a failure while deleting the replaced model leaves it for the next save)
            assert leftovers(tmp_path) == []
        save_model(A, target)
    assert failures > 5
    save_model(C, target)
    assert which(target) == "C" and leftovers(tmp_path) == []


def test_cli_train_full_disk_exit_2(tmp_path, monkeypatch, capsys):
    from glassnet.cli import main

    target = tmp_path / "m"
    save_model(A, target)
    monkeypatch.setattr(fileio, "_write_all", lambda fd, data: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    code = main(["train", "--dataset", "digits", "--classes", "0,1", "--hidden", "4",
                 "--epochs", "1", "--quiet", "--out", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    monkeypatch.undo()
    assert which(target) == "A" and leftovers(tmp_path) == []


def test_fallback_gap_is_waited_out_by_readers(tmp_path, monkeypatch):
    """A dead fallback save's gap (no folder, old and new beside it): loads still work."""
    target = tmp_path / "m"
    save_model(A, target)
    save_model(B, tmp_path / "n")
    os.rename(target, tmp_path / ".m.old-0123456789ab")  # the gap a crash left
    os.rename(tmp_path / "n", tmp_path / ".m.tmp-0123456789ab")
    assert which(target) == "B"  # the complete new model, read where it waits
    save_model(C, target)
    assert which(target) == "C" and leftovers(tmp_path) == []
