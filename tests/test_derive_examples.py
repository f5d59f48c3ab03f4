"""examples/derivations: the seeds' derivations, rendered, in sync, proved, in the seeds' symbols.

To regenerate after a deliberate change::

    for f in examples/derivations/*.yaml; do
        glassnet derive "$f" --format markdown -o "${f%.yaml}.md"
    done
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glassnet.derive import derive

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "derivations"
FILES = sorted(EXAMPLES.glob("*.yaml"))

#: symbols each seed writes, which its derivation must use (LaTeX as rendered)
SYMBOLS = {
    "seed000_sigmoid_bce": [r"v_{", r"\varphi", r"\mathcal{L}", r"\mu", "d"],
    "seed000_softmax_ce": [r"v^{(1)}_{j}", r"y^{(2)}_{k}", r"d_{k}", r"\mathcal{L}"],
    "seed001_sigmoid_sse": [r"O^{H}_{j}", r"x^{O}_{k}", r"w^{O}_{kj}", r"O^{I}_{i}",
                            r"\mathrm{sig}"],
    "seed002_regression": [r"\gamma_{j0}", r"H_{j}", r"I_{i}", r"W_{ij}", r"\mathrm{SE}",
                           r"\alpha"],
    "seed002_classification": [r"\gamma_{jk}", r"X_{k}", r"O_{k}", r"l_{k}", r"\mathrm{CE}"],
    "seed003_vectorised": [r"x^{[1]}", r"z^{[2]}", r"w^{[2]}", r"\circ", r"^{\top}"],
}


def test_every_seed_derivation_is_there():
    names = {f.stem for f in FILES}
    assert set(SYMBOLS) <= names
    for stem in ("seed000", "seed001", "seed002_regression", "seed002_classification",
                 "seed003"):
        assert any(n.startswith(stem) for n in names), stem


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_rendered_markdown_is_in_sync_and_proved(path):
    d = derive(path)
    md = d.to_markdown()
    committed = path.with_suffix(".md").read_text(encoding="utf-8")
    assert md == committed, f"{path.with_suffix('.md').name} is stale: regenerate it"
    assert d.verified and all(g["verified"] for g in d.gradients)
    assert "Verified:" in md and "NOT verified" not in md
    for symbol in SYMBOLS.get(path.stem, []):
        assert symbol in md, (path.stem, symbol)


def test_notes_where_the_seeds_slip():
    s1 = (EXAMPLES / "seed001_sigmoid_sse.md").read_text(encoding="utf-8")
    assert "swaps the output weight's indices" in s1
    s2 = (EXAMPLES / "seed002_classification.md").read_text(encoding="utf-8")
    assert "the correct class" in s2 and "Σⱼ lⱼ = 1" in s2
    # and the derivation itself writes the sum the seed skipped
    assert r"\sum_{m} l_{m}" in s2
