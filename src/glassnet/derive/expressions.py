"""The per-sample gradient of every parameter as one expression in canonical names.

These are the strings of the ``expression`` field of ``glassnet.derive/1``
(derive-format.md): ∂E/∂(parameter) for one sample, fully expanded, in the
sample's forward quantities (``x_i``, ``z_l_i``, ``a_l_i``, ``t_k``) and the
parameters before the update (``W_l_i_j``, ``b_l_i``), with the functions
``exp``, ``log``, ``tanh`` and ``step``. They are written by the
backpropagation recursion itself, read as a formula:

* output layer: δ_k = ∂E/∂a_k · f'(z_k), or the full softmax Jacobian sum
  Σ_m ∂E/∂a_m · a_m(1[m=k] − a_k), or the cancelled canonical forms;
* hidden layer: δ_j = f'(z_j) · Σ_k W_kj δ_k (δ_k written out, never named);
* ∂E/∂W_ij = δ_i a_j (x_j for the first layer), ∂E/∂b_i = δ_i.

Nothing here proves anything: :mod:`glassnet.derive.proof` checks each
string against SymPy's own differentiation of the loss.

>>> from glassnet.derive.spec import spec_from_options
>>> g = Gradients(spec_from_options("2,2,1", "tanh,linear", "sse"))
>>> g.gradient("W_1_1_2")
'(1 - a_1_1**2)*(W_2_1_1*2*(a_2_1 - t_1))*x_2'
"""

from __future__ import annotations

from ..errors import GlassnetError
from .spec import NetSpec

__all__ = ["Gradients", "prod", "MAX_EXPRESSION_CHARS"]

#: a single expression longer than this is not a formula anyone reads (or SymPy proves fast)
MAX_EXPRESSION_CHARS = 200_000


def _top_level_sum(s: str) -> bool:
    """True when ``s`` has a + or − outside parentheses (after its first character)."""
    depth = 0
    for k, ch in enumerate(s):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and k > 0 and ch in "+-" and s[k - 1] == " ":
            return True
    return False


def _factor(s: str) -> str:
    if s.startswith("-") or _top_level_sum(s):
        return f"({s})"
    return s


def prod(*factors: str | None) -> str:
    """Factors joined by ``*``; ``None`` and ``1`` dropped; a sum or a negative term parenthesised.

    >>> prod("(a_2_1 - t_1)", "a_2_1*(1 - a_2_1)", None, "a_1_1")
    '(a_2_1 - t_1)*a_2_1*(1 - a_2_1)*a_1_1'
    """
    kept = [f for f in factors if f is not None and f != "1"]
    if not kept:
        return "1"
    return "*".join(_factor(f) for f in kept)


def _num(x: float) -> str:
    return repr(float(x)).rstrip("0").rstrip(".") if "e" not in repr(float(x)) else repr(x)


class Gradients:
    """The canonical expressions of one network (memoised: δ of a unit is written once).

    ``textbook=True`` writes the softmax + cross-entropy output δ as ``a_L_k - t_k``
    (valid when Σₖ tₖ = 1); the default is the exact ``a_L_k*(t_1 + … + t_K) - t_k``
    that the engine computes for any targets.
    """

    def __init__(self, spec: NetSpec, textbook: bool = False):
        self.spec = spec
        self.textbook = textbook
        self._delta: dict[tuple[int, int], str] = {}

    # ------------------------------------------------------------------ factors
    def a(self, layer: int, i: int) -> str:
        """The activation of unit i of layer ``layer`` (x_i for layer 0)."""
        return f"x_{i}" if layer == 0 else f"a_{layer}_{i}"

    def fprime(self, layer: int, i: int) -> str | None:
        """f'(z) of unit i of ``layer`` in the textbook form (None when it is 1)."""
        act = self.spec.activations[layer - 1]
        a, z = f"a_{layer}_{i}", f"z_{layer}_{i}"
        if act == "sigmoid":
            return f"{a}*(1 - {a})"
        if act == "tanh":
            return f"(1 - {a}**2)"
        if act == "relu":
            return f"step({z})"
        if act == "leaky_relu":
            return f"(step({z}) + {_num(self.spec.alpha(layer))}*(1 - step({z})))"
        if act == "linear":
            return None
        raise GlassnetError(f"no element-wise derivative for {act}")

    def dE_da(self, k: int) -> str:
        """∂E/∂a_k of the output layer, for one sample."""
        L, K = self.spec.L, self.spec.sizes[-1]
        a, t = f"a_{L}_{k}", f"t_{k}"
        loss = self.spec.loss
        if loss == "half_sse":
            return f"({a} - {t})"
        if loss == "sse":
            return f"2*({a} - {t})"
        if loss == "mse":
            return f"2*({a} - {t})/{K}"
        if loss == "cross_entropy":
            return f"(-{t}/{a})"
        if loss == "binary_cross_entropy":
            return f"({a} - {t})/({a}*(1 - {a}))"
        raise GlassnetError(f"no derivative for loss {loss}")

    def softmax_jacobian(self, m: int, k: int) -> str:
        """∂a_m/∂z_k of a softmax output: a_m(1 − a_k) for m = k, −a_m a_k otherwise."""
        L = self.spec.L
        if m == k:
            return f"a_{L}_{k}*(1 - a_{L}_{k})"
        return f"(-a_{L}_{m}*a_{L}_{k})"

    @property
    def canonical_pair(self) -> str | None:
        """"softmax+cross_entropy" or "sigmoid+binary_cross_entropy" when δ = a − t, else None."""
        out, loss = self.spec.activations[-1], self.spec.loss
        if out == "softmax" and loss == "cross_entropy":
            return "softmax+cross_entropy"
        if out == "sigmoid" and loss == "binary_cross_entropy":
            return "sigmoid+binary_cross_entropy"
        if out == "sigmoid" and loss == "cross_entropy":
            return "sigmoid+cross_entropy"
        return None

    # ------------------------------------------------------------------- deltas
    def output_delta(self, k: int) -> str:
        L, K = self.spec.L, self.spec.sizes[-1]
        pair = self.canonical_pair
        if pair == "sigmoid+binary_cross_entropy":
            return f"(a_{L}_{k} - t_{k})"
        if pair == "sigmoid+cross_entropy":
            return f"t_{k}*(a_{L}_{k} - 1)"
        if pair == "softmax+cross_entropy":
            if self.textbook:
                return f"(a_{L}_{k} - t_{k})"
            total = " + ".join(f"t_{m}" for m in range(1, K + 1))
            total = f"({total})" if K > 1 else total
            return f"(a_{L}_{k}*{total} - t_{k})"
        if self.spec.activations[-1] == "softmax":
            terms = [prod(self.dE_da(m), self.softmax_jacobian(m, k)) for m in range(1, K + 1)]
            return terms[0] if K == 1 else "(" + " + ".join(terms) + ")"
        return prod(self.dE_da(k), self.fprime(L, k))

    def delta(self, layer: int, i: int) -> str:
        """δ = ∂E/∂z of unit i of ``layer``, written out down to the output (no δ names)."""
        key = (layer, i)
        if key in self._delta:
            return self._delta[key]
        L = self.spec.L
        if layer == L:
            out = self.output_delta(i)
        else:
            terms = [prod(f"W_{layer + 1}_{k}_{i}", self.delta(layer + 1, k))
                     for k in range(1, self.spec.sizes[layer + 1] + 1)]
            out = prod(self.fprime(layer, i), "(" + " + ".join(terms) + ")")
        if len(out) > MAX_EXPRESSION_CHARS:
            raise GlassnetError(
                f"the expanded formula for δ of unit {i} of layer {layer} would be longer than "
                f"{MAX_EXPRESSION_CHARS:,} characters: this network is too wide and deep to "
                f"write every parameter's gradient out in full (use --format text or markdown "
                f"for the derivation in index form)")
        self._delta[key] = out
        return out

    def gradient(self, param: str) -> str:
        """∂E/∂param for one sample: ``W_l_i_j`` → δ_i a_j, ``b_l_i`` → δ_i."""
        parts = param.split("_")
        try:
            nums = [int(p) for p in parts[1:]]
        except ValueError:
            nums = []
        if parts[0] == "W" and len(nums) == 3:
            l, i, j = nums
            self._check(l, i, j)
            return prod(self.delta(l, i), self.a(l - 1, j))
        if parts[0] == "b" and len(nums) == 2 and self.spec.has_biases:
            l, i = nums
            self._check(l, i)
            return self.delta(l, i)
        raise GlassnetError(f"unknown parameter {param!r}: expected W_l_i_j or b_l_i of this "
                            f"network (layers 1..{self.spec.L}, units from 1)")

    def _check(self, l: int, i: int, j: int | None = None) -> None:
        sizes = self.spec.sizes
        if not 1 <= l <= self.spec.L or not 1 <= i <= sizes[l] or (
                j is not None and not 1 <= j <= sizes[l - 1]):
            raise GlassnetError(f"no such parameter in a {'-'.join(map(str, sizes))} network: "
                                f"layer {l}, unit {i}" + (f", input {j}" if j else ""))

    def all(self) -> dict[str, str]:
        """Every parameter's expression, in :meth:`NetSpec.parameters` order."""
        return {p: self.gradient(p) for p in self.spec.parameters()}
