"""examples/exercises: every seed exercise, its rendered solution and picture stay in sync.

If a renderer changes on purpose, regenerate the committed files with::

    for f in examples/exercises/*.yaml; do
        glassnet explain "$f" --format markdown -o "${f%.yaml}.md"
        glassnet explain "$f" --format svg -o "${f%.yaml}.svg"
    done
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glassnet.exercise import explain

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "exercises"
FILES = sorted(EXAMPLES.glob("*.yaml"))
REQUIRED = {"seed003_q1", "seed003_q2a", "seed003_q2b", "seed003_q3", "seed004_1a",
            "seed004_1b", "seed002_regression", "seed002_classification", "seed000_neuron"}


def test_every_numeric_seed_exercise_has_an_example():
    assert {f.stem for f in FILES} >= REQUIRED


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_committed_markdown_matches_the_renderer(path):
    md = path.with_suffix(".md")
    assert md.exists(), f"{md.name} is missing; see this module's docstring"
    assert md.read_text(encoding="utf-8") == explain(str(path)).to_markdown(), (
        f"{md.name} is out of date; regenerate it (see this module's docstring)")


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_committed_picture_matches_the_renderer(path):
    svg = path.with_suffix(".svg")
    assert svg.exists(), f"{svg.name} is missing; see this module's docstring"
    assert svg.read_text(encoding="utf-8") == explain(str(path)).to_svg(), (
        f"{svg.name} is out of date; regenerate it (see this module's docstring)")


def test_seed003_q1_markdown_shows_the_seed_s_printed_values():
    text = (EXAMPLES / "seed003_q1.md").read_text(encoding="utf-8")
    for value in ("0.549834", "0.16495", "0.541144", "-0.113937", "0.13437", "0.0994943",
                  "0.162647", "0.0261188", "0.198989", "0.549584", "0.382101", "-0.0913066",
                  "0.59438", "0.477189"):
        assert value in text, value
