"""Numbers as people write them: written precision, and display formatting.

Two jobs that both hinge on "how many digits":

* **Written precision** (for ``glassnet check``): an answer written as
  ``1.0000065`` claims 7 decimals, so it is correct "at the precision it was
  written with" when it is within half a unit of its last digit (5·10⁻⁸).
  The loader keeps the text of every number as it was written
  (:class:`WrittenFloat`), so ``1.00060`` keeps its trailing zero even when
  it is not quoted.
* **Display** (for the worked solutions): a number is shown with 6
  significant digits by default, or with a fixed number of decimals
  (``--decimals``); a small non-zero number never collapses to ``0``, and an
  updated parameter gets enough digits to show its update.

>>> half_unit("1.0000065")
5e-08
>>> number_parts(-6.66417e-05)
('-6.66417', -5)
>>> number_parts(0.646, decimals=2)
('0.65', None)
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

__all__ = ["WrittenFloat", "written_text", "half_unit", "number_parts", "digits_for_update"]

#: significant digits shown by default
DEFAULT_DIGITS = 6


class WrittenFloat(float):
    """A float that remembers the text it was written as (``"1.00060"``).

    The exercise loader builds every non-integer number from YAML or JSON as
    a WrittenFloat, so ``glassnet check`` can judge an answer at the
    precision it was written with. It is an ordinary float otherwise.

    >>> x = WrittenFloat("2.50")
    >>> x + 1, x.text
    (3.5, '2.50')
    """

    text: str

    def __new__(cls, text: str) -> WrittenFloat:
        clean = text.strip().replace("_", "")
        low = clean.lower().lstrip("+")
        if low in (".inf", "-.inf", ".nan"):
            clean = {".inf": "inf", "-.inf": "-inf", ".nan": "nan"}[low]
        obj = super().__new__(cls, clean)
        obj.text = text.strip()
        return obj


def written_text(value: object) -> str:
    """The digits an answer was written with: its text if it has one, else Python's repr.

    >>> written_text(WrittenFloat("1.00060")), written_text(0.1 + 0.2), written_text(3)
    ('1.00060', '0.30000000000000004', '3')
    """
    if isinstance(value, WrittenFloat):
        return value.text
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


def parse_decimal(text: str) -> Decimal | None:
    """The Decimal a written number stands for, or None if the text is not a number.

    Accepts the forms people type: ``-6.552e-5``, ``−0.25`` (a Unicode minus),
    ``1_000.5``, ``+.5``; rejects ``nan``, ``inf`` and anything else.
    """
    clean = text.strip().replace("\u2212", "-").replace("_", "")
    try:
        d = Decimal(clean)
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return d


def half_unit(text: str) -> float:
    """Half a unit in the last written digit of ``text`` (``"0.00034"`` → 5e-06).

    >>> half_unit("2"), half_unit("1.50"), half_unit("6.552e-5")
    (0.5, 0.005, 5e-09)
    """
    d = parse_decimal(text)
    if d is None:
        raise ValueError(f"not a number: {text!r}")
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    return 0.5 * 10.0 ** exponent


def digits_for_update(value: float, before: float, significant: int = 3) -> int | None:
    """Decimals needed to show the change ``value − before`` to ``significant`` digits.

    An updated weight 1 → 1.0000067 shown with 6 significant digits reads
    ``1.00001`` and hides the update; with 8 decimals it reads ``1.00000666``.
    Returns None when the value did not change.

    >>> digits_for_update(1.0000066641, 1.0)
    8
    """
    change = abs(value - before)
    if change == 0 or not math.isfinite(change):
        return None
    return max(0, significant - 1 - math.floor(math.log10(change)))


def _strip_zeros(s: str) -> str:
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def number_parts(value: float, decimals: int | None = None,
                 min_decimals: int | None = None,
                 digits: int = DEFAULT_DIGITS) -> tuple[str, int | None]:
    """Split ``value`` into a mantissa string (ASCII, ``-`` sign) and a power of ten.

    The exponent is None for fixed-point. Renderers compose the parts in
    their own notation (``−6.66·10⁻⁵``, ``-6.66 \\times 10^{-5}``).

    * default: ``digits`` significant digits, trailing zeros dropped;
      scientific below 10⁻⁴ and from 10^digits on (like ``%g``);
    * ``decimals=N``: N decimals (trailing zeros dropped only when the
      shorter number is exactly the value, so given inputs such as 0.5 stay
      short); a non-zero number too small for N decimals is shown in
      scientific notation with max(N, 1) significant digits;
    * ``min_decimals``: at least this many decimals (see
      :func:`digits_for_update`), used for updated parameters.
    """
    v = float(value)
    if v == 0 or not math.isfinite(v):
        return ("0" if v == 0 else repr(v)), None
    if decimals is not None:
        n = max(0, int(decimals))
        if min_decimals is not None:
            n = max(n, min_decimals)
        if abs(v) < 0.5 * 10.0 ** (-n):
            return _sci(v, max(n, 1))
        s = f"{v:.{n}f}"
        short = _strip_zeros(s)
        if float(short) == v:
            s = short
        return _clean_zero(s), None
    s = f"{v:.{digits}g}"
    if "e" in s:  # tiny or huge: the scientific form already shows every digit that matters
        mant, exp = s.split("e")
        return _strip_zeros(mant), int(exp)
    s = _strip_zeros(s)
    if min_decimals is not None:
        fixed = _strip_zeros(f"{v:.{min_decimals}f}")
        if _significant(fixed) > _significant(s):
            s = fixed
    return _clean_zero(s), None


def _significant(s: str) -> int:
    return len(s.replace("-", "").replace(".", "").lstrip("0"))


def _sci(v: float, significant: int) -> tuple[str, int]:
    mant, exp = f"{v:.{significant - 1}e}".split("e")
    return _strip_zeros(mant), int(exp)


def _clean_zero(s: str) -> str:
    return s[1:] if s.startswith("-") and float(s) == 0 else s
