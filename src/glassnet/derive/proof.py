"""The proof: every formula checked against SymPy's own differentiation of the loss.

How (and why it is fast enough to run on every ``glassnet derive``):

1. **Lemmas, once per activation** (cached): from the definitions,
   σ(z) = 1/(1 + e^(−z)) has σ' = σ(1 − σ); tanh(z) = (e^z − e^(−z))/(e^z + e^(−z))
   has tanh' = 1 − tanh²; softmax_k = e^(z_k)/Σ_m e^(z_m) has
   ∂softmax_k/∂z_j = softmax_k(1[k=j] − softmax_j); ReLU and leaky ReLU have
   slope 1 for z > 0 and 0 (α) for z < 0. SymPy differentiates each
   definition, and the difference to the stated derivative reduces to 0
   after writing every e^(…) as a fresh variable (a rational function that
   is zero is zero).
2. **The network** (a concrete instance: symbols x_i, W_l_i_j, b_l_i, t_k):
   z and a of every unit are built as SymPy expressions of the inputs and
   parameters, with each activation an opaque function whose derivative is
   the lemma just proved (ReLU as step(z)·z, with step'(z) = 0 off z = 0). E is
   the loss of the output. SymPy's ``diff`` computes ∂E/∂p for every
   parameter p by its own chain rule: no δ, no backpropagation.
3. **The comparison**: the formula (the very string printed, parsed by
   ``sympify``) with every ``a_l_i``, ``z_l_i`` replaced by its forward
   definition, minus SymPy's ∂E/∂p; every activation value is then a fresh
   variable, and the difference is a rational function whose numerator
   must expand to 0. That is a proof for all inputs, parameters and
   targets (for ReLU, for every z ≠ 0), not a numerical test.

>>> from glassnet.derive.spec import spec_from_options
>>> s = spec_from_options("2,1", "sigmoid", "half_sse")
>>> prove(s, {"W_1_1_1": "(a_1_1 - t_1)*a_1_1*(1 - a_1_1)*x_1",
...           "W_1_1_2": "(a_1_1 - t_1)*a_1_1*x_2"})
{'W_1_1_1': True, 'W_1_1_2': False}
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from .spec import NetSpec

__all__ = ["prove", "lemmas", "Instance", "instance", "equivalent", "LEMMA_TEXT"]

#: what each lemma states, for the derivation's verification step
LEMMA_TEXT = {
    "sigmoid": "σ(z) = 1/(1 + e^(−z)) ⇒ σ'(z) = σ(z)(1 − σ(z))",
    "tanh": "tanh(z) = (e^z − e^(−z))/(e^z + e^(−z)) ⇒ tanh'(z) = 1 − tanh²(z)",
    "softmax": "softmaxₖ(z) = e^(zₖ)/Σₘ e^(zₘ) ⇒ ∂softmaxₖ/∂zⱼ = softmaxₖ(1[k=j] − softmaxⱼ)",
    "relu": "relu(z) = max(0, z) ⇒ relu'(z) = 1 for z > 0, 0 for z < 0",
    "leaky_relu": "f(z) = z (z > 0), αz (z < 0) ⇒ f'(z) = 1 for z > 0, α for z < 0",
    "linear": "f(z) = z ⇒ f'(z) = 1",
}


@functools.lru_cache(maxsize=1)
def _functions() -> dict[str, Any]:
    """SymPy and the opaque activation functions (built on first use: SymPy is heavy)."""
    import sympy as sp

    class sig(sp.Function):  # noqa: N801 - SymPy functions are lower-case by convention
        """σ, opaque; its derivative is the sigmoid lemma."""

        def fdiff(self, argindex: int = 1) -> Any:
            return sig(self.args[0]) * (1 - sig(self.args[0]))

    class step(sp.Function):  # noqa: N801
        """step(z) = 1 for z > 0, else 0: constant off z = 0, so its derivative is 0."""

        def fdiff(self, argindex: int = 1) -> Any:
            return sp.S.Zero

    class smax(sp.Function):  # noqa: N801
        """smax(k, z_1, …, z_K): the k-th softmax output; derivative from the softmax lemma."""

        def fdiff(self, argindex: int = 1) -> Any:
            if argindex == 1:
                return sp.S.Zero
            k, zs = int(self.args[0]), self.args[1:]
            j = argindex - 1
            return self * ((1 if k == j else 0) - smax(j, *zs))

    return {"sp": sp, "sig": sig, "step": step, "smax": smax}


@functools.cache
def lemmas(name: str, alpha: float = 0.01) -> bool:
    """Prove the derivative of activation ``name`` from its definition (True when proved)."""
    fns = _functions()
    sp = fns["sp"]
    z, u = sp.symbols("z u", real=True)
    if name == "sigmoid":
        s = 1 / (1 + sp.exp(-z))
        diff = sp.diff(s, z) - s * (1 - s)
        return _is_zero(sp, diff.subs(sp.exp(-z), u))
    if name == "tanh":
        th = (sp.exp(z) - sp.exp(-z)) / (sp.exp(z) + sp.exp(-z))
        same = _is_zero(sp, (sp.tanh(z).rewrite(sp.exp) - th).subs(sp.exp(z), u))
        diff = sp.diff(th, z) - (1 - th ** 2)
        return same and _is_zero(sp, diff.subs(sp.exp(z), u))
    if name == "softmax":
        zs = sp.symbols("z1:4", real=True)
        us = sp.symbols("u1:4", positive=True)
        den = sum(sp.exp(v) for v in zs)
        s = [sp.exp(v) / den for v in zs]
        ok = True
        for k in range(3):
            for j in range(3):
                d = sp.diff(s[k], zs[j]) - s[k] * ((1 if k == j else 0) - s[j])
                d = d.subs({sp.exp(v): w for v, w in zip(zs, us, strict=True)})
                ok = ok and _is_zero(sp, d)
        return ok
    if name in ("relu", "leaky_relu"):
        a = sp.Rational(str(alpha)) if name == "leaky_relu" else sp.S.Zero
        zp, zn = sp.Symbol("zp", positive=True), sp.Symbol("zn", negative=True)
        f = sp.Lambda(z, sp.Piecewise((z, z > 0), (a * z, True)))
        return sp.diff(f(zp), zp) == 1 and sp.diff(f(zn), zn) == a
    if name == "linear":
        return sp.diff(z, z) == 1
    return False


#: networks up to this many parameters (and one hidden layer) are proved by rewriting; larger
#: ones by the exact identity test at random points (see :func:`_is_zero`), 4x faster there
SYMBOLIC_LIMIT = 40
#: random points for the identity test; each misses a nonzero numerator of degree d with
#: probability at most d / 2**61
TRIALS = 2


def _is_zero(sp: Any, expr: Any, extra: Mapping[Any, Any] | None = None,
             method: str = "auto") -> bool:
    """True when ``expr`` is identically 0 once every function value (σ(…), tanh(…), step(…),
    softmax(…), e^…) is an independent variable: then it is a rational function R.

    ``method="symbolic"`` brings R over one denominator and expands the numerator (a proof
    by rewriting); ``"random"`` evaluates R exactly (rational arithmetic, no rounding) at
    random integer points of [1, 2⁶¹], the Schwartz–Zippel identity test: a nonzero R of
    degree d vanishes at a random point with probability at most d/2⁶¹, so two points
    leave less than (d/2⁶¹)² ≈ 10⁻³⁴ for the degrees here, while an R that is zero always
    passes. ``"auto"`` is ``"symbolic"``.
    """
    atoms = {f: sp.Dummy() for f in expr.atoms(sp.Function)}
    r = expr.xreplace(atoms) if atoms else expr
    if extra:
        r = r.xreplace(extra)
    if method == "auto":
        method = "symbolic"
    if method == "symbolic":
        num, _ = sp.fraction(sp.together(r))
        return sp.expand(num) == 0
    import numpy as np

    symbols = sorted(r.free_symbols, key=lambda s: s.sort_key())
    rng = np.random.default_rng(20261203)
    passed = tries = 0
    while passed < TRIALS:
        tries += 1
        if tries > 20:
            return False  # every point hit a pole: not decidable this way, so not verified
        point = {s: sp.Integer(int(v)) for s, v in
                 zip(symbols, rng.integers(1, 2 ** 61, size=len(symbols)), strict=True)}
        value = r.xreplace(point)
        if value.has(sp.zoo, sp.nan) or not value.is_number:
            continue
        if value != 0:
            return False
        passed += 1
    return True


def method_for(spec: NetSpec) -> str:
    """``symbolic`` for small networks, ``random`` (exact identity test) for larger ones."""
    return "symbolic" if spec.n_parameters <= SYMBOLIC_LIMIT and spec.L <= 2 else "random"


class Instance:
    """A concrete network as SymPy expressions: symbols, forward definitions, the loss E."""

    def __init__(self, spec: NetSpec):
        fns = _functions()
        sp = self.sp = fns["sp"]
        self.spec = spec
        sizes, L = spec.sizes, spec.L
        self.symbols: dict[str, Any] = {}

        def sym(name: str) -> Any:
            s = self.symbols.get(name)
            if s is None:
                s = self.symbols[name] = sp.Symbol(name, real=True)
            return s

        self.forward: dict[Any, Any] = {}  # z_l_i, a_l_i symbol -> definition
        prev = [sym(f"x_{j}") for j in range(1, sizes[0] + 1)]
        for l in range(1, L + 1):
            act = spec.activations[l - 1]
            Z = []
            for i in range(1, sizes[l] + 1):
                zi = sum((sym(f"W_{l}_{i}_{j}") * prev[j - 1] for j in range(1, sizes[l - 1] + 1)),
                         sp.S.Zero)
                if spec.has_biases:
                    zi = zi + sym(f"b_{l}_{i}")
                Z.append(zi)
            A = []
            for i, zi in enumerate(Z, start=1):
                if act == "sigmoid":
                    ai = fns["sig"](zi)
                elif act == "tanh":
                    ai = sp.tanh(zi)
                elif act == "relu":
                    ai = fns["step"](zi) * zi
                elif act == "leaky_relu":
                    alpha = sp.Rational(str(spec.alpha(l)))
                    s = fns["step"](zi)
                    ai = (s + alpha * (1 - s)) * zi
                elif act == "linear":
                    ai = zi
                else:  # softmax
                    ai = fns["smax"](i, *Z)
                A.append(ai)
                self.forward[sym(f"z_{l}_{i}")] = zi
                self.forward[sym(f"a_{l}_{i}")] = ai
            prev = A
        t = [sym(f"t_{k}") for k in range(1, sizes[-1] + 1)]
        K = sizes[-1]
        loss = spec.loss
        if loss == "half_sse":
            E = sp.Rational(1, 2) * sum((a - tk) ** 2 for a, tk in zip(prev, t, strict=True))
        elif loss == "sse":
            E = sum((a - tk) ** 2 for a, tk in zip(prev, t, strict=True))
        elif loss == "mse":
            E = sum((a - tk) ** 2 for a, tk in zip(prev, t, strict=True)) / K
        elif loss == "cross_entropy":
            E = -sum(tk * sp.log(a) for a, tk in zip(prev, t, strict=True))
        else:  # binary_cross_entropy
            E = -sum(tk * sp.log(a) + (1 - tk) * sp.log(1 - a)
                     for a, tk in zip(prev, t, strict=True))
        self.E = E
        self.targets = t
        self.method = method_for(spec)
        self._derivatives: dict[str, Any] = {}
        self.locals = dict(self.symbols)
        self.locals.update({"step": fns["step"], "exp": sp.exp, "log": sp.log,
                            "tanh": sp.tanh, "sigma": fns["sig"]})

    def derivative(self, param: str) -> Any:
        """SymPy's ∂E/∂param (cached)."""
        d = self._derivatives.get(param)
        if d is None:
            d = self._derivatives[param] = self.sp.diff(self.E, self.symbols[param])
        return d

    def parse(self, text: str) -> Any:
        """A canonical-names expression as SymPy, with the forward definitions substituted."""
        from sympy.parsing.sympy_parser import parse_expr

        expr = parse_expr(text, local_dict=self.locals, global_dict=_GLOBALS(), evaluate=True)
        expr = self.sp.nsimplify(expr, rational=True) if expr.has(self.sp.Float) else expr
        return expr.xreplace(self.forward)

    def sum_to_one(self) -> dict[Any, Any]:
        """t_K = 1 − Σ_{k<K} t_k: the substitution that encodes Σₖ tₖ = 1."""
        t = self.targets
        return {t[-1]: 1 - sum(t[:-1], self.sp.S.Zero)}

    def equals_derivative(self, param: str, text: str, targets_sum_to_one: bool = False
                          ) -> bool:
        """True when ``text`` is proved equal to ∂E/∂param."""
        diff = self.parse(text) - self.derivative(param)
        return _is_zero(self.sp, diff, self.sum_to_one() if targets_sum_to_one else None,
                        self.method)


@functools.lru_cache(maxsize=1)
def _GLOBALS() -> dict[str, Any]:  # noqa: N802
    """The names parse_expr may use beyond the instance's own: SymPy's numbers and classes."""
    g: dict[str, Any] = {}
    exec("from sympy import *", g)  # noqa: S102 - SymPy's documented global_dict for parse_expr
    return g


@functools.lru_cache(maxsize=32)
def instance(spec_key: tuple) -> Instance:
    """The (cached) :class:`Instance` of a network given as ``NetSpec`` fields."""
    sizes, acts, loss, biases, mode, alphas = spec_key
    return Instance(NetSpec(list(sizes), list(acts), loss, biases, mode, list(alphas)))


def spec_key(spec: NetSpec) -> tuple:
    return (tuple(spec.sizes), tuple(spec.activations), spec.loss, spec.biases, spec.mode,
            tuple(spec.alphas))


def prove(spec: NetSpec, expressions: Mapping[str, str], targets_sum_to_one: bool = False
          ) -> dict[str, bool]:
    """Prove each ``parameter -> expression`` equal to ∂E/∂parameter (True) or not (False).

    The activations' lemmas are proved first; a lemma that fails makes every
    formula unverified (it would be a bug in SymPy or here, never hidden).
    """
    lemmas_ok = all(lemmas(act, spec.alpha(l)) for l, act in enumerate(spec.activations, 1))
    inst = instance(spec_key(spec))
    out = {}
    for param, text in expressions.items():
        try:
            ok = lemmas_ok and inst.equals_derivative(param, text, targets_sum_to_one)
        except Exception:  # noqa: BLE001 - a formula SymPy cannot read is not verified
            ok = False
        out[param] = bool(ok)
    return out


def equivalent(spec: NetSpec, a: Any, b: Any, targets_sum_to_one: bool = False) -> bool:
    """True when two SymPy expressions (forward definitions substituted) are identical."""
    inst = instance(spec_key(spec))
    return _is_zero(inst.sp, a - b, inst.sum_to_one() if targets_sum_to_one else None,
                    inst.method)
