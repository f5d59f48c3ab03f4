"""The picture of a worked solution: well-formed SVG with every neuron, weight and delta."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from glassnet.cli import main
from glassnet.errors import GlassnetError
from glassnet.exercise import explain

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "exercises"
SVG = "{http://www.w3.org/2000/svg}"


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_seed004_1a_picture_shows_neurons_weights_before_after_and_deltas():
    sol = explain(str(EXAMPLES / "seed004_1a.yaml"))
    root = ET.fromstring(sol.to_svg())
    assert len(list(root.iter(f"{SVG}circle"))) == 2 + 3 + 1
    assert len(list(root.iter(f"{SVG}line"))) == 2 * 3 + 3 * 1
    labels = texts(root)
    assert "w₁₁⁽¹⁾ 1 → 1.0000067" in labels           # enough digits to show the update
    assert "w₁₂⁽¹⁾ 1 → 1" in labels                   # x₂ = 0: unchanged
    assert "w₁₁⁽²⁾ 1 → 1.000056" in labels
    assert "b 1 → 1.000063" in labels
    assert "δ = −6.664e−5" in labels and "δ = −0.0006347" in labels
    assert "x = 1" in labels and "t = 1" in labels
    assert any("loss E = 0.0003257" in t for t in labels)


def test_negative_weights_are_red_and_positive_blue():
    root = ET.fromstring(explain(str(EXAMPLES / "seed004_1b.yaml")).to_svg())
    colors = {line.get("stroke") for line in root.iter(f"{SVG}line")}
    assert {"#1f5fbf", "#c0392b"} <= colors


def test_batch_update_shows_every_sample_and_dense_layers_as_matrices():
    root = ET.fromstring(explain(str(EXAMPLES / "seed003_q2b.yaml")).to_svg())
    labels = texts(root)
    assert "x = 1 | 10" in labels                    # x₃ of samples 1 and 2
    assert "δ = 0.1582 | 0.2057" in labels           # the seed's δ⁽³⁾ columns
    assert "W⁽¹⁾ after:" in labels and "0.1013  0.1  0.1044  0.1" in labels


def test_second_update_and_range(capsys):
    sol = explain(str(EXAMPLES / "seed000_neuron.yaml"))
    labels = texts(ET.fromstring(sol.to_svg(update=1)))
    assert any(t.startswith("update 2 of 2") for t in labels)
    with pytest.raises(GlassnetError, match="2 updates"):
        sol.to_svg(update=2)
    assert main(["explain", str(EXAMPLES / "seed000_neuron.yaml"), "--format", "svg",
                 "--update", "3"]) == 2
    assert "2 updates" in capsys.readouterr().err


def test_decimals_apply_to_the_picture():
    sol = explain(str(EXAMPLES / "seed004_1b.yaml"))
    labels = texts(ET.fromstring(sol.to_svg(decimals=2)))
    assert "a = 0.65" in labels
