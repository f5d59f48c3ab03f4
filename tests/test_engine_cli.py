"""``glassnet gradcheck``, ``--version`` and ``--help``: exit statuses and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from glassnet import __version__
from glassnet.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_gradcheck_defaults_pass(capsys):
    code, out, err = run(capsys, "gradcheck")
    assert code == 0 and err == ""
    assert out.splitlines()[0].startswith("Network([4, 5, 3]")
    for tensor in ("W1", "b1", "W2", "b2"):
        assert any(line.split()[:1] == [tensor] for line in out.splitlines()), tensor
    assert out.splitlines()[-1].startswith("ok: worst error")


@pytest.mark.parametrize("argv", [
    ["--layers", "3,4,4,2", "--activation", "tanh,sigmoid,softmax", "--loss", "cross_entropy"],
    ["--layers", "2,3,2", "--activation", "sigmoid", "--loss", "binary_cross_entropy",
     "--reduction", "mean", "--samples", "7"],
    ["--no-biases", "--loss", "mse", "--seed", "3"],
])
def test_gradcheck_variants_pass(capsys, argv):
    code, out, _ = run(capsys, "gradcheck", *argv)
    assert code == 0, out
    if "--no-biases" in argv:
        assert not any(line.startswith("b1") for line in out.splitlines())


def test_gradcheck_reports_failure_with_exit_1(capsys):
    """An impossible tolerance: the command must say FAILED and exit 1 (not 0, not 2)."""
    code, out, _ = run(capsys, "gradcheck", "--tol", "1e-30")
    assert code == 1
    assert out.splitlines()[-1].startswith("FAILED: worst error")


@pytest.mark.parametrize(("argv", "message"), [
    (["--layers", "4,x,3"], "--layers: expected comma-separated integers, got '4,x,3'"),
    (["--layers", ""], "--layers: expected comma-separated integers"),
    (["--layers", "4"], "layers must be a list of at least 2 positive integers"),
    (["--layers", "4,0,3"], "layers must be a list of at least 2 positive integers"),
    (["--activation", "sigmod"], "unknown activation 'sigmod' (did you mean 'sigmoid'?)"),
    (["--activation", "tanh,tanh,tanh"], "expected one name per non-input layer (2), got 3"),
    (["--activation", "softmax,tanh"], "layer 1: softmax is only supported on the output layer"),
    (["--loss", "hinge"], "unknown loss 'hinge'"),
    (["--samples", "0"], "--samples must be at least 1"),
])
def test_gradcheck_bad_arguments_give_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "gradcheck", *argv)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: "), err
    assert message in lines[0]
    assert "Traceback" not in err


def test_no_command_prints_help_and_is_an_error(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "gradcheck" in err and "usage: glassnet" in err
    assert "no command given" in err


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "glassnet", *argv], capture_output=True,
                          text=True, timeout=120)


def test_version_and_help_in_a_real_process():
    version = _cli("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"glassnet {__version__}"
    help_ = _cli("--help")
    assert help_.returncode == 0 and "gradcheck" in help_.stdout and help_.stderr == ""
    sub_help = _cli("gradcheck", "--help")
    assert sub_help.returncode == 0 and "--layers" in sub_help.stdout


def test_bad_arguments_in_a_real_process_exit_2_without_traceback():
    proc = _cli("gradcheck", "--activation", "sigmod")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "glassnet: error: unknown activation 'sigmod' (did you mean 'sigmoid'?); expected one "
        "of: leaky_relu, linear, relu, sigmoid, softmax, tanh"]
    assert proc.stdout == ""


def test_negative_seed_is_a_one_line_error():
    proc = _cli("gradcheck", "--seed", "-1")
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
