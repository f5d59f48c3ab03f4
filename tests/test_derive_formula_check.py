"""Formula answers: equivalent rewritings accepted; each classic slip named."""

from __future__ import annotations

import pytest

from glassnet.derive.formula_check import check_formula
from glassnet.errors import GlassnetError
from glassnet.exercise import load_exercise, parse_exercise

SEED004 = load_exercise("examples/exercises/seed004_1b.yaml")
OUT = "(a4 - y)*a4*(1 - a4)"


@pytest.mark.parametrize("name,text", [
    ("w7", f"{OUT}*a1"),
    ("w7", "a1*a4*(1-a4)*(a4-y)"),                   # factors in any order
    ("dW_2_1_1", "σ(z4)·(1 − σ(z4))·(a4 − y)·a1"),    # σ(z) for a, unicode operators
    ("w7", r"(a_4 - y) \cdot a_4 (1 - a_4) \cdot a_1"),  # LaTeX
    ("w1", f"{OUT}*w7*a1*(1 - a1)*x1"),
    ("w1", "delta4*w7*a1*(1-a1)*x1"),               # δ of the layer above by name
    ("b1", "δ4 w7 a1 (1 - a1)"),                     # implicit products
    ("delta_1_2", f"a2*(1-a2)*w8*{OUT}"),
])
def test_equivalent_formulas(name, text):
    v = check_formula(SEED004, name, text)
    assert v.equivalent, v.to_dict()
    assert v.differs is None


@pytest.mark.parametrize("name,text,slip", [
    ("w7", "(a4 - y)*a1", "missing_fprime"),
    ("w1", "(a4 - y)*a4*(1 - a4)*w7*x1", "missing_fprime"),
    ("w7", "(y - a4)*a4*(1 - a4)*a1", "sign"),
    ("w7", f"2*{OUT}*a1", "factor"),
    ("w7", f"0.5*{OUT}*a1", "factor"),
    ("w2", f"{OUT}*w7*a1*(1 - a1)*x1", "other"),
])
def test_slips_are_named(name, text, slip):
    v = check_formula(SEED004, name, text)
    assert not v.equivalent and v.differs == slip, v.to_dict()
    assert v.note
    assert set(v.to_dict()) == {"name", "given", "expected", "equivalent", "differs", "note"}


def test_missing_sum_and_swapped_indices_in_a_wider_network():
    ex = parse_exercise({
        "network": {"layers": [2, 2, 2], "activation": "sigmoid", "weights": 0.5,
                    "biases": 0.1},
        "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
        "samples": [{"x": [1, 0], "t": [1, 0]}]})
    d1 = "(a_2_1 - t_1)*a_2_1*(1 - a_2_1)"
    d2 = "(a_2_2 - t_2)*a_2_2*(1 - a_2_2)"
    right = f"a_1_1*(1 - a_1_1)*(W_2_1_1*{d1} + W_2_2_1*{d2})*x_1"
    assert check_formula(ex, "dW_1_1_1", right).equivalent
    one_term = f"a_1_1*(1 - a_1_1)*W_2_1_1*{d1}*x_1"  # seed 002's "correct class only"
    assert check_formula(ex, "dW_1_1_1", one_term).differs == "missing_sum"
    swapped = f"a_1_1*(1 - a_1_1)*(W_2_1_1*{d1} + W_2_1_2*{d2})*x_1"  # w_jk for w_kj
    assert check_formula(ex, "dW_1_1_1", swapped).differs == "swapped_indices"
    seed001 = f"{d1}*a_1_2"  # seed 001 Part 2: δ_i and the input index exchanged
    assert check_formula(ex, "dW_2_2_1", seed001).differs == "swapped_indices"


@pytest.mark.parametrize("name,text", [
    ("w99", "a1"), ("a1", "a1"), ("w7", ""), ("w7", "a1 +* 2"), ("w7", "q9*a1"),
    ("w7", "sum(a1)"),
])
def test_bad_input_is_a_clear_error(name, text):
    with pytest.raises(GlassnetError):
        check_formula(SEED004, name, text)


def test_formulas_written_with_exponentials():
    """σ' written from its definition, e^(−z)/(1 + e^(−z))², is the same derivative."""
    assert check_formula(SEED004, "b4", "(a4-y)*e^(-z4)/(1+e^(-z4))^2").equivalent
    assert check_formula(SEED004, "w1", "delta4*w7*exp(-z1)/(1+exp(-z1))**2*x1").equivalent
    assert not check_formula(SEED004, "b4", "(a4-y)*e^(-z4)/(1+e^(-z4))^3").equivalent
