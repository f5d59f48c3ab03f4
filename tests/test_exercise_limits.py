"""Exercise limits: checked by the loader before any work, and what they accept renders bounded.

The size measure is the number of numbers the text solution prints (``printed_numbers``);
it is checked here against an independent count of the numbers in real outputs. The
largest accepted exercise is rendered as HTML (the heaviest format) in a subprocess whose
address space is capped at 1 GiB, the budget stated in docs/explain.md.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet.cli import main
from glassnet.exercise import parse_exercise, solve
from glassnet.exercise.loader import LIMITS, ExerciseError, printed_numbers

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def exercise(layers: list[int], n_samples: int = 1, mode: str = "sgd", epochs: int = 1,
             **extra) -> dict:
    return {"network": {"layers": layers, "activation": "sigmoid",
                        "weights": {"init": "glorot_uniform", "seed": 0}, "biases": 0.1},
            "loss": "half_sse", "learning_rate": 0.1, "mode": mode, "epochs": epochs,
            "samples": [{"x": [0.5] * layers[0], "t": [0.2] * layers[-1]}
                        for _ in range(n_samples)], **extra}


def write(tmp_path, doc: dict, name: str = "ex.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def largest_sgd_epochs(layers: list[int]) -> int:
    """The most epochs of one-sample SGD on ``layers`` that the limit accepts."""
    lo, hi = 1, LIMITS["epochs"]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if printed_numbers(layers, 1, "sgd", mid) <= LIMITS["numbers"]:
            lo = mid
        else:
            hi = mid - 1
    return lo


# --------------------------------------------------------------------------- refusals
def test_the_issue_examples_are_refused_before_any_work(tmp_path):
    code, out, err = run(["explain", write(tmp_path, exercise([1024, 1024, 1024]))])
    assert code == 2 and out == ""
    assert "network.layers: 2099200 weights and biases; an exercise may have at most" in err
    code, out, err = run(["explain", write(tmp_path, exercise([30, 30, 30], epochs=1000))])
    assert code == 2 and "epochs: the worked solution would print" in err
    assert f"at most {LIMITS['numbers']}" in err and err.count("\n") == 1


def test_the_numbers_limit_is_exact_at_its_boundary():
    layers = [5, 5, 5]
    epochs = largest_sgd_epochs(layers)
    assert printed_numbers(layers, 1, "sgd", epochs) <= LIMITS["numbers"] \
        < printed_numbers(layers, 1, "sgd", epochs + 1)
    parse_exercise(exercise(layers, epochs=epochs))
    with pytest.raises(ExerciseError, match="^epochs: the worked solution would print"):
        parse_exercise(exercise(layers, epochs=epochs + 1))


def test_batch_samples_count_once_per_sample():
    """A batch update prints every sample's forward pass and deltas: samples are counted."""
    layers = [2, 3, 1]
    n = max(s for s in range(1, LIMITS["samples"] + 1, 50)
            if printed_numbers(layers, s, "batch", 1) <= LIMITS["numbers"])
    parse_exercise(exercise(layers, n, "batch"))
    with pytest.raises(ExerciseError, match="would print"):
        parse_exercise(exercise(layers, n, "batch", epochs=2))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       n=st.integers(1, 4), mode=st.sampled_from(["sgd", "batch", "batch_mean"]),
       epochs=st.integers(1, 3))
def test_printed_numbers_tracks_the_numbers_really_printed(layers, n, mode, epochs):
    """The estimate stays within a factor of the digits-runs counted in the text output."""
    text = solve(parse_exercise(exercise(layers, n, mode, epochs))).to_text()
    counted = len(NUMBER.findall(text))
    estimate = printed_numbers(layers, n, mode, epochs)
    assert 0.75 * counted <= estimate <= 1.6 * counted, (counted, estimate)


def test_file_size_is_capped_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "w") as fh:
        fh.write("# " + "x" * LIMITS["file_bytes"] + "\n")
    code, out, err = run(["explain", str(path)])
    assert code == 2 and "bytes, more than the" in err and err.count("\n") == 1


@pytest.mark.parametrize("name", ["ex.yaml", "ex.json"])
def test_huge_integers_are_refused_by_their_length(tmp_path, name):
    path = tmp_path / name
    digits = "7" * 5000
    text = (f'{{"network": {{"layers": [2, 1], "activation": "sigmoid", "weights": 0.5, '
            f'"biases": 0}}, "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd", '
            f'"epochs": {digits}, "samples": [{{"x": [1, 0], "t": [1]}}]}}')
    path.write_text(text)
    code, _, err = run(["explain", str(path)])
    assert code == 2 and "epochs: expected an integer, got an integer with 5000 digits" in err


@pytest.mark.parametrize(("answer", "message"), [
    ('"0e9"', "0e9 is 0 written to the nearest 10^9"),
    ("0e9", "0e9 is 0 written to the nearest 10^9"),
    ('"0.0e3"', "nearest 10^2"),
    ("1e300", "magnitude at most 1e+100"),
    ('"-1e300"', "magnitude at most 1e+100"),
    ('"1e-999"', "representable in float64"),
    ('"' + "1" * 80 + '"', "an answer of 80 characters"),
    (".nan", "finite"),
])
def test_absurd_answers_are_refused_in_the_loader(tmp_path, answer, message):
    path = tmp_path / "ex.yaml"
    path.write_text("network: {layers: [2, 1], activation: sigmoid, weights: 0.5, biases: 0}\n"
                    "loss: half_sse\nlearning_rate: 0.1\nmode: sgd\n"
                    "samples: [{x: [1, 0], t: [1]}]\n"
                    f"answers: {{loss: {answer}}}\n")
    code, out, err = run(["check", str(path)])
    assert code == 2 and out == "" and "answers.loss" in err and message in err, err


def test_honest_zeros_and_coarse_answers_are_still_accepted():
    base = exercise([2, 1])
    for answer in ("0", "0.0", "0.000", "1e3", "-2.5e-7", 0.25):
        parse_exercise({**base, "answers": {"loss": answer}})


# ------------------------------------------------------------------------ bounded memory
def test_trace_memory_is_bounded_by_what_is_printed():
    layers = [5, 5, 5]
    epochs = largest_sgd_epochs(layers)
    sol = solve(parse_exercise(exercise(layers, epochs=epochs)))
    stored = 0
    for up in sol.updates:
        for lt in up.layers:
            for name in ("W", "b", "x", "z", "a", "delta", "grad_W", "grad_b", "W_after",
                         "b_after"):
                arr = getattr(lt, name)
                stored += 0 if arr is None else arr.nbytes
    # every stored float64 is a number the solution prints (or its neighbour's input):
    # at most a few bytes per printed number
    assert stored <= 8 * printed_numbers(layers, 1, "sgd", epochs)


CHILD = """
import resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from glassnet.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_largest_accepted_exercise_renders_under_a_1_gib_address_space(tmp_path):
    layers = [5, 5, 5]
    epochs = largest_sgd_epochs(layers)
    src = write(tmp_path, exercise(layers, epochs=epochs))
    out = tmp_path / "solution.html"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(1 << 30), "explain", src,
                           "--format", "html", "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == epochs  # one picture per update: everything was rendered
    # and the limit is real: the same exercise one epoch longer is refused up front
    code, _, err = run(["explain", write(tmp_path, exercise(layers, epochs=epochs + 1))])
    assert code == 2 and "would print" in err
