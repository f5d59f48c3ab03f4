"""Notations: the seeds' symbols appear in the renderings, and names map both ways."""

from __future__ import annotations

import pytest

from glassnet.derive import derive
from glassnet.derive.notation import BUILTIN, builtin, notation_for, parse_notation
from glassnet.exercise import load_exercise, parse_exercise
from glassnet.exercise.loader import ExerciseError

SEED004 = "examples/exercises/seed004_1b.yaml"


def test_seed004_numbered_names_map_to_canonical_names():
    n = builtin("seed004").bind([2, 3, 1])
    expected = {"w1": "W_1_1_1", "w2": "W_1_1_2", "w3": "W_1_2_1", "w6": "W_1_3_2",
                "w7": "W_2_1_1", "w9": "W_2_1_3", "b1": "b_1_1", "b4": "b_2_1",
                "a1": "a_1_1", "a4": "a_2_1", "z4": "z_2_1", "x2": "x_2", "y": "t_1",
                "dw7": "dW_2_1_1", "dE/db4": "db_2_1", "∂E/∂w1": "dW_1_1_1",
                "delta4": "delta_2_1", "δ2": "delta_1_2"}
    for name, canon in expected.items():
        assert n.canonical_name(name) == canon, name
    for bad in ("w10", "b5", "a0", "q1", "", "w"):
        assert n.canonical_name(bad) is None, bad


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_round_trips_every_quantity(name):
    n = builtin(name).bind([3, 4, 2])
    quantities = ([f"W_{l}_{i}_{j}" for l, (a, b) in enumerate([(4, 3), (2, 4)], 1)
                   for i in range(1, a + 1) for j in range(1, b + 1)]
                  + [f"{k}_{l}_{i}" for k in ("z", "a", "b", "delta") for l, u in
                     ((1, 4), (2, 2)) for i in range(1, u + 1)]
                  + ["x_1", "x_3", "t_1", "t_2", "dW_2_1_3", "db_1_2"])
    for q in quantities:
        shown = n.display_name(q)
        assert n.canonical_name(shown) == q, (name, q, shown)
        assert n.canonical_name(q) == q  # canonical names always work


def test_seed_symbols_appear_in_the_derivations():
    text = derive(layers="2,3,1", activation="sigmoid", loss="binary_cross_entropy",
                  notation="haykin").to_text()
    for symbol in ("v", "φ", "d", "y"):
        assert symbol in text
    dlai = derive(layers="2,3,1", activation="relu,sigmoid", loss="binary_cross_entropy",
                  notation="deeplearning.ai").to_markdown()
    assert "z^{[1]}" in dlai and "W^{[2]}" in dlai and r"\alpha" in dlai
    nielsen = derive(layers="2,3,1", activation="sigmoid", loss="half_sse",
                     notation="nielsen").to_markdown()
    assert "w^{2}_{1j}" in nielsen and "a^{1}_{j}" in nielsen and "C" in nielsen
    bishop = derive(layers="2,3,2", activation="tanh,sigmoid", loss="half_sse",
                    notation="bishop").to_text()
    assert "yₖ" in bishop and "zⱼ" in bishop  # Bishop: z the hidden output, y the output
    s4 = derive(SEED004).to_text()
    for symbol in ("w₇", "a₄", "δ₄", "b₄", "α"):
        assert symbol in s4
    s2 = derive(layers="3,4,3", activation="sigmoid,softmax", loss="cross_entropy",
                biases="none", notation="seed002").to_text()
    for symbol in ("γ", "Hⱼ", "Oₖ", "Xₖ", "lₖ", "Iᵢ"):
        assert symbol in s2, symbol
    s1 = derive(layers="2,2,2", activation="sigmoid", loss="half_sse",
                notation="seed001").to_markdown()
    assert "O^{H}" in s1 and "x^{O}" in s1 and "w^{O}" in s1


def test_notation_section_of_an_exercise_file():
    ex = parse_exercise({
        "network": {"layers": [2, 2, 1], "activation": "sigmoid", "weights": 0.5,
                    "biases": 0.1},
        "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
        "samples": [{"x": [1, 0], "t": [1]}],
        "notation": {"base": "haykin", "weights": ["", "u", "v"], "learning_rate": "μ"}})
    n = notation_for(ex)
    assert n.eta == "μ" and n.canonical_name("v_11") == "W_2_1_1"
    assert n.canonical_name("u_21") == "W_1_2_1"
    assert "μ" in derive(ex).to_text()
    assert notation_for(load_exercise(SEED004)).canonical_name("w7") == "W_2_1_1"
    assert notation_for(load_exercise(SEED004), "glassnet").canonical_name("w7") is None


@pytest.mark.parametrize("section,path", [
    ({"bogus": 1}, "notation.bogus"),
    ({"layer_mark": "fancy"}, "notation.layer_mark"),
    ({"weights": "w x"}, "notation.weights"),
    ({"base": "nope"}, "notation.base"),
    ("unknown-book", "notation"),
])
def test_bad_notation_sections_name_the_key(section, path):
    with pytest.raises(ExerciseError) as err:
        parse_notation(section, "ex.yaml")
    assert f"ex.yaml: {path}" in str(err.value)


# ------------------------------------------- the notes speak the reader's notation too
def _notes(d) -> list[str]:
    """Every explanatory note of a derivation (the reasons and sentences, not the formulas),
    except the line that introduces the notation itself."""
    out = []
    for step in d.steps:
        for line in step.lines:
            text = line.words if line.kind == "words" else line.because
            if text and not text.startswith(("Notation:", "Numbered names:")):
                out.append(text)
    return out


GENERIC = ("z_k", "a_j", "δₖ aⱼ", "∂E/∂a ·", "depends on aₖ;", "δⱼ = f'(zⱼ)")


def _standalone_E(notes: list[str]) -> list[str]:
    import re

    return [t for t in notes if re.search(r"(?<![A-Za-z])E(?![A-Za-z])", t)]


def test_nielsen_notes_use_the_cost_C_and_nielsens_letters():
    """QA finding 12: "sum of z_k contains a_j", "E" under Nielsen's C, "δₖ aⱼ" for layer 1."""
    d = derive(SEED004, notation="nielsen")
    notes = _notes(d)
    assert _standalone_E(notes) == []
    assert not [t for t in notes for g in GENERIC if g in t]
    joined = "\n".join(notes)
    for expected in ("the chain rule: w₁ⱼ² reaches C only through z₁² and a₁²",
                     "only the term of unit j in the sum z₁² = Σₘ w₁ₘ²·aₘ¹ + … contains aⱼ¹",
                     "δ₁² = ∂C/∂a₁² · σ'(z₁²)",
                     "δⱼ¹ = σ'(zⱼ¹)·w₁ⱼ²·δ₁²",
                     "row 1, column j is δ₁²·aⱼ¹ (layer 2)",
                     "row j, column i is δⱼ¹·xᵢ (layer 1)",   # the input is x, not a
                     "which feeds the one unit of layer 2: one path",
                     "with that sample's C", "equal ∂C/∂p as SymPy computes it"):
        assert expected in joined, expected


def test_seed_notations_notes():
    s4 = "\n".join(_notes(derive(SEED004)))
    assert "row j, column i is δⱼ⁽¹⁾·xᵢ (layer 1)" in s4
    assert "row 1, column j is δ₄·aⱼ⁽¹⁾ (layer 2)" in s4
    assert "δ₄ = ∂E/∂a₄ · σ'(z₄)" in s4 and "net input of unit 1 of layer 2" in s4
    s2 = "\n".join(_notes(derive(layers="3,4,3", activation="sigmoid,softmax",
                                 loss="cross_entropy", biases="none", notation="seed002")))
    assert "only the term of unit j in the sum Xₖ = Σₘ γₘₖ·Hₘ + … contains Hⱼ" in s2
    assert "row j, column i is δⱼ⁽¹⁾·Iᵢ (layer 1)" in s2 and "sample's CE" in s2
    assert "d log Oₖ / dOₖ = 1/Oₖ" in s2
    s1 = "\n".join(_notes(derive(layers="2,2,2", activation="sigmoid", loss="half_sse",
                                 notation="seed001")))
    assert "δⱼᴴ = sig'(xⱼᴴ)·Σₖ wₖⱼᴼ·δₖᴼ" in s1 and "δₖᴼ·Oⱼᴴ (layer 2)" in s1


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_no_builtin_notation_gets_generic_notes(name):
    d = derive(layers="2,3,2", activation="sigmoid", loss="half_sse", notation=name)
    notes = _notes(d)
    assert not [(g, t) for t in notes for g in GENERIC if g in t]
    E = d.notation.E
    if E != "E":
        assert _standalone_E(notes) == []
        assert any(f"reaches {E} only through" in t for t in notes)
