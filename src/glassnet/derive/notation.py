"""Notations: the reader's symbols for the quantities of backpropagation.

Textbooks agree on the mathematics and on almost nothing else: Haykin writes
the net input v and the output y, Bishop calls the net input a and the
hidden output z, deeplearning.ai marks layers z^[l], Nielsen w^l_jk, seed 002
gives every layer its own letter (I, H, O; W and γ) and counts from 0, seed
004 numbers every weight of the network (w1 … w9). A :class:`Notation`
knows one of these conventions and does three jobs:

* print a quantity in it (``symbol``: text and LaTeX, through the formula
  nodes of :mod:`glassnet.exercise.formula`);
* name a quantity as a student types it (``display_name``: ``w7``);
* read a student's name back (``canonical_name``: ``w7`` → ``W_2_1_1``), the
  canonical names of grading.md / derive-format.md: ``x_i``, ``z_l_i``,
  ``a_l_i``, ``delta_l_i``, ``t_k``, ``W_l_i_j`` (to unit i of layer l from
  unit j of layer l−1), ``b_l_i``, ``dW_l_i_j``, ``db_l_i``, ``loss``.

An exercise file may carry a ``notation`` section (see docs/derive.md);
:func:`notation_for` returns it, or a built-in one.

>>> n = builtin("seed004").bind([2, 3, 1])
>>> n.canonical_name("w7"), n.canonical_name("b1"), n.canonical_name("a1"), n.canonical_name("z4")
('W_2_1_1', 'b_1_1', 'a_1_1', 'z_2_1')
>>> n.display_name("W_1_3_2"), n.display_name("a_2_1")
('w6', 'a4')
>>> builtin("deeplearning.ai").bind([2, 3, 1]).canonical_name("W^[2]_13")
'W_2_1_3'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import GlassnetError
from ..exercise.formula import ATOM, Expr, Style, subscript

__all__ = ["Notation", "NSym", "BUILTIN", "builtin", "notation_for", "parse_notation",
           "NOTATION_KEYS", "ROLES"]

#: the quantities a notation names (keys of a ``notation`` section, see docs/derive.md)
ROLES = ("input", "net_input", "activation", "output", "target", "weights", "biases",
         "delta", "learning_rate", "loss", "function")
NOTATION_KEYS = ROLES + ("base", "layer_mark", "index_order", "index_base", "layer_names",
                         "name")
LAYER_MARKS = ("paren", "bracket", "plain", "letters", "numbered")
_ROLE_KEY = {"input": "x", "net_input": "z", "activation": "a", "target": "t", "weights": "W",
             "biases": "b", "delta": "delta", "learning_rate": "eta", "loss": "E",
             "function": "f", "output": "y"}

_LATEX = {"α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "η": r"\eta",
          "μ": r"\mu", "σ": r"\sigma", "φ": r"\varphi", "ŷ": r"\hat{y}", "ℰ": r"\mathcal{E}",
          "𝓛": r"\mathcal{L}", "ε": r"\varepsilon", "ω": r"\omega", "θ": r"\theta"}
_ASCII = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "η": "eta", "μ": "mu",
          "σ": "sigma", "φ": "phi", "ŷ": "yhat", "ℰ": "E", "𝓛": "L", "ε": "epsilon",
          "ω": "omega", "θ": "theta"}
_FROM_ASCII = {v: k for k, v in _ASCII.items() if k not in ("ℰ", "𝓛")}
_SUP_LETTERS = str.maketrans("HOILlhoi", "ᴴᴼᴵᴸˡʰᵒⁱ")
_SUP = str.maketrans("0123456789()[]", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁽⁾")


def latex_of(symbol: str) -> str:
    """The LaTeX of a symbol name (Greek letters and a few specials translated)."""
    if symbol in _LATEX:
        return _LATEX[symbol]
    if len(symbol) > 1 and symbol.isalpha() and symbol.isascii():
        return rf"\mathrm{{{symbol}}}"
    return symbol


def ascii_of(symbol: str) -> str:
    """A name a student can type for a symbol (``γ`` → ``gamma``)."""
    return _ASCII.get(symbol, symbol)


@dataclass
class NSym(Expr):
    """A symbol in some notation: base letter, subscript indices, optional superscript mark.

    Rendered as text (``w₁₁⁽²⁾``) or LaTeX (``w^{(2)}_{11}``) by the formula nodes' Style.
    """

    base: str
    sub: tuple[str, ...] = ()
    sup_text: str = ""
    sup_latex: str = ""
    prec = ATOM

    def render(self, st: Style) -> str:
        parts = [str(s) for s in self.sub]
        joined = ("," if any(len(p) > 1 for p in parts) else "").join(parts)
        if st.target == "latex":
            out = latex_of(self.base)
            if self.sup_latex:
                out += f"^{{{self.sup_latex}}}"
            if joined:
                out += f"_{{{joined}}}"
            return out
        if st.target == "html":
            import html

            out = html.escape(self.base)
            if joined:
                out += f"<sub>{joined}</sub>"
            if self.sup_text:
                out += f"<sup>{html.escape(self.sup_text)}</sup>"
            return out
        out = self.base
        if joined:
            sub = subscript(joined)
            out += sub if all(c in "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ," for c in sub) \
                else f"_{joined}"
        if self.sup_text:
            out += self.sup_text
        return out


@dataclass(frozen=True)
class Notation:
    """One convention for the symbols of a derivation (see the module docstring).

    Symbols: ``x`` input, ``z`` net input, ``a`` activation, ``y`` the output
    layer's activation ("" = ``a`` of layer L), ``t`` target, ``W`` weights,
    ``b`` biases, ``delta`` δ = ∂E/∂z, ``eta`` learning rate, ``E`` loss, ``f``
    activation function. ``layer_mark``: ``paren`` w⁽²⁾, ``bracket`` w^[2],
    ``plain`` w², ``letters`` (one letter per layer as a superscript, or one
    symbol per layer, from ``layer_names``), ``numbered`` (seed 004: units and
    weights numbered through the whole network). ``index_order``:
    ``to_from`` (w_kj from unit j to unit k) or ``from_to`` (seed 002's W_ij
    from input i to hidden j). ``index_base``: 1, or 0 (seed 002).
    ``layer_names`` maps a symbol key (``a``, ``z``, ``W``, ``b``, ``sup``) to
    one name per layer 0..L, used when the network has exactly that many layers.
    """

    name: str = "glassnet"
    x: str = "x"
    z: str = "z"
    a: str = "a"
    y: str = ""
    t: str = "t"
    W: str = "w"
    b: str = "b"
    delta: str = "δ"
    eta: str = "η"
    E: str = "E"
    f: str = "f"
    layer_mark: str = "paren"
    index_order: str = "to_from"
    index_base: int = 1
    layer_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sizes: tuple[int, ...] = ()
    note: str = ""

    # ----------------------------------------------------------------- binding
    def bind(self, sizes: Sequence[int]) -> Notation:
        """This notation for a network with these layer sizes (numbered names need them)."""
        return replace(self, sizes=tuple(int(s) for s in sizes))

    @property
    def L(self) -> int:
        return len(self.sizes) - 1

    def _per_layer(self, key: str) -> tuple[str, ...] | None:
        names = self.layer_names.get(key)
        if names and self.sizes and len(names) == self.L + 1:
            return tuple(names)
        return None

    @property
    def numbered(self) -> bool:
        return self.layer_mark == "numbered" and bool(self.sizes)

    # ---------------------------------------------------------------- numbering
    def unit_number(self, layer: int, i: int) -> int:
        """Seed 004's number of unit i of layer l ≥ 1 (units counted through the network)."""
        return sum(self.sizes[1:layer]) + i

    def weight_number(self, layer: int, i: int, j: int) -> int:
        """Seed 004's number of the weight into unit i of layer l from unit j of layer l−1."""
        before = sum(self.sizes[m] * self.sizes[m - 1] for m in range(1, layer))
        return before + (i - 1) * self.sizes[layer - 1] + j

    # ------------------------------------------------------------------ symbols
    def base_symbol(self, key: str, layer: int | None = None) -> str:
        """The letter for quantity ``key`` (x z a y t W b delta eta E f) in ``layer``."""
        per = self._per_layer(key)
        if per is not None and layer is not None and per[layer]:
            return per[layer]
        return getattr(self, key)

    def _mark(self, key: str, layer: int | None) -> tuple[str, str]:
        """(text, LaTeX) of the layer superscript, or ("", "") when none is written."""
        if layer is None or (self._per_layer(key) is not None and key != "sup"):
            return "", ""
        if self.sizes and self.L == 1:
            return "", ""  # one layer: nothing to tell apart (seed 000 writes vⱼ, wⱼᵢ)
        style = self.layer_mark
        if style == "letters":
            sup = self._per_layer("sup")
            if sup is not None:
                return sup[layer].translate(_SUP_LETTERS), sup[layer]
            style = "paren"
        if style == "numbered":
            style = "paren"
        lay = str(layer)
        if style == "bracket":
            return f"^[{lay}]", f"[{lay}]"
        if style == "plain":
            return lay.translate(_SUP), lay
        return f"({lay})".translate(_SUP), f"({lay})"

    def _index(self, i: int | str) -> str:
        if isinstance(i, int):
            return str(i - 1 + self.index_base)
        return i

    def symbol(self, key: str, layer: int | None = None, idx: Sequence[int | str] = ()
               ) -> NSym:
        """The symbol of one quantity: ``symbol("W", 2, (1, 3))`` is w₁₃⁽²⁾ (or w9, γ_20, ...).

        ``key``: x (layer 0 activation), z, a (the output layer's a is ``y`` when the
        notation names it), t, W, b, delta, eta, E, f. Indices are 1-based ints
        (printed in the notation's base) or index letters ("j", "k").
        """
        L = self.L if self.sizes else None
        if key == "a" and layer == 0:
            key, layer = "x", None
            if self.a == self.x and self.layer_mark in ("paren", "bracket", "plain"):
                st, sl = self._mark("a", 0)  # seed 003: the input is x^[0]
                return NSym(self.x, tuple(self._index(i) for i in idx), st, sl)
        if key == "a" and self.y and L is not None and layer == L:
            key, layer = "y", None
        if key == "x":
            per = self._per_layer("a")
            if per is not None and per[0]:
                return NSym(per[0], tuple(self._index(i) for i in idx))
            sup = self._per_layer("sup") if self.layer_mark == "letters" else None
            if sup is not None:
                return NSym(self.a, tuple(self._index(i) for i in idx),
                            sup[0].translate(_SUP_LETTERS), sup[0])
        if self.numbered and layer is not None and all(isinstance(i, int) for i in idx):
            if key == "W" and len(idx) == 2:
                return NSym(self.W, (str(self.weight_number(layer, idx[0], idx[1])),))
            if key in ("z", "a", "b", "delta") and len(idx) == 1 and layer >= 1:
                return NSym(self.base_symbol(key), (str(self.unit_number(layer, idx[0])),))
        base = self.base_symbol(key, layer)
        ids = [self._index(i) for i in idx]
        if key == "W" and self.index_order == "from_to" and len(ids) == 2:
            ids = [ids[1], ids[0]]
        if key in ("W", "b", "z", "a", "delta") and layer is not None:
            st, sl = self._mark(key, layer)
        else:
            st, sl = "", ""
        return NSym(base, tuple(ids), st, sl)

    def W_sym(self, layer: int, i: int | str, j: int | str) -> NSym:
        return self.symbol("W", layer, (i, j))

    # -------------------------------------------------------------- plain names
    def display_name(self, canonical: str) -> str:
        """The name a student types for a canonical quantity: ``W_2_1_1`` → ``w7`` (seed 004).

        Unknown names are returned unchanged.
        """
        parsed = _parse_canonical(canonical)
        if parsed is None:
            return canonical
        kind, layer, idx = parsed
        prefix = ""
        if kind in ("dW", "db"):
            prefix, kind = "d", kind[1:]
        if kind == "loss":
            return ascii_of(self.E) if self.E != "E" else "loss"
        sym = self.symbol(kind, layer, tuple(idx))
        text = ascii_of(sym.base)
        sub = ("," if any(len(s) > 1 for s in sym.sub) else "").join(sym.sub)
        if kind in ("t", "x") and self.sizes and (
                self.sizes[-1] if kind == "t" else self.sizes[0]) == 1:
            sub = ""  # one target: y, not y1
        if sub:
            text += sub if self.numbered else "_" + sub
        if sym.sup_latex:
            text += "^" + sym.sup_latex
        return prefix + text

    def canonical_name(self, name: str) -> str | None:
        """The canonical name (``W_2_1_1``, ``a_1_1``, ``dW_1_2_1``, ...) of a name a
        student wrote in this notation, or None when it names nothing known.

        Accepts the canonical names themselves, this notation's names (``w7``,
        ``W^[2]_11``, ``w_11^(2)``, ``gamma_10``, ``O_k^H`` with numbers), the explain
        style ``W2[1,1]``, and a gradient written ``dE/dw7``, ``∂E/∂w7`` or ``dw7``.
        """
        if not isinstance(name, str):
            return None
        text = _normalise(name)
        if not text:
            return None
        found = self._resolve(text)
        if found is not None:
            return found
        m = re.match(r"^(?:dE/d|∂E/∂|d)(.+)$", text)
        if m:
            inner = self._resolve(m.group(1))
            if inner is not None and (inner.startswith("W_") or inner.startswith("b_")):
                return "d" + inner
        return None

    def _resolve(self, text: str) -> str | None:
        canon = _parse_canonical(text)
        if canon is not None:
            return text if self._valid(*canon) else None
        if text in ("loss", ascii_of(self.E), self.E):
            return "loss"
        for parse in (self._resolve_numbered, self._resolve_layered):
            got = parse(text)
            if got is not None:
                kind, layer, idx = got
                if self._valid(kind, layer, idx):
                    return _format_canonical(kind, layer, idx)
        return None

    def _valid(self, kind: str, layer: int | None, idx: Sequence[int]) -> bool:
        if not self.sizes:
            return all(i >= 1 for i in idx) and (layer is None or layer >= 1)
        L, sizes = self.L, self.sizes
        if kind == "loss":
            return True
        if kind == "x":
            return len(idx) == 1 and 1 <= idx[0] <= sizes[0]
        if kind == "t":
            return len(idx) == 1 and 1 <= idx[0] <= sizes[-1]
        if layer is None or not 1 <= layer <= L:
            return False
        if kind in ("W", "dW"):
            return (len(idx) == 2 and 1 <= idx[0] <= sizes[layer]
                    and 1 <= idx[1] <= sizes[layer - 1])
        return len(idx) == 1 and 1 <= idx[0] <= sizes[layer]

    def _symbol_roles(self) -> dict[str, list[tuple[str, int | None]]]:
        """symbol letter (and its ASCII spelling) → [(kind, fixed layer or None)]."""
        roles: dict[str, list[tuple[str, int | None]]] = {}

        def add(sym: str, kind: str, layer: int | None) -> None:
            for s in {sym, ascii_of(sym)}:
                roles.setdefault(s, [])
                if (kind, layer) not in roles[s]:
                    roles[s].append((kind, layer))

        for key, kind in (("x", "x"), ("z", "z"), ("a", "a"), ("t", "t"), ("W", "W"),
                          ("b", "b"), ("delta", "delta")):
            per = self._per_layer(key)
            if per is not None:
                for l, s in enumerate(per):
                    if s:
                        add(s, "x" if (key == "a" and l == 0) else kind, l if l else None)
            add(getattr(self, key), kind, None)
        if self.y:
            add(self.y, "a", self.L if self.sizes else None)
        for s in ("delta", "δ", "d"):
            if s not in roles:
                add(s, "delta", None)
        return roles

    def _layer_from_mark(self, mark: str) -> int | None:
        mark = mark.strip("()[]{}")
        if mark.isdigit():
            return int(mark)
        sup = self._per_layer("sup")
        if sup is not None and mark in sup:
            return sup.index(mark)
        return None

    def _indices(self, raw: str, count: int) -> list[int] | None:
        raw = raw.strip("()[]{}")
        parts = [p for p in re.split(r"[,;\s]+", raw) if p]
        if len(parts) == 1 and count > 1 and len(parts[0]) == count and parts[0].isdigit():
            parts = list(parts[0])
        if len(parts) != count or not all(p.isdigit() for p in parts):
            return None
        return [int(p) + 1 - self.index_base for p in parts]

    def _resolve_numbered(self, text: str) -> tuple[str, int | None, list[int]] | None:
        if not self.numbered:
            return None
        m = re.match(r"^([^\W\d_]+)_?(\d+)$", text)
        if not m:
            return None
        sym, n = m.group(1), int(m.group(2))
        kinds = {(self.W, "W"), (self.b, "b"), (self.z, "z"), (self.a, "a"),
                 (self.delta, "delta"), (ascii_of(self.delta), "delta"), ("delta", "delta"),
                 (self.x, "x"), (self.t, "t")}
        for s, kind in kinds:
            if sym not in (s, ascii_of(s)):
                continue
            if kind in ("x", "t"):
                return kind, None, [n]
            if kind == "W":
                for l in range(1, self.L + 1):
                    for i in range(1, self.sizes[l] + 1):
                        for j in range(1, self.sizes[l - 1] + 1):
                            if self.weight_number(l, i, j) == n:
                                return "W", l, [i, j]
                return None
            for l in range(1, self.L + 1):
                for i in range(1, self.sizes[l] + 1):
                    if self.unit_number(l, i) == n:
                        return kind, l, [i]
            return None
        return None

    def _resolve_layered(self, text: str) -> tuple[str, int | None, list[int]] | None:
        m = re.match(r"^([^\W\d_]+)(.*)$", text)
        if not m:
            return None
        sym, rest = m.group(1), m.group(2)
        if sym in _FROM_ASCII:
            sym = _FROM_ASCII[sym] if _FROM_ASCII[sym] in self._symbol_roles() else sym
        table = self._symbol_roles()
        roles = table.get(sym)
        if not roles and sym in ("W", "w") and ("w" in table or "W" in table):
            roles = [r for r in table.get("w", []) + table.get("W", []) if r[0] == "W"]
        if not roles:
            return None
        layer_mark, idx_raw = None, None
        pattern = re.compile(r"\^(\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|[A-Za-z0-9]+)"
                             r"|_(\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|[0-9,]+)"
                             r"|(\[[0-9,\s]+\])|^([0-9]+)")
        pos = 0
        while pos < len(rest):
            mm = pattern.match(rest, pos)
            if not mm or mm.end() == pos:
                return None
            if mm.group(1) is not None:
                if layer_mark is not None:
                    return None
                layer_mark = mm.group(1)
            elif mm.group(2) is not None or mm.group(3) is not None:
                if idx_raw is not None:
                    return None
                idx_raw = mm.group(2) if mm.group(2) is not None else mm.group(3)
            else:
                if layer_mark is not None or pos != 0:
                    return None
                layer_mark = mm.group(4)
            pos = mm.end()
        layer = self._layer_from_mark(layer_mark) if layer_mark is not None else None
        if layer_mark is not None and layer is None:
            return None
        for kind, fixed in roles:
            lay = fixed if fixed is not None else layer
            if fixed is not None and layer is not None and layer != fixed:
                continue
            if kind in ("x", "t"):
                if layer_mark is not None and not (kind == "x" and lay in (0, None)):
                    continue
                idx = self._indices(idx_raw or "1", 1) if (idx_raw or self._single(kind)) \
                    else None
                if idx is not None:
                    return kind, None, idx
                continue
            if lay is None:
                if self.sizes and self.L == 1:
                    lay = 1
                else:
                    continue
            if self.sizes and not 0 <= lay <= self.L:
                continue
            if lay == 0 and kind == "a":
                kind, lay = "x", None
                idx = self._indices(idx_raw, 1) if idx_raw else None
                if idx is not None:
                    return kind, None, idx
                continue
            count = 2 if kind == "W" else 1
            if idx_raw is None:
                if count == 1 and self.sizes and self.sizes[lay] == 1:
                    return kind, lay, [1]
                continue
            idx = self._indices(idx_raw, count)
            if idx is None:
                continue
            if kind == "W" and self.index_order == "from_to":
                idx = [idx[1], idx[0]]
            return kind, lay, idx
        return None

    def _single(self, kind: str) -> bool:
        if not self.sizes:
            return False
        return (self.sizes[-1] if kind == "t" else self.sizes[0]) == 1

    # ------------------------------------------------------------------ exports
    def to_dict(self) -> dict[str, Any]:
        """The notation as a ``notation`` section would write it."""
        out = {"name": self.name, "input": self.x, "net_input": self.z,
               "activation": self.a, "output": self.y or self.a, "target": self.t,
               "weights": self.W, "biases": self.b, "delta": self.delta,
               "learning_rate": self.eta, "loss": self.E, "function": self.f,
               "layer_mark": self.layer_mark, "index_order": self.index_order,
               "index_base": self.index_base}
        if self.layer_names:
            out["layer_names"] = {k: list(v) for k, v in self.layer_names.items()}
        return out


# ------------------------------------------------------------------ canonical names
_CANON = re.compile(r"^(dW|db|W|b|z|a|delta|x|t)((?:_\d+)+)$")
_ARITY = {"dW": 3, "W": 3, "db": 2, "b": 2, "z": 2, "a": 2, "delta": 2, "x": 1, "t": 1}


def _parse_canonical(name: str) -> tuple[str, int | None, list[int]] | None:
    if name == "loss":
        return "loss", None, []
    m = _CANON.match(name)
    if not m:
        return None
    kind = m.group(1)
    nums = [int(p) for p in m.group(2).split("_")[1:]]
    if len(nums) != _ARITY[kind]:
        return None
    if kind in ("x", "t"):
        return kind, None, nums
    return kind, nums[0], nums[1:]


def _format_canonical(kind: str, layer: int | None, idx: Sequence[int]) -> str:
    parts = [kind] + ([str(layer)] if layer is not None else []) + [str(i) for i in idx]
    return "_".join(parts)


_SUB_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾", "01234567890123456789()")


def _normalise(name: str) -> str:
    """Spaces, braces and unicode sub/superscripts out: ``w₁₁⁽²⁾`` → ``w_11^(2)``."""
    s = name.strip().replace("\u2212", "-")
    s = re.sub(r"\\(mathrm|mathcal|hat)\{([^}]*)\}", r"\2", s)
    s = re.sub(r"\\(alpha|beta|gamma|delta|eta|mu|sigma|varphi|phi|partial)", lambda m: {
        "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "eta": "η", "mu": "μ",
        "sigma": "σ", "varphi": "φ", "phi": "φ", "partial": "∂"}[m.group(1)], s)
    out = []
    mode = ""
    for ch in s:
        if ch in "₀₁₂₃₄₅₆₇₈₉":
            if mode != "sub":
                out.append("_")
                mode = "sub"
            out.append(ch.translate(_SUB_DIGITS))
        elif ch in "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾":
            if mode != "sup":
                out.append("^")
                mode = "sup"
            out.append(ch.translate(_SUB_DIGITS))
        elif ch in "ᴴᴼᴵᴸ":
            out.append("^" + {"ᴴ": "H", "ᴼ": "O", "ᴵ": "I", "ᴸ": "L"}[ch])
            mode = ""
        else:
            mode = ""
            out.append(ch)
    s = "".join(out)
    s = s.replace("{", "").replace("}", "").replace(" ", "")
    return s


# ------------------------------------------------------------------------ built-ins
BUILTIN: dict[str, Notation] = {
    "glassnet": Notation(
        "glassnet", note="glassnet's own: z⁽ˡ⁾, a⁽ˡ⁾, w_ij⁽ˡ⁾ from unit j to unit i, t, η, E"),
    "deeplearning.ai": Notation(
        "deeplearning.ai", W="W", t="y", E="𝓛", eta="α", layer_mark="bracket",
        note="Andrew Ng's deeplearning.ai courses: z^[l], a^[l], W^[l], b^[l], target y, "
             "learning rate α, loss 𝓛"),
    "nielsen": Notation(
        "nielsen", t="y", E="C", f="σ", layer_mark="plain",
        note="Nielsen, Neural Networks and Deep Learning: z^l_j, a^l_j, w^l_jk (to j from k), "
             "b^l_j, δ^l_j, target y, cost C"),
    "bishop": Notation(
        "bishop", z="a", a="z", y="y", f="h",
        note="Bishop, Pattern Recognition and Machine Learning: net input a_j, unit output "
             "z_j = h(a_j), network output y_k, target t_k, weights w_ji⁽ˡ⁾"),
    "haykin": Notation(
        "haykin", z="v", a="y", t="d", E="ℰ", f="φ",
        note="Haykin, Neural Networks and Learning Machines (and seed 000): induced local "
             "field v_j, output y_j = φ(v_j), desired response d_j, weights w_ji"),
    "seed000": Notation(
        "seed000", z="v", a="y", t="d", E="𝓛", f="φ", eta="μ",
        note="seed 000: v_j = Σ_i w_ji x_i + b_j, y_j = φ(v_j), desired output d, loss 𝓛, "
             "learning rate μ"),
    "seed001": Notation(
        "seed001", x="O", z="x", a="O", t="t", E="E", f="sig", layer_mark="letters",
        layer_names={"sup": ("I", "H", "O")},
        note="seed 001: x_k^L the input of neuron k of layer L, O_k^L = sig(x_k^L) its output "
             "(L ∈ {I, H, O}), w_ji^L the weight of neuron j from incoming neuron i"),
    "seed002": Notation(
        "seed002", z="z", a="a", t="l", E="CE", eta="α", f="σ", index_order="from_to",
        index_base=0, layer_mark="letters",
        layer_names={"a": ("I", "H", "O"), "z": ("", "h", "X"), "W": ("", "W", "γ"),
                     "b": ("", "b", "β")},
        note="seed 002: inputs I_i, hidden H_j = σ(Σ_i I_i W_ij), output net X_k = Σ_j H_j "
             "γ_jk, output O_k, targets l_k, from-to indices counted from 0"),
    "seed003": Notation(
        "seed003", a="x", t="z", layer_mark="bracket",
        note="seed 003: z^[l] = w^[l] x^[l−1] + b^[l], x^[l] = f(z^[l]) (x^[0] the input), "
             "target z, learning rate η"),
    "seed004": Notation(
        "seed004", t="y", eta="α", f="σ", layer_mark="numbered",
        note="seed 004: units numbered through the network (z1…z4, a1…a4), weights w1…w9 and "
             "biases b1…b4 numbered in order, target y, learning rate α"),
}
_ALIASES = {"dlai": "deeplearning.ai", "ng": "deeplearning.ai", "andrew-ng": "deeplearning.ai",
            "numbered": "seed004", "default": "glassnet", "canonical": "glassnet",
            "ceng499": "seed002", "prml": "bishop"}


def builtin(name: str) -> Notation:
    """A built-in notation by name (``glassnet``, ``deeplearning.ai``, ``nielsen``,
    ``bishop``, ``haykin``, ``seed000`` … ``seed004``, ``numbered``)."""
    from ..errors import unknown_name

    key = _ALIASES.get(str(name).lower(), str(name).lower()) if isinstance(name, str) else name
    if key not in BUILTIN:
        raise unknown_name("notation", name, BUILTIN)
    return BUILTIN[key]


def _symbol_text(value: Any, path: str, source: str) -> str:
    from ..exercise.loader import ExerciseError

    if not isinstance(value, str) or not value.strip() or len(value) > 12 or any(
            c in value for c in " _^{}()[],*/+-=\\"):
        raise ExerciseError(source, path, f"expected a symbol (one to 12 letters, e.g. w or γ), "
                                          f"got {value!r}")
    return value.strip()


def parse_notation(value: Any, source: str = "") -> Notation:
    """Validate an exercise's ``notation`` section into a :class:`Notation`.

    Keys (all optional): ``base`` (a built-in to start from), the symbols
    ``input``, ``net_input``, ``activation``, ``output``, ``target``,
    ``weights``, ``biases``, ``delta``, ``learning_rate``, ``loss``,
    ``function``; ``layer_mark`` (paren, bracket, plain, letters, numbered),
    ``index_order`` (to_from, from_to), ``index_base`` (0 or 1),
    ``layer_names`` (symbol key → one name per layer, input first), ``name``.
    ``weights`` (and ``net_input``, ``activation``, ``biases``) may also be a
    list with one symbol per layer, input first (seed 002's ``["", W, γ]``).

    >>> parse_notation({"base": "seed004", "target": "t"}).t
    't'
    """
    from ..exercise.loader import ExerciseError

    path = "notation"
    if isinstance(value, str):
        try:
            return builtin(value)
        except GlassnetError as exc:
            raise ExerciseError(source, path, str(exc)) from None
    if not isinstance(value, Mapping):
        raise ExerciseError(source, path, "expected a built-in notation name or a mapping "
                                          f"with keys {', '.join(NOTATION_KEYS)}")
    for key in value:
        if key not in NOTATION_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), NOTATION_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExerciseError(source, f"{path}.{key}", f"unknown key{hint}; notation allows: "
                                                         f"{', '.join(NOTATION_KEYS)}")
    base = builtin("glassnet")
    if "base" in value:
        try:
            base = builtin(value["base"])
        except GlassnetError as exc:
            raise ExerciseError(source, f"{path}.base", str(exc)) from None
    changes: dict[str, Any] = {"name": str(value.get("name", f"{base.name}, adapted"))}
    layer_names = {k: tuple(v) for k, v in base.layer_names.items()}
    for role, key in _ROLE_KEY.items():
        if role not in value:
            continue
        v = value[role]
        if isinstance(v, (list, tuple)) and key in ("x", "z", "a", "W", "b", "delta"):
            names = tuple("" if s in (None, "") else _symbol_text(s, f"{path}.{role}[{i}]",
                                                                  source)
                          for i, s in enumerate(v))
            layer_names[{"x": "a"}.get(key, key)] = names
            first = next((s for s in names if s), None)
            if first:
                changes[key] = first
            continue
        changes[key] = _symbol_text(v, f"{path}.{role}", source)
    if "layer_mark" in value:
        if value["layer_mark"] not in LAYER_MARKS:
            raise ExerciseError(source, f"{path}.layer_mark",
                                f"expected one of {', '.join(LAYER_MARKS)}, got "
                                f"{value['layer_mark']!r}")
        changes["layer_mark"] = value["layer_mark"]
    if "index_order" in value:
        if value["index_order"] not in ("to_from", "from_to"):
            raise ExerciseError(source, f"{path}.index_order",
                                f"expected to_from (w_ji from unit i to unit j) or from_to, got "
                                f"{value['index_order']!r}")
        changes["index_order"] = value["index_order"]
    if "index_base" in value:
        if value["index_base"] not in (0, 1) or isinstance(value["index_base"], bool):
            raise ExerciseError(source, f"{path}.index_base",
                                f"expected 0 or 1, got {value['index_base']!r}")
        changes["index_base"] = int(value["index_base"])
    if "layer_names" in value:
        ln = value["layer_names"]
        if not isinstance(ln, Mapping):
            raise ExerciseError(source, f"{path}.layer_names", "expected a mapping from a symbol "
                                                              "key (a, z, W, b, sup) to a list")
        for k, v in ln.items():
            if k not in ("a", "z", "W", "b", "delta", "sup") or not isinstance(v, (list, tuple)):
                raise ExerciseError(source, f"{path}.layer_names.{k}",
                                    "expected a key a, z, W, b, delta or sup with a list of "
                                    "names, one per layer (input first)")
            layer_names[k] = tuple("" if s in (None, "") else
                                   _symbol_text(s, f"{path}.layer_names.{k}[{i}]", source)
                                   for i, s in enumerate(v))
    changes["layer_names"] = layer_names
    if "output" in value and value["output"] in (changes.get("a"), base.a):
        changes["y"] = ""
    return replace(base, **changes)


def notation_for(exercise: Any = None, name: str | None = None) -> Notation:
    """The notation to write ``exercise`` in, bound to its layer sizes.

    ``name`` (``--notation``) picks a built-in and wins; otherwise the
    exercise's own ``notation`` section; otherwise glassnet's default.
    ``exercise`` may be an :class:`~glassnet.exercise.Exercise`, a
    :class:`~glassnet.derive.spec.NetSpec`, or None.
    """
    if name is not None:
        notation = builtin(name)
    else:
        notation = getattr(exercise, "notation", None)
        if isinstance(notation, (str, Mapping)):
            notation = parse_notation(notation, getattr(exercise, "source", ""))
        if notation is None:
            notation = builtin("glassnet")
    sizes = getattr(exercise, "layers", None) or getattr(exercise, "sizes", None)
    return notation.bind(sizes) if sizes else notation
