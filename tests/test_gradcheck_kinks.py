"""gradcheck and the kinks of relu / leaky_relu: a correct network never FAILS, a wrong one does.

A central difference whose step moves some unit's z across 0 averages two slopes and
disagrees with a correct gradient (QA finding 8: ``gradcheck --layers 3,4,2 --activation relu
--samples 3000`` said FAILED). The independent truth for "which steps cross a kink" is
computed here from z = X Wᵀ + b by hand for a one-hidden-layer network with a linear output
(there z of layer 1 moves by ±h·x_j, resp. ±h, and nothing else has a kink); the injected
bugs are patched derivatives, which must still be reported as FAILED.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet import Network
from glassnet.activations import LeakyReLU, ReLU
from glassnet.gradcheck import RECHECK_STEPS, gradient_check

TOL = 1e-6
QA_ARGV = ["gradcheck", "--layers", "3,4,2", "--activation", "relu", "--samples", "3000"]


def run(capsys, argv):
    from glassnet.cli import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_qa_command_passes_and_says_what_it_rechecked(capsys):
    code, out, err = run(capsys, QA_ARGV)
    assert code == 0, out
    assert "\nok: worst error" in out and "FAILED" not in out
    assert "rechecked: " in out and "crossed a relu kink" in out


@pytest.mark.parametrize("patch", ["relu_threshold", "leaky_slope"])
def test_a_wrong_derivative_still_fails_on_the_qa_command(capsys, monkeypatch, patch):
    """The skipping must not hide a bug: patch the activation's derivative, expect FAILED."""
    if patch == "relu_threshold":  # relu'(z) = 1 for z > −0.5: the kink in the wrong place
        monkeypatch.setattr(ReLU, "backward", lambda self, z, a, grad_a, out=None:
                            np.multiply(grad_a, z > -0.5, out=out))
        argv = QA_ARGV
    else:  # leaky_relu'(z) = 0.1 for z ≤ 0 although the slope is α = 0.01
        monkeypatch.setattr(LeakyReLU, "derivative", lambda self, z, a:
                            np.where(z > 0, 1.0, 0.1))
        argv = [*QA_ARGV[:4], "leaky_relu", *QA_ARGV[5:]]
    code, out, _ = run(capsys, argv)
    assert code == 1 and "\nFAILED: worst error" in out


def _crossings(z: np.ndarray, moves: np.ndarray, step: float) -> bool:
    """Whether z ± step·moves puts any entry on the other side of 0 (z > 0 or not)."""
    side = z > 0
    return bool(((z + step * moves > 0) != side).any() or ((z - step * moves > 0) != side).any())


@pytest.mark.parametrize("activation", ["relu", {"name": "leaky_relu", "alpha": 0.2}])
def test_rechecked_and_skipped_entries_are_exactly_those_whose_steps_cross(activation):
    h = 0.02  # large enough that many steps cross; E is piecewise quadratic: no truncation
    net = Network([3, 4, 2], [activation, "linear"], "half_sse", weights="glorot_normal",
                  biases="glorot_normal", seed=4)
    rng = np.random.default_rng(4)
    X, T = rng.normal(size=(5000, 3)), rng.normal(size=(5000, 2))
    report = gradient_check(net, X, T, h=h)
    W, b = net.layers[0].W, net.layers[0].b
    z = X @ W.T + b  # layer 1's net inputs, computed here, not by the engine
    steps = [h] + [h / d for d in RECHECK_STEPS]
    for name, entries in (("W1", [(i, j) for i in range(4) for j in range(3)]),
                          ("b1", [(i, None) for i in range(4)])):
        crosses = [[_crossings(z[:, i], X[:, j] if j is not None else np.ones(len(X)), s)
                    for s in steps] for i, j in entries]
        expect_skipped = sum(all(c) for c in crosses)
        expect_rechecked = sum(c[0] and not all(c) for c in crosses)
        assert report.skipped[name] == expect_skipped
        assert report.rechecked[name] == expect_rechecked
        assert report.checked[name] == len(entries) - expect_skipped
        skipped_mask = np.isnan(report.numeric[name])
        assert skipped_mask.sum() == expect_skipped
    # the test means something: this problem has entries of both kinds
    assert report.n_skipped > 0 and report.n_rechecked > 0
    assert report.ok(TOL), str(report)
    text = str(report)
    assert f"skipped: {report.n_skipped} parameters: the step crosses a kink" in text
    assert "not counted as errors" in text


def test_without_the_recheck_the_crossing_steps_would_have_failed():
    """The rechecked entries are real kink crossings: at step h their difference is off."""
    net = Network([3, 4, 2], "relu", "half_sse", weights="glorot_normal",
                  biases="glorot_normal", seed=0)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 3))
    T = rng.normal(size=(3000, 2))
    report = gradient_check(net, X, T)
    assert report.ok(TOL) and report.n_rechecked > 0
    # the plain central difference at h for every rechecked bias of layer 1
    net64 = net.copy(dtype="float64")
    grad = report.analytic["b1"]

    def loss() -> float:
        return float(0.5 * ((net64.forward(X) - T) ** 2).sum())

    worst = 0.0
    for i in range(4):
        old = net64.layers[0].b[i]
        net64.layers[0].b[i] = old + 1e-5
        e_plus = loss()
        net64.layers[0].b[i] = old - 1e-5
        e_minus = loss()
        net64.layers[0].b[i] = old
        numeric = (e_plus - e_minus) / 2e-5
        worst = max(worst, abs(numeric - grad[i]) / max(abs(grad[i]), abs(numeric)))
    assert report.rechecked["b1"] > 0 and worst > TOL


def test_every_entry_crossing_is_inconclusive_not_ok_and_not_an_error():
    net = Network([1, 1], "relu", "half_sse", weights=[[[1.0]]], biases=0.3)
    X = np.random.default_rng(0).normal(size=(5000, 1))
    report = gradient_check(net, X, np.zeros((5000, 1)), h=0.5)
    assert report.errors == {} and report.n_skipped == 2 and not report.ok()
    assert "every entry tried crosses a kink" in str(report)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(1, 5), min_size=3, max_size=4),
       hidden=st.sampled_from(["relu", "leaky_relu", {"name": "leaky_relu", "alpha": 0.3}]),
       output=st.sampled_from(["relu", "linear", "leaky_relu"]),
       reduction=st.sampled_from(["sum", "mean"]),
       n=st.integers(200, 1500), seed=st.integers(0, 2**32 - 1))
def test_correct_piecewise_linear_networks_never_fail(sizes, hidden, output, reduction, n,
                                                      seed):
    net = Network(sizes, [hidden] * (len(sizes) - 2) + [output], "half_sse",
                  weights="glorot_normal", biases="glorot_normal", reduction=reduction,
                  seed=seed)
    rng = np.random.default_rng(seed)
    X, T = rng.normal(size=(n, sizes[0])), rng.normal(size=(n, sizes[-1]))
    report = gradient_check(net, X, T)
    assert report.n_checked + report.n_skipped == report.n_parameters
    assert report.n_checked == 0 or report.ok(TOL), str(report)
