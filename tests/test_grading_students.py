"""check version 2 against simulated students (issue 9, grading.md).

* a lazy sheet of 0s and 1s does not pass;
* one early mistake of each catalogue kind, every later step done right from it: exactly the
  mistaken values are wrong and named, the rest ok or carried;
* a 20 % slip with 4-digit intermediates is wrong, not rounding;
* honest 3-significant-digit hand arithmetic, carried through (new weights from the rounded
  gradients) has no wrong verdict.

The students' numbers come from the engine run with a misconception switched on (the
misconceptions themselves are checked against NumPy formulas in test_grading_misconceptions),
or from an independent step-by-step hand calculation written out below.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet.exercise import load_exercise, parse_exercise, solve
from glassnet.grading import check_answers
from glassnet.grading.followthrough import Q, run_engine
from glassnet.grading.mistakes import _RecordAll
from glassnet.misconceptions import MisconceptionTap, applicable

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def mazur(mode="sgd", update_biases=False, samples=None):
    return parse_exercise({
        "network": {"layers": [2, 2, 2], "activation": "sigmoid",
                    "weights": [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]],
                    "biases": [[0.35, 0.35], [0.60, 0.60]], "update_biases": update_biases},
        "loss": "half_sse", "learning_rate": 0.5, "mode": mode,
        "samples": samples or [{"x": [0.05, 0.10], "t": [0.01, 0.99]}]})


def every_quantity(ex) -> list[Q]:
    """Every quantity of a one-update exercise: z, a, loss, δ, gradients, new parameters."""
    sizes, S = ex.layers, ex.samples_per_update
    qs = [Q(0, "loss")]
    for l in range(len(sizes) - 1):
        for s in range(S):
            for i in range(sizes[l + 1]):
                qs += [Q(0, k, l, s, i) for k in ("z", "a", "delta")]
        for i in range(sizes[l + 1]):
            qs += [Q(0, k, l, 0, i, j) for k in ("dW", "W") for j in range(sizes[l])]
            if ex.biases is not None:
                qs += [Q(0, k, l, 0, i) for k in ("db", "b")]
    return qs


def nested_sheet(ex, texts: dict[Q, str]) -> dict:
    """The answers section (exercise-format.md's nested lists) holding ``texts``."""
    sizes, S = ex.layers, ex.samples_per_update
    L = len(sizes) - 1
    out: dict = {}
    if Q(0, "loss") in texts:
        out["loss"] = texts[Q(0, "loss")]
    for kind, key in (("z", "z"), ("a", "a"), ("delta", "deltas")):
        out[key] = [[[texts.get(Q(0, kind, l, s, i)) for i in range(sizes[l + 1])]
                     for s in range(S)] for l in range(L)]
    for kind, key in (("dW", "grad_W"), ("W", "W")):
        out[key] = [[[texts.get(Q(0, kind, l, 0, i, j)) for j in range(sizes[l])]
                     for i in range(sizes[l + 1])] for l in range(L)]
    if ex.biases is not None:
        for kind, key in (("db", "grad_b"), ("b", "b")):
            out[key] = [[texts.get(Q(0, kind, l, 0, i)) for i in range(sizes[l + 1])]
                        for l in range(L)]
    return out


def engine_values(ex, misconception=None) -> dict[Q, float]:
    qs = every_quantity(ex)
    tap = _RecordAll(qs, None if misconception is None
                     else MisconceptionTap(misconception, ex.learning_rate))
    run_engine(ex, tap, misconception)
    return tap.seen


def written(x: float, digits: int) -> str:
    return "0" if x == 0 else f"{x:.{digits}g}"


def by_q(report) -> dict[tuple, object]:
    return {(v.label, v.path): v for v in report.verdicts}


# ------------------------------------------------------------------------- the lazy sheet
def test_lazy_sheet_of_zeros_and_ones_fails():
    ex = load_exercise(EXAMPLES / "exercises" / "seed004_1b.yaml")
    exact = engine_values(ex)
    lazy = {q: ("1" if abs(x - 1) < abs(x) else "0") for q, x in exact.items()
            if q.qty in ("loss", "z", "a", "dW", "db")}
    answers = nested_sheet(ex, lazy)
    report = check_answers(ex, answers)
    counts = report.counts()
    assert report.exit_status == 1
    assert counts["wrong"] >= 5 and counts["ok"] <= 6   # ok: only the gradients that are 0
    assert all(v.given == "0" for v in report.verdicts if v.verdict == "ok")
    assert all(v.exact == 0 for v in report.verdicts if v.verdict == "ok")
    # version 1's flat rule let the same sheet through (the bug of issue 9)
    assert solve(ex).check(_validated(ex, answers)).counts["wrong"] == 0


def _validated(ex, answers):
    from glassnet.exercise.loader import _answers, _Checker

    return _answers(_Checker(""), answers, ex)


# ------------------------------------------------- one early mistake of each catalogue kind
#: which quantities each misconception gets wrong by itself (the rest follow from them)
ORIGINS = {
    "sign/update": {"W", "b"}, "learning_rate/omitted": {"W", "b"},
    "learning_rate/squared": {"W", "b"}, "bias_update/swapped": {"b"},
    "sign/delta": {"delta@out"}, "missing_fprime/output": {"delta@out"},
    "fprime_of_a/output": {"delta@out"}, "missing_fprime/hidden": {"delta@hidden"},
    "fprime_of_a/hidden": {"delta@hidden"}, "updated_weights/hidden": {"delta@hidden"},
    "transposed_W/backward": {"delta@hidden"},
    "missing_fprime/all": {"delta@out", "delta@hidden"},
    "fprime_of_a/all": {"delta@out", "delta@hidden"},
    "factor_2/double": {"loss", "delta@out"}, "factor_2/half": {"loss", "delta@out"},
    "batch_sum_mean/swapped": {"loss", "delta@out"},
}


def _role(q: Q, L: int) -> str:
    if q.qty == "delta":
        return "delta@out" if q.l == L - 1 else "delta@hidden"
    return q.qty


CASES = [(name, m) for name, ex in (
    ("mazur", mazur()), ("mazur-biases-updated", mazur(update_biases=True)),
    ("mazur-batch-mean", mazur("batch_mean", True, [
        {"x": [0.05, 0.10], "t": [0.01, 0.99]}, {"x": [0.5, -0.3], "t": [1, 0]},
        {"x": [-0.2, 0.7], "t": [0.5, 0.2]}])))
    for m in applicable(ex)]


@pytest.mark.parametrize("name, m", CASES, ids=[f"{n}-{m.key}" for n, m in CASES])
def test_one_early_mistake_is_wrong_and_named_the_rest_carried(name, m):
    ex = {"mazur": mazur(), "mazur-biases-updated": mazur(update_biases=True),
          "mazur-batch-mean": mazur("batch_mean", True, [
              {"x": [0.05, 0.10], "t": [0.01, 0.99]}, {"x": [0.5, -0.3], "t": [1, 0]},
        {"x": [-0.2, 0.7], "t": [0.5, 0.2]}])}[name]
    exact = engine_values(ex)
    student = engine_values(ex, m)
    L = len(ex.layers) - 1
    texts = {q: written(x, 8) for q, x in student.items()}
    report = check_answers(ex, nested_sheet(ex, texts))
    changed_origin = {q for q, x in student.items()
                      if _role(q, L) in ORIGINS[m.key] and abs(x - exact[q]) > 1e-7 * (
                          1 + abs(exact[q]))}
    assert changed_origin, "the misconception must change something here"
    verdicts = {v.path: v for v in report.verdicts}
    for q, v in zip(every_quantity(ex), _in_order(ex, report), strict=True):
        if q in changed_origin:
            assert v.verdict == "wrong", (v.label, v.basis)
            assert v.mistake == m.id, (v.label, v.mistake, v.note)
        else:
            assert v.verdict in ("ok", "carried"), (v.label, v.verdict, v.basis)
    assert any(v.verdict == "carried" for v in verdicts.values()) or m.id in (
        "sign", "learning_rate", "bias_update")
    assert report.exit_status == 1


def _in_order(ex, report):
    """The verdicts in every_quantity's order (the report lists them in the engine's order)."""
    found = {(v.name, v.sample): v for v in report.verdicts}
    out = []
    for q in every_quantity(ex):
        name = "loss" if q.qty == "loss" else _name(q)
        out.append(found[(name, q.s + 1 if q.qty in ("z", "a", "delta") else None)])
    assert len(out) == len(report.verdicts)
    return out


# -------------------------------------------------------- a 20 % slip, 4-digit intermediates
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from([("dW", 0, 0, 0, 1), ("dW", 1, 0, 1, 0), ("delta", 0, 0, 1, 0),
                              ("delta", 1, 0, 0, 0), ("a", 0, 0, 1, 0), ("z", 1, 0, 0, 0),
                              ("z", 0, 0, 0, 0), ("W", 1, 0, 0, 1)]),
       factor=st.sampled_from([0.8, 1.2, 0.75, 1.3]))
def test_a_twenty_percent_slip_with_four_digit_intermediates_is_wrong(which, factor):
    ex = mazur()
    exact = engine_values(ex)
    qty, l, s, i, j = which
    slip = Q(0, qty, l, s, i, j)
    texts = {q: written(x, 4) for q, x in exact.items()}
    texts[slip] = written(exact[slip] * factor, 4)
    report = check_answers(ex, nested_sheet(ex, texts))
    wrong = [v for v in report.verdicts if v.verdict == "wrong"]
    assert [v.name for v in wrong][:1] == [_name(slip)], [(v.name, v.basis) for v in wrong]
    assert wrong[0].verdict == "wrong"    # not "rounding": 4 digits cannot explain 20 %


def _name(q: Q) -> str:
    if q.qty in ("dW", "W"):
        return f"{q.qty}_{q.l + 1}_{q.i + 1}_{q.j + 1}"
    return f"{q.qty}_{q.l + 1}_{q.i + 1}"


def test_four_digit_sheet_without_a_slip_has_no_wrong():
    ex = mazur()
    texts = {q: written(x, 4) for q, x in engine_values(ex).items()}
    report = check_answers(ex, nested_sheet(ex, texts))
    assert report.counts()["wrong"] == 0


# ----------------------------------------------- honest hand arithmetic at 3 significant digits
def r3(x: float) -> str:
    """What a student writes: 3 significant digits."""
    return written(float(x), 3)


def hand_solution(W1, b1, W2, b2, x, t, lr, update_biases=True) -> dict[Q, str]:
    """A 2-layer sigmoid / half_sse step by hand: every number rounded to 3 significant digits
    and the next step computed from the rounded numbers; the new weights are the exact
    decimals w − η·(rounded gradient). Independent of glassnet."""
    f = lambda text: float(text)  # noqa: E731
    texts: dict[Q, str] = {}
    z1 = [r3(W1[i] @ x + b1[i]) for i in range(len(b1))]
    a1 = [r3(1 / (1 + math.exp(-f(z)))) for z in z1]
    A1 = np.array([f(a) for a in a1])
    z2 = [r3(W2[k] @ A1 + b2[k]) for k in range(len(b2))]
    a2 = [r3(1 / (1 + math.exp(-f(z)))) for z in z2]
    A2 = np.array([f(a) for a in a2])
    loss = r3(0.5 * np.sum((A2 - t) ** 2))
    d2 = [r3((A2[k] - t[k]) * A2[k] * (1 - A2[k])) for k in range(len(b2))]
    D2 = np.array([f(d) for d in d2])
    d1 = [r3((W2[:, i] @ D2) * A1[i] * (1 - A1[i])) for i in range(len(b1))]
    D1 = np.array([f(d) for d in d1])
    texts[Q(0, "loss")] = loss
    for l, (zs, as_, ds) in enumerate(((z1, a1, d1), (z2, a2, d2))):
        for i in range(len(zs)):
            texts[Q(0, "z", l, 0, i)] = zs[i]
            texts[Q(0, "a", l, 0, i)] = as_[i]
            texts[Q(0, "delta", l, 0, i)] = ds[i]
    for l, (W, b, D, inp) in enumerate(((W1, b1, D1, x), (W2, b2, D2, A1))):
        for i in range(W.shape[0]):
            g_b = r3(D[i])
            texts[Q(0, "db", l, 0, i)] = g_b
            new_b = Decimal(repr(float(b[i]))) - Decimal(repr(lr)) * Decimal(g_b) \
                if update_biases else Decimal(repr(float(b[i])))
            texts[Q(0, "b", l, 0, i)] = str(new_b)
            for j in range(W.shape[1]):
                g = r3(D[i] * inp[j])
                texts[Q(0, "dW", l, 0, i, j)] = g
                texts[Q(0, "W", l, 0, i, j)] = str(Decimal(repr(float(W[i, j])))
                                                   - Decimal(repr(lr)) * Decimal(g))
    return texts


def _hand_exercise(W1, b1, W2, b2, x, t, lr, update_biases=True):
    return parse_exercise({
        "network": {"layers": [len(x), len(b1), len(b2)], "activation": "sigmoid",
                    "weights": [W1.tolist(), W2.tolist()], "biases": [b1.tolist(), b2.tolist()],
                    "update_biases": update_biases},
        "loss": "half_sse", "learning_rate": lr, "mode": "sgd",
        "samples": [{"x": x.tolist(), "t": t.tolist()}]})


def test_honest_three_digit_hand_arithmetic_on_mazur_and_seed004_has_no_wrong():
    cases = [
        (np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35]),
         np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60]),
         np.array([0.05, 0.10]), np.array([0.01, 0.99]), 0.5, False),
        (np.array([[0.5, -0.25]] * 3), np.array([0.1] * 3), np.array([[1.0, -1.0, 0.0]]),
         np.array([0.1]), np.array([1.0, 0.0]), np.array([1.0]), 0.1, True),
    ]
    for W1, b1, W2, b2, x, t, lr, upd in cases:
        ex = _hand_exercise(W1, b1, W2, b2, x, t, lr, upd)
        texts = hand_solution(W1, b1, W2, b2, x, t, lr, upd)
        report = check_answers(ex, nested_sheet(ex, texts))
        assert report.counts()["wrong"] == 0, [(v.label, v.given, v.basis)
                                               for v in report.verdicts if v.verdict == "wrong"]
        assert report.counts()["rounding"] + report.counts()["ok"] == len(report.verdicts)


weights = st.floats(min_value=-1, max_value=1).map(lambda v: round(v, 2))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(w=st.lists(weights, min_size=12, max_size=12),
       x=st.lists(weights, min_size=2, max_size=2),
       t=st.lists(st.sampled_from([0.0, 1.0, 0.1, 0.9]), min_size=2, max_size=2),
       lr=st.sampled_from([0.1, 0.5, 1.0]))
def test_honest_three_digit_hand_arithmetic_never_wrong(w, x, t, lr):
    W1, b1 = np.array(w[:4]).reshape(2, 2), np.array(w[4:6])
    W2, b2 = np.array(w[6:10]).reshape(2, 2), np.array(w[10:12])
    x, t = np.array(x), np.array(t)
    ex = _hand_exercise(W1, b1, W2, b2, x, t, lr)
    texts = hand_solution(W1, b1, W2, b2, x, t, lr)
    report = check_answers(ex, nested_sheet(ex, texts))
    assert report.counts()["wrong"] == 0, [(v.label, v.given, v.exact, v.basis)
                                           for v in report.verdicts if v.verdict == "wrong"]


# ---------------------------------------------------------------------- the seeds, as a teacher
def test_seed004_1a_b1_wrong_w1_rounding():
    report = check_answers(EXAMPLES / "exercises" / "seed004_1a.yaml")
    v = {x.name: x for x in report.verdicts}
    assert v["b_1_1"].verdict == "wrong"          # 2.0000065 for 1.0000067
    assert v["W_1_1_1"].verdict == "rounding"     # 1.0000065 from ∂E/∂w1 = −6.552e-5
    assert v["W_1_1_1"].depends_on == ["dW_1_1_1"]
    assert v["W_1_1_2"].verdict == "ok" and v["b_2_1"].verdict == "ok"
    assert report.exit_status == 1 and report.counts()["wrong"] == 1


def test_mazur_published_values_are_all_ok():
    report = check_answers(EXAMPLES / "exercises" / "mazur_222.yaml")
    v = {x.name: x for x in report.verdicts}
    assert v["loss"].given == "0.298371109" and v["loss"].verdict == "ok"
    assert v["W_2_1_1"].given == "0.35891648" and v["W_2_1_1"].verdict == "ok"
    assert report.counts() == {"ok": len(report.verdicts), "carried": 0, "rounding": 0,
                               "wrong": 0}


def test_mazur_with_updated_weights_names_the_slip():
    from glassnet.grading import load_answers

    sheet = load_answers(EXAMPLES / "answers" / "mazur_222_updated_weights.yaml")
    report = check_answers(EXAMPLES / "exercises" / "mazur_222.yaml", sheet)
    wrong = [v for v in report.verdicts if v.verdict == "wrong"]
    assert [v.name for v in wrong] == ["delta_1_1", "delta_1_2"]
    assert all(v.mistake == "updated_weights" for v in wrong)
    carried = {v.name for v in report.verdicts if v.verdict == "carried"}
    assert carried == {"dW_1_1_1", "dW_1_1_2", "W_1_1_1", "W_1_1_2", "W_1_2_1", "W_1_2_2"}
    assert report.student == "sam"
