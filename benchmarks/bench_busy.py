"""How much slower does training get when another process holds one of the cores?

Issue 12's scenario, reproduced: a neighbour process spinning on one core
(``python -c 'while True: pass'``, started and stopped by this script), and
glassnet run twice, with the BLAS threads fixed at 2 (what OpenBLAS does by
itself: the old behaviour) and with glassnet's automatic choice (the default,
:mod:`glassnet.threads`). Measured, quiet and busy, in the same run:

* ``glassnet train --dataset digits`` (the README's first command), wall time
  of the whole command in a subprocess, with a time limit;
* one 784-128-10 ReLU SGD epoch on MNIST (batch 128, float32): the median
  ``seconds`` of ``fit``'s epochs.

The machine's ``uptime`` load and the CPU time other processes used during
each measurement are printed with the results, since other jobs share the
machine.

Usage::

    python benchmarks/bench_busy.py [--data-dir DIR] [--epochs 4] [--limit 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_train import BackgroundLoad, find_data_dir  # noqa: E402


def uptime() -> str:
    try:
        return "load average " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load average unknown"


def spinner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def time_digits(threads: str, limit: float) -> tuple[float | None, float | None]:
    """(wall seconds of `glassnet train --dataset digits`, others' busy CPUs); None: over limit."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "glassnet", "train", "--dataset", "digits", "--quiet",
               "--out", os.path.join(tmp, "m"), "--threads", threads]
        load = BackgroundLoad()
        t0 = time.perf_counter()
        try:
            subprocess.run(cmd, check=True, timeout=limit, capture_output=True)
        except subprocess.TimeoutExpired:
            return None, load.cpus()
        return time.perf_counter() - t0, load.cpus()


def time_epochs(data, threads: str, epochs: int) -> tuple[float, float | None, str]:
    """(median epoch seconds of 784-128-10 SGD, others' busy CPUs, threads used)."""
    from glassnet import SGD, Network
    from glassnet.training import fit

    X, y = data
    net = Network([784, 128, 10], ["relu", "softmax"], "cross_entropy", weights="he_normal",
                  reduction="mean", dtype="float32", seed=0)
    load = BackgroundLoad()
    h = fit(net, X, y, epochs=epochs, batch_size=128, optimizer=SGD(lr=0.1), progress=False,
            threads=threads if threads == "auto" else int(threads))
    return statistics.median(h["seconds"]), load.cpus(), h.params.get("threads", "?")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files")
    p.add_argument("--epochs", type=int, default=4, help="epochs per MNIST measurement")
    p.add_argument("--limit", type=float, default=60.0,
                   help="time limit of one digits command (seconds; default 60)")
    cfg = p.parse_args(argv)
    from glassnet.data import load_dataset

    train = load_dataset("mnist", "train", data_dir=find_data_dir(cfg.data_dir), download=False,
                         progress=False)
    data = (train.X, train.y)
    rows = []
    for condition in ("quiet", "busy"):
        neighbour = spinner() if condition == "busy" else None
        try:
            time.sleep(1.0 if neighbour else 0.2)
            print(f"[{condition}] uptime: {uptime()}", flush=True)
            for threads in ("2", "auto"):
                secs, busy = time_digits(threads, cfg.limit)
                shown = f"> {cfg.limit:.0f}" if secs is None else f"{secs:.2f}"
                rows.append((condition, "glassnet train --dataset digits (wall s)", threads,
                             secs, busy, ""))
                print(f"  digits, --threads {threads}: {shown} s "
                      f"(others busy {busy:.2f} CPUs)", flush=True)
                secs, busy, used = time_epochs(data, threads, cfg.epochs)
                rows.append((condition, "784-128-10 SGD epoch (median s)", threads, secs, busy,
                             used))
                print(f"  784-128-10 epoch, threads {threads}: {secs:.3f} s "
                      f"(others busy {busy:.2f} CPUs; used {used})", flush=True)
            print(f"[{condition}] uptime after: {uptime()}", flush=True)
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()
    print()
    print("| what | threads | quiet s | busy s (1 core spinning) | busy / quiet |")
    print("| --- | --- | --- | --- | --- |")
    for what in ("glassnet train --dataset digits (wall s)", "784-128-10 SGD epoch (median s)"):
        for threads in ("2", "auto"):
            q = next(r for r in rows if r[0] == "quiet" and r[1] == what and r[2] == threads)
            b = next(r for r in rows if r[0] == "busy" and r[1] == what and r[2] == threads)
            qs = "–" if q[3] is None else f"{q[3]:.3f}"
            bs = f"> {cfg.limit:.0f}" if b[3] is None else f"{b[3]:.3f}"
            ratio = "–" if q[3] is None or b[3] is None else f"{b[3] / q[3]:.2f}"
            print(f"| {what} | {threads if threads != 'auto' else 'auto (default)'} | {qs} | "
                  f"{bs} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
