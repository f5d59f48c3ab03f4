"""Exceptions that glassnet raises for bad input.

Every problem a user can cause (a wrong shape, an unknown name, a NaN in the
data, a malformed file) raises :class:`GlassnetError` or a subclass, with a
message that names *what* is wrong, *where*, and *what was expected*. The CLI
turns these into one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GlassnetError(ValueError):
    """Base class for every user-facing error in glassnet."""


class ShapeError(GlassnetError):
    """An array does not have the shape the network or file requires."""


class UnknownNameError(GlassnetError, KeyError):
    """A name (activation, loss, initializer, ...) is not known."""

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return str(self.args[0]) if self.args else ""


class NonFiniteError(GlassnetError):
    """An input contains NaN or infinity."""


def unknown_name(kind: str, name: object, known: Iterable[str]) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that lists the valid names and a close match.

    >>> str(unknown_name("activation", "sigmod", ["sigmoid", "tanh"]))
    "unknown activation 'sigmod' (did you mean 'sigmoid'?); expected one of: sigmoid, tanh"
    """
    known = sorted(known)
    hint = ""
    if isinstance(name, str):
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
    return UnknownNameError(
        f"unknown {kind} {name!r}{hint}; expected one of: {', '.join(known)}"
    )
