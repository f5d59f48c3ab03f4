"""Derivations: ``glassnet derive`` writes and proves the formulas of backpropagation.

For any network the engine trains (any depth, every activation and loss,
biases updated / frozen / none, online or batch updates) :func:`derive`
writes the derivation step by step in the reader's notation (definitions;
the output layer through ∂E/∂a · ∂a/∂z · ∂z/∂w with every factor derived;
every hidden layer by the sum over paths; biases; the update and batch
rules; the vectorised form), proves every final formula with SymPy, and,
when an exercise file has numbers, follows each formula by its instance with
the numbers of the engine's own trace.

Modules: :mod:`~glassnet.derive.spec` (the network as a derivation sees it),
:mod:`~glassnet.derive.notation` (the reader's symbols),
:mod:`~glassnet.derive.expressions` (the per-parameter formulas in canonical
names), :mod:`~glassnet.derive.proof` (the SymPy proof),
:mod:`~glassnet.derive.steps` (the document), ``render_*`` (text, Markdown,
JSON), :mod:`~glassnet.derive.formula_check` (grading a student's formula).
SymPy is imported only inside the functions that need it.

>>> from glassnet.derive import derive
>>> d = derive(layers="2,3,1", activation="sigmoid", loss="half_sse")
>>> g = d.gradient("W_2_1_1")
>>> g["expression"], g["verified"]
('(a_2_1 - t_1)*a_2_1*(1 - a_2_1)*a_1_1', True)
"""

from __future__ import annotations

from typing import Any

__all__ = ["derive", "Derivation"]


def derive(source: Any = None, **options: Any) -> Any:
    """Derive (and prove) backpropagation for an exercise file or a network description.

    ``source``: a path to an exercise file, a loaded
    :class:`~glassnet.exercise.Exercise`, or None with ``layers=``,
    ``activation=``, ``loss=`` (and optionally ``biases=`` updated/frozen/none,
    ``mode=`` sgd/batch/batch_mean). Other options: ``notation=`` (a built-in
    name), ``weight=`` (one parameter whose chain of partials to write along
    every path, e.g. ``W_1_1_1``, ``w1`` or ``W1[1,1]``).
    Returns a :class:`~glassnet.derive.document.Derivation`.
    """
    from .document import derive as _derive

    return _derive(source, **options)


def __getattr__(name: str) -> Any:
    if name == "Derivation":
        from .document import Derivation

        return Derivation
    raise AttributeError(name)
