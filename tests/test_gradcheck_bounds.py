"""gradcheck on large networks: a seeded sample, a refusal of hopeless work, progress, Ctrl-C.

The sampled check is compared with the full check of the same network (the independent
truth for every sampled entry); the refusal and the interruption go through the real
command line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from glassnet import Network
from glassnet.errors import GlassnetError
from glassnet.gradcheck import gradient_check


def problem(sizes=(6, 5, 4), seed=3):
    net = Network(list(sizes), "tanh", "half_sse", weights="glorot_normal",
                  biases="glorot_normal", seed=seed)
    rng = np.random.default_rng(seed)
    return net, rng.normal(size=(3, sizes[0])), rng.normal(size=(3, sizes[-1]))


def test_sampled_entries_equal_the_full_check_and_cover_every_tensor():
    net, X, T = problem()
    full = gradient_check(net, X, T)
    sampled = gradient_check(net, X, T, max_checks=10, seed=5)
    assert sampled.sampled and not full.sampled
    assert 10 <= sampled.n_checked <= 10 + 4 and sampled.n_parameters == full.n_parameters
    assert set(sampled.checked) == set(full.checked) and min(sampled.checked.values()) >= 1
    for name, num in sampled.numeric.items():
        mask = ~np.isnan(num)
        assert mask.sum() == sampled.checked[name]
        np.testing.assert_array_equal(num[mask], full.numeric[name][mask])
    assert sampled.ok(1e-6) and sampled.max_error <= full.max_error


def test_the_sample_is_reproducible_per_seed():
    net, X, T = problem()
    masks = [{k: ~np.isnan(v) for k, v in
              gradient_check(net, X, T, max_checks=8, seed=s).numeric.items()}
             for s in (1, 1, 2)]
    assert all((masks[0][k] == masks[1][k]).all() for k in masks[0])
    assert any((masks[0][k] != masks[2][k]).any() for k in masks[0])


def test_a_network_too_deep_to_check_is_refused_before_it_starts():
    net = Network([2] * 5001, "tanh", "half_sse", seed=0)
    X, T = np.ones((1, 2)), np.zeros((1, 2))
    with pytest.raises(GlassnetError, match="would take about .* check a sample"):
        gradient_check(net, X, T)
    # a sample of it is fine to ask for, and bounded
    with pytest.raises(GlassnetError, match="would take about"):
        gradient_check(net, X, T, max_checks=10**6)


@pytest.mark.parametrize("argv", [["--layers", ",".join(["2"] * 5001)],
                                  ["--layers", "1" * 5000 + ",2"],
                                  ["--samples", "9" * 5000],
                                  ["--tol", "nan"], ["--checks", "-1"],
                                  ["--layers", "4096,4096,4096"]])
def test_hopeless_command_lines_are_one_error_line(capsys, argv):
    from glassnet.cli import main

    code = main(["gradcheck", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("glassnet: error: --")


def test_progress_on_stderr_and_ctrl_c_prints_what_was_checked():
    """A long check shows a bar on stderr; SIGINT stops it with the partial table, exit 130."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "glassnet", "gradcheck", "--layers", "200,200,10",
             "--samples", "64", "--checks", "0"],
            stdout=subprocess.PIPE, stderr=err, text=True,
            env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        deadline = time.monotonic() + 120
        seen = ""
        while "gradcheck" not in seen and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            err.seek(0)
            seen = err.read()
        assert "gradcheck" in seen, "no progress bar on stderr"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert "interrupted:" in out and "W1" in out and "of 42210 parameters" in out
