"""Evaluate a canonical expression at float values, without ``eval``.

The ``expression`` strings of ``glassnet.derive/1`` are valid Python; this
reads them with :mod:`ast` and allows only numbers, names, ``+ - * / **``,
unary minus and the calls ``exp``, ``log``, ``tanh``, ``step``, so a
derivation can show each formula's value at the exercise's numbers.

>>> evaluate("(a_2_1 - t_1)*a_2_1*(1 - a_2_1)*a_1_1", {"a_2_1": 0.5, "t_1": 1.0, "a_1_1": 2.0})
-0.25
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping

from ..errors import GlassnetError

__all__ = ["evaluate", "FUNCTIONS"]

FUNCTIONS = {"exp": math.exp, "log": math.log, "tanh": math.tanh,
             "step": lambda v: 1.0 if v > 0 else 0.0}
_BIN = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
        ast.Pow: lambda a, b: a ** b}


def evaluate(expression: str, values: Mapping[str, float]) -> float:
    """The value of ``expression`` with its names bound to ``values``."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise GlassnetError(f"not an expression: {expression[:60]!r}") from None
    return float(_eval(tree.body, values))


def _eval(node: ast.AST, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise GlassnetError(f"no value for {node.id}")
        return float(values[node.id])
    if isinstance(node, ast.BinOp) and type(node.op) in _BIN:
        return _BIN[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _eval(node.operand, values)
        return -v if isinstance(node.op, ast.USub) else v
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS and len(node.args) == 1 and not node.keywords):
        return FUNCTIONS[node.func.id](_eval(node.args[0], values))
    raise GlassnetError(f"unsupported element in an expression: {ast.dump(node)[:60]}")
