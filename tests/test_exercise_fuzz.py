"""Fuzzing the loader: broken exercise files end in exit 2 with one line, never a traceback.

Hypothesis starts from valid exercises and breaks them: junk values at random
places, deleted and unknown keys, lists of the wrong length, corrupted text.
Whatever it produces, ``glassnet explain`` and ``glassnet check`` must either
succeed or print exactly one ``glassnet: error: ...`` line and exit 2.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import tempfile
from typing import Any

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from glassnet.cli import main

BASES: list[dict[str, Any]] = [
    {
        "title": "2-3-1",
        "network": {"layers": [2, 3, 1], "activation": "sigmoid", "weights": 1, "biases": 1},
        "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
        "samples": [{"x": [1, 0], "t": [1]}],
        "answers": {"loss": 0.00034, "W": [[[1.0000065, 1], [1.0000065, 1], [1.0000065, 1]],
                                           [[1.00005, 1.00005, 1.00005]]]},
    },
    {
        "network": {"layers": [3, 2, 2], "activation": ["tanh", "softmax"],
                    "weights": [[[0.1, -0.2, 0.3], [0.0, 0.5, -0.1]], [[0.2, 0.1], [-0.3, 0.4]]],
                    "biases": "none"},
        "loss": "cross_entropy", "learning_rate": 0.5, "mode": "batch", "epochs": 2,
        "samples": [{"x": [1, 2, 3], "t": [0, 1]}, {"x": [0, -1, 1], "t": [1, 0]}],
        "query": [[1, 1, 1]],
        "answers": {"updates": [{"loss": 1.2}], "query": [{"class": 1}]},
    },
]

JUNK = st.one_of(
    st.none(), st.booleans(), st.text(max_size=8),
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.integers(-3, 3), st.floats(-2, 2), st.text(max_size=3)), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(-2, 2), max_size=3),
)


def paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys / indices) into a nested structure, the root included."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += paths(v, prefix + (i,))
    return out


def get(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


@st.composite
def broken_documents(draw: st.DrawFn) -> tuple[str, str]:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(paths(doc)))
        kind = draw(st.sampled_from(["replace", "delete", "unknown", "resize"]))
        if kind == "replace" and target:
            get(doc, target[:-1])[target[-1]] = draw(JUNK)
        elif kind == "delete" and target:
            parent = get(doc, target[:-1])
            del parent[target[-1]]
        elif kind == "unknown":
            node = get(doc, target)
            if isinstance(node, dict):
                node[draw(st.text(min_size=1, max_size=6))] = draw(JUNK)
        elif kind == "resize":
            node = get(doc, target)
            if isinstance(node, list):
                if node and draw(st.booleans()):
                    node.pop()
                else:
                    node.append(copy.deepcopy(node[0]) if node else 0)
    fmt = draw(st.sampled_from(["yaml", "json", "text"]))
    if fmt == "json":
        return "ex.json", json.dumps(doc)
    import yaml

    text = yaml.safe_dump(doc, allow_unicode=True)
    if fmt == "text":  # corrupt the text itself
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.text(max_size=5)) + text[pos + draw(st.integers(0, 5)):]
    return "ex.yaml", text


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def assert_clean(code: int, out: str, err: str, name: str, ok_codes: tuple[int, ...]) -> None:
    assert code in ok_codes + (2,), (code, err)
    if code == 2:
        assert out == "", out
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("glassnet: error: ") and "Traceback" not in err
    else:
        assert err == "" and out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken_documents())
def test_broken_files_never_crash(doc):
    name, text = doc
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as fh:
            fh.write(text)
        code, out, err = run(["explain", path])
        assert_clean(code, out, err, name, (0,))
        code, out, err = run(["check", path])
        assert_clean(code, out, err, name, (0, 1))


@settings(max_examples=60, deadline=None)
@given(base=st.sampled_from(BASES), where=st.sampled_from(["top", "network", "sample"]),
       key=st.text(min_size=1, max_size=8), value=JUNK, fmt=st.sampled_from(["yaml", "json"]))
def test_any_unknown_key_is_exit_2(base, where, key, value, fmt):
    doc = copy.deepcopy(base)
    node = {"top": doc, "network": doc["network"], "sample": doc["samples"][0]}[where]
    if key in node:
        key = key + "_x"
    node[key] = value
    import yaml

    text = json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc, allow_unicode=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"ex.{fmt}")
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as fh:
            fh.write(text)
        code, out, err = run(["explain", path])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unknown key" in err


@settings(max_examples=60, deadline=None)
@given(base=st.sampled_from(BASES), layer=st.integers(0, 1), row=st.integers(0, 1),
       value=st.one_of(st.text(max_size=4), st.none(), st.booleans(),
                       st.sampled_from([math.nan, math.inf, -math.inf]),
                       st.lists(st.integers(), max_size=2)))
def test_any_bad_weight_entry_is_exit_2_and_named(base, layer, row, value):
    doc = copy.deepcopy(base)
    W = doc["network"]["weights"]
    if not isinstance(W, list):
        W = doc["network"]["weights"] = [
            [[1.0] * doc["network"]["layers"][l] for _ in range(doc["network"]["layers"][l + 1])]
            for l in range(len(doc["network"]["layers"]) - 1)]
    row = min(row, len(W[layer]) - 1)
    W[layer][row][0] = value
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ex.json")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(doc))
        code, out, err = run(["explain", path])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"network.weights[{layer}][{row}]" in err


# ------------------------------------------------------------- valid random exercises
ACTS = ["sigmoid", "tanh", "relu", "linear", {"name": "leaky_relu", "alpha": 0.1}]


@st.composite
def valid_exercises(draw: st.DrawFn) -> dict[str, Any]:
    sizes = draw(st.lists(st.integers(1, 3), min_size=2, max_size=4))
    n_layers = len(sizes) - 1
    loss = draw(st.sampled_from(["half_sse", "sse", "mse", "cross_entropy",
                                 "binary_cross_entropy"]))
    acts = [draw(st.sampled_from(ACTS)) for _ in range(n_layers)]
    if loss == "cross_entropy" or draw(st.booleans()) and sizes[-1] > 1:
        acts[-1] = draw(st.sampled_from(["softmax", "sigmoid"]))
    if loss == "binary_cross_entropy":
        acts[-1] = "sigmoid"  # the only output whose range fits log y and log(1 − y)
    small = st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3))
    weights = [[[draw(small) for _ in range(sizes[l])] for _ in range(sizes[l + 1])]
               for l in range(n_layers)]
    biases = draw(st.sampled_from(["none", 0.1, "vectors"]))
    if biases == "vectors":
        biases = [[draw(small) for _ in range(sizes[l + 1])] for l in range(n_layers)]
    K = sizes[-1]

    def target() -> list[float]:
        if loss == "cross_entropy":
            t = [0.0] * K
            t[draw(st.integers(0, K - 1))] = 1.0
            return t
        if loss == "binary_cross_entropy":
            return [float(draw(st.integers(0, 1))) for _ in range(K)]
        return [draw(small) for _ in range(K)]

    n = draw(st.integers(1, 3))
    doc: dict[str, Any] = {
        "network": {"layers": sizes, "activation": acts, "weights": weights, "biases": biases,
                    "update_biases": draw(st.booleans())},
        "loss": loss, "learning_rate": draw(st.sampled_from([0, 0.1, 0.5, 1])),
        "mode": draw(st.sampled_from(["sgd", "batch", "batch_mean"])),
        "epochs": draw(st.integers(1, 2)),
        "samples": [{"x": [draw(small) for _ in range(sizes[0])], "t": target()}
                    for _ in range(n)],
    }
    if draw(st.booleans()):
        doc["query"] = [[draw(small) for _ in range(sizes[0])]]
    return doc


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_exercises())
def test_every_renderer_handles_random_valid_exercises(doc):
    import xml.etree.ElementTree as ET

    from glassnet.errors import GlassnetError
    from glassnet.exercise import parse_exercise, solve

    try:
        sol = solve(parse_exercise(doc))
    except GlassnetError as exc:
        # a learning rate of 1 can make a random network diverge past float64 within a few
        # updates; the solver refuses that with a clear message, which is the right outcome
        assert "not finite" in str(exc), exc
        assume(False)
    d = json.loads(sol.to_json())
    assert len(d["updates"]) == len(sol.updates) and ("query" in d) == ("query" in doc)
    assert "Conventions" in sol.to_text() and "Conventions" in sol.to_text(decimals=2)
    assert sol.to_markdown().count("$$") % 2 == 0
    ET.fromstring(sol.to_svg(update=len(sol.updates) - 1))
    assert sol.to_html().startswith("<!DOCTYPE html>")
    # the chain rule reproduces backpropagation for one weight of every layer
    for l in range(1, sol.n_layers + 1):
        rule = sol.chain(f"W{l}[{sol.layers[l]},1]")
        for uc in rule.updates:
            assert math.isclose(uc.total, uc.engine, rel_tol=1e-9, abs_tol=1e-12)
        assert "✓" in rule.to_text() and rule.to_markdown()
    # the exact answers (full precision) check as ok
    W = [np.asarray(w) for w in d["W"]]
    answers = {"updates": [None] * (len(sol.updates) - 1) + [{"loss": repr(d["updates"][-1][
        "loss"])}], "W": [w.tolist() for w in W]}
    ex = parse_exercise({**doc, "answers": answers})
    report = solve(ex).check()
    assert report.exit_status == 0, report.to_text()


# ------------------------------------------------------- mutation fuzzer over the examples
def _fuzzer():
    """tools/fuzz_exercises.py, loaded by path (tools/ is not a package)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools",
                        "fuzz_exercises.py")
    spec = importlib.util.spec_from_file_location("fuzz_exercises", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mutation_fuzzer_finds_no_traceback():
    """Mutated example exercises through explain/check (and derive), mutated gradcheck
    options: every run ends in 0, 1 or 2 with one error line (100 inputs, a few seconds;
    the long run is ``tools/fuzz_exercises.py --seconds 600``)."""
    result = _fuzzer().fuzz(seconds=600.0, seed=20261203, max_inputs=100, hang=60.0)
    assert result["inputs"] == 100
    assert result["failures"] == 0, "\n".join(
        f"{key}\n{result['examples'][key][:500]!r}" for key in result["findings"])
    statuses = result["exit_statuses"]
    assert statuses.get("explain 0", 0) > 0 and statuses.get("explain 2", 0) > 0


def test_the_fuzzer_reports_a_traceback_when_there_is_one(monkeypatch):
    """The harness itself can fail: a command that raises is counted as a finding."""
    fuzzer = _fuzzer()

    def broken(args):
        raise RuntimeError("boom")

    import glassnet.commands.check as check

    monkeypatch.setattr(check, "run", broken)
    result = fuzzer.fuzz(seconds=5.0, seed=1, max_inputs=5)
    assert result["failures"] > 0
    assert any(key.startswith("traceback: RuntimeError") for key in result["findings"])
