"""Grading: ``glassnet check`` version 2 (follow-through, rounding from the student's digits,
the mistake catalogue), and the instructors' ``grade`` and ``generate``.

The public API for checking is two calls:

* :func:`load_answers` reads an answers file (YAML or JSON: optional ``student``,
  ``variant``, and ``answers``) into an :class:`AnswerSheet`;
* :func:`check_answers` grades a sheet (or the exercise's own ``answers``) against an
  exercise and returns a :class:`CheckReport2`.

Nothing heavy is imported until one of them is called.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_answers", "check_answers", "AnswerSheet", "CheckReport2", "Verdict2"]


def __getattr__(name: str) -> Any:
    if name in ("load_answers", "AnswerSheet"):
        from . import answers

        return getattr(answers, name)
    if name in ("check_answers", "CheckReport2", "Verdict2"):
        from . import check

        return getattr(check, name)
    raise AttributeError(f"module 'glassnet.grading' has no attribute {name!r}")
