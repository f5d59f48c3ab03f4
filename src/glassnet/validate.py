"""One validation layer for everything that comes from outside glassnet.

Exercise files, answers, command-line options and API arguments all pass
through the same small set of declarative constraints (after scikit-learn's
``utils/_param_validation.py``): each constraint knows how to test a value
and how to say what it expects, and :func:`validate` raises one
:class:`ValidationError` (a :class:`~glassnet.errors.GlassnetError`: one line,
exit status 2) that names *where*, *what was expected* and *what was given*.

The rules are the ones that fuzzing showed to matter:

* **types, not truthiness**: ``True`` is not the integer 1, a mapping is not an
  activation name, the text ``"0.5"`` is not a number unless a caller asks
  for written numbers;
* **cheap before costly**: an integer written with 5000 digits is refused by
  its length before Python converts it (which takes quadratic time);
* **finite and in range**: ``1e308`` as an initializer limit, NaN, ±inf are
  refused with the range that was expected;
* **files are checked before they are read**: a path must exist, be a regular
  file (``/dev/zero`` and pipes are refused at once) and fit a size cap.

Adopting it in a new command or loader takes one call per value::

    >>> from glassnet.validate import Integer, Options, Real, validate, validate_params
    >>> validate(3, Integer(1, 10), "epochs")
    3
    >>> validate(True, Integer(1, 10), "epochs")
    Traceback (most recent call last):
    ...
    glassnet.validate.ValidationError: epochs: expected an integer in [1, 10], got true (a boolean)
    >>> validate_params({"lr": 0.1, "mode": "sgd"},
    ...                 {"lr": Real(0, 10), "mode": Options(["sgd", "batch"])}, "exercise")
    {'lr': 0.1, 'mode': 'sgd'}
    >>> parse_int("1" * 5000, "--samples", 1, 100)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    glassnet.validate.ValidationError: --samples: expected an integer in [1, 100], got a number ...
    >>> parse_parameter_name("W_2_1_3", [2, 3, 1])
    ('W', 2, 0, 2)
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import GlassnetError

__all__ = ["ValidationError", "Constraint", "Integer", "Real", "Options", "Boolean", "Text",
           "InstanceOf", "validate", "validate_params", "describe", "printable", "parse_int",
           "parse_float",
           "parse_parameter_name", "input_file", "read_input_file", "MAX_INT_DIGITS"]

#: integers are refused beyond this many digits before any conversion (10¹⁸ is plenty for
#: a seed, a size or an index; Python's int() of a long digit string takes quadratic time)
MAX_INT_DIGITS = 20


class ValidationError(GlassnetError):
    """A value from outside does not satisfy its constraint: ``where: expected ..., got ...``."""


def describe(value: Any) -> str:
    """A short, safe description of a value for an error message (never its whole text).

    >>> describe(True), describe({"a": 1}), describe("x" * 50)[:20]
    ('true (a boolean)', 'a mapping', "the text 'xxxxxxxxxx")
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    text = getattr(value, "text", None)  # exercise.numbers.WrittenFloat keeps its written text
    if isinstance(text, str):
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, int):
        return _int_text(value)
    if isinstance(value, float):
        return repr(value)
    return type(value).__name__


#: C0 and C1 control characters (ANSI escapes start with ESC, \x1b), DEL, the bidirectional
#: overrides that can make text read differently from what it is, lone surrogates, and the
#: non-characters U+FFFE/U+FFFF (not allowed in XML, so not in an SVG title)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e"
                      "\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def printable(text: str, keep_newlines: bool = False) -> str:
    r"""User-supplied text made safe to print: control characters removed.

    A title like ``"\x1b[2J"`` would clear the terminal; a lone surrogate from a JSON
    ``"\ud800"`` cannot be encoded at all. Tabs and (with ``keep_newlines``) newlines
    stay; otherwise every line break becomes a space.

    >>> printable("ok\x1b[31m red\x07\nnext")
    'ok[31m red next'
    """
    if not isinstance(text, str):
        text = str(text)
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _CONTROL.sub("", text)


def _int_text(value: int) -> str:
    # str() of a huge int is itself quadratic (and limited to 4300 digits): measure first
    if value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    return str(value)


def _is_int(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Constraint:
    """A test plus its description; :meth:`convert` returns the accepted value in its
    canonical type (an ``int``, a ``float``, ...)."""

    def is_satisfied_by(self, value: Any) -> bool:
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        return value

    def __str__(self) -> str:
        raise NotImplementedError


def _interval(lo: float | None, hi: float | None, lo_closed: bool = True,
              hi_closed: bool = True) -> str:
    if lo is None and hi is None:
        return ""
    if hi is None:
        return f" {'>=' if lo_closed else '>'} {lo:g}"
    if lo is None:
        return f" {'<=' if hi_closed else '<'} {hi:g}"
    return f" in {'[' if lo_closed else '('}{lo:g}, {hi:g}{']' if hi_closed else ')'}"


class Integer(Constraint):
    """An integer (not a bool, not a float, even an integral one) in [lo, hi]."""

    def __init__(self, lo: int | None = None, hi: int | None = None):
        self.lo, self.hi = lo, hi

    def is_satisfied_by(self, value: Any) -> bool:
        if not _is_int(value):
            return False
        if int(value).bit_length() > 67:  # more than MAX_INT_DIGITS digits
            return False
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def convert(self, value: Any) -> int:
        return int(value)

    def __str__(self) -> str:
        return "an integer" + _interval(self.lo, self.hi)


class Real(Constraint):
    """A finite real number (an int or a float, not a bool) in an interval.

    ``Real(0, None, lo_closed=False)`` is a positive number; ``max_abs`` caps the
    magnitude whatever the sign (an answer of 5·10⁸ is absurd for an exercise).
    """

    def __init__(self, lo: float | None = None, hi: float | None = None, *,
                 lo_closed: bool = True, hi_closed: bool = True, max_abs: float | None = None):
        self.lo, self.hi, self.lo_closed, self.hi_closed = lo, hi, lo_closed, hi_closed
        self.max_abs = max_abs

    def is_satisfied_by(self, value: Any) -> bool:
        if not _is_real(value):
            return False
        try:
            f = float(value)
        except (OverflowError, ValueError):
            return False
        if not math.isfinite(f):
            return False
        if self.max_abs is not None and abs(f) > self.max_abs:
            return False
        if self.lo is not None and (f < self.lo or (f == self.lo and not self.lo_closed)):
            return False
        return not (self.hi is not None and (f > self.hi or (f == self.hi and not
                                                              self.hi_closed)))

    def convert(self, value: Any) -> float:
        return float(value)

    def __str__(self) -> str:
        text = "a finite number" + _interval(self.lo, self.hi, self.lo_closed, self.hi_closed)
        if self.max_abs is not None:
            text += f"{' and' if self.lo is not None or self.hi is not None else ''} of " \
                    f"magnitude at most {self.max_abs:g}"
        return text


class Options(Constraint):
    """One of a fixed set of names (a ``str``: a mapping or a list is not a name)."""

    def __init__(self, options: Iterable[str]):
        self.options = tuple(options)

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return "one of " + ", ".join(self.options)


class Boolean(Constraint):
    """``True`` or ``False`` only (not 0/1, not "yes")."""

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, bool)

    def __str__(self) -> str:
        return "true or false"


class Text(Constraint):
    """A string of at most ``max_len`` characters."""

    def __init__(self, max_len: int = 10_000):
        self.max_len = max_len

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and len(value) <= self.max_len

    def __str__(self) -> str:
        return f"text of at most {self.max_len} characters"


class InstanceOf(Constraint):
    """An instance of a type, described by ``name``."""

    def __init__(self, kind: type | tuple[type, ...], name: str):
        self.kind, self.name = kind, name

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.kind) and not (isinstance(value, bool)
                                                     and bool not in _types(self.kind))

    def __str__(self) -> str:
        return self.name


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def validate(value: Any, constraint: Constraint | Sequence[Constraint | None] | None,
             where: str) -> Any:
    """Return ``value`` (converted by the first satisfied constraint) or raise.

    ``None`` among the constraints accepts ``None``.
    """
    options: Sequence[Constraint | None] = (
        constraint if isinstance(constraint, (list, tuple)) else [constraint])
    for c in options:
        if c is None:
            if value is None:
                return None
            continue
        if c.is_satisfied_by(value):
            return c.convert(value)
    expected = " or ".join("nothing (null)" if c is None else str(c) for c in options)
    raise ValidationError(f"{where}: expected {expected}, got {describe(value)}")


def validate_params(values: Mapping[str, Any], spec: Mapping[str, Any], where: str = "",
                    *, required: Iterable[str] = ()) -> dict[str, Any]:
    """Check a mapping of named values against ``spec`` (name → constraint(s)).

    Unknown names and missing required names are errors; returns the converted values.
    """
    prefix = f"{where}." if where else ""
    if not isinstance(values, Mapping):
        raise ValidationError(f"{where or 'parameters'}: expected a mapping, got "
                              f"{describe(values)}")
    for key in values:
        if key not in spec:
            raise ValidationError(f"{prefix}{key}: unknown; expected one of "
                                  f"{', '.join(spec)}")
    for key in required:
        if key not in values:
            raise ValidationError(f"{prefix}{key}: missing")
    return {key: validate(value, spec[key], f"{prefix}{key}") for key, value in values.items()}


_INT_TEXT = re.compile(r"^\s*[-+]?[0-9][0-9_]*\s*$")


def parse_int(text: str, where: str, lo: int | None = None, hi: int | None = None) -> int:
    """An integer written as text (a command-line option), its length checked first."""
    constraint = Integer(lo, hi)
    if not isinstance(text, str) or not _INT_TEXT.match(text):
        raise ValidationError(f"{where}: expected {constraint}, got {describe(text)}")
    digits = text.strip().lstrip("+-").replace("_", "")
    if len(digits) > MAX_INT_DIGITS:
        raise ValidationError(f"{where}: expected {constraint}, got a number with "
                              f"{len(digits)} digits")
    return validate(int(text.strip().replace("_", "")), constraint, where)


def parse_float(text: str, where: str, lo: float | None = None, hi: float | None = None, *,
                lo_closed: bool = True, hi_closed: bool = True) -> float:
    """A finite number written as text (a command-line option), in a range."""
    constraint = Real(lo, hi, lo_closed=lo_closed, hi_closed=hi_closed)
    if not isinstance(text, str) or len(text) > 100:
        raise ValidationError(f"{where}: expected {constraint}, got {describe(text)}")
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"{where}: expected {constraint}, got {describe(text)}") from None
    return validate(value, constraint, where)


_PARAM = re.compile(
    r"^\s*(?P<kind>[Wwb])\s*(?:_\s*)?(?P<l>\d+)\s*"
    r"(?:[\[(]\s*(?P<i>\d+)\s*(?:,\s*(?P<j>\d+)\s*)?[\])]"   # W2[1,3], b1(2)
    r"|_(?P<i2>\d+)(?:_(?P<j2>\d+))?)\s*$")                  # W_2_1_3, b_1_2


def parse_parameter_name(spec: str, layers: Sequence[int], has_biases: bool = True,
                         where: str = "--weight") -> tuple[str, int, int, int | None]:
    """A parameter name → (kind, layer, row, column): layer 1-based, row and column 0-based.

    Accepts ``W2[1,3]`` / ``b1[2]`` (the worked solution's names) and ``W_2_1_3`` /
    ``b_1_2`` (answer files); every index counts from 1 and is checked against
    ``layers`` (sizes, input first), its length before its value.
    """
    example = "W1[1,2] (w₁₂⁽¹⁾: from unit 2 of layer 0 to unit 1 of layer 1) or b2[1]"
    if not isinstance(spec, str) or len(spec) > 100:
        raise ValidationError(f"{where}: expected a parameter like {example}, got "
                              f"{describe(spec)}")
    m = _PARAM.match(spec)
    shown = spec if len(spec) <= 40 else spec[:37] + "..."
    if not m:
        raise ValidationError(f"{where} {shown!r}: expected a parameter like {example}")
    kind = "W" if m.group("kind") in "Ww" else "b"
    raw = [m.group("l"), m.group("i") or m.group("i2"), m.group("j") or m.group("j2")]
    if any(r is not None and len(r) > 9 for r in raw):
        raise ValidationError(f"{where} {shown!r}: an index has more digits than any layer "
                              f"has units")
    l, i = int(raw[0]), int(raw[1])
    j = None if raw[2] is None else int(raw[2])
    L = len(layers) - 1
    if kind == "W" and j is None:
        raise ValidationError(f"{where} {shown!r}: a weight needs two indices, e.g. "
                              f"W{l}[{i},1]")
    if kind == "b" and j is not None:
        raise ValidationError(f"{where} {shown!r}: a bias has one index, e.g. b{l}[{i}]")
    if kind == "b" and not has_biases:
        raise ValidationError(f"{where} {shown!r}: this network has no biases")
    if not 1 <= l <= L:
        raise ValidationError(f"{where} {shown!r}: layers with parameters are 1..{L} "
                              f"(layer 0 is the input)")
    rows, cols = layers[l], layers[l - 1]
    if i == 0 or j == 0:
        raise ValidationError(f"{where} {shown!r}: indices count from 1, as in the worked "
                              f"solution's w₁₁⁽¹⁾")
    if i > rows:
        raise ValidationError(f"{where} {shown!r}: layer {l} has {rows} unit"
                              f"{'s' if rows != 1 else ''} (rows 1..{rows})")
    if j is not None and j > cols:
        raise ValidationError(f"{where} {shown!r}: layer {l - 1} has {cols} unit"
                              f"{'s' if cols != 1 else ''} (columns 1..{cols})")
    return kind, l, i - 1, None if j is None else j - 1


def input_file(path: str | os.PathLike[str], max_bytes: int, what: str = "file") -> str:
    """Check an input path before reading it: it exists, is a regular file, fits ``max_bytes``.

    Devices (``/dev/zero``), pipes and folders are refused at once, without reading.
    """
    try:
        source = os.fspath(path)
    except TypeError:
        raise ValidationError(f"{what}: expected a file path, got {describe(path)}") from None
    if not isinstance(source, str) or not source or "\0" in source:
        raise ValidationError(f"{what}: expected a file path, got {describe(source)}")
    try:
        st = os.stat(source)
    except FileNotFoundError:
        raise ValidationError(f"{what} {source}: no such file") from None
    except PermissionError:
        raise ValidationError(f"{what} {source}: permission denied") from None
    except OSError as exc:
        raise ValidationError(f"{what} {source}: cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise ValidationError(f"{what} {source}: is a directory, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise ValidationError(f"{what} {source}: not a regular file (a device, a pipe or a "
                              f"socket); expected a file")
    if st.st_size > max_bytes:
        raise ValidationError(f"{what} {source}: {st.st_size} bytes, more than the "
                              f"{max_bytes} bytes glassnet reads for {what}s")
    return source


def read_input_file(path: str | os.PathLike[str], max_bytes: int, what: str = "file") -> bytes:
    """:func:`input_file`, then read at most ``max_bytes`` (a file growing meanwhile is refused)."""
    source = input_file(path, max_bytes, what)
    try:
        with open(source, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError:
        raise ValidationError(f"{what} {source}: permission denied") from None
    except OSError as exc:
        raise ValidationError(f"{what} {source}: cannot be read ({exc.strerror})") from None
    if len(data) > max_bytes:
        raise ValidationError(f"{what} {source}: more than the {max_bytes} bytes glassnet "
                              f"reads for {what}s")
    return data
