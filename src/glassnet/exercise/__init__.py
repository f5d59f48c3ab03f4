"""Exercises: worked solutions (``glassnet explain``) and answer checking (``glassnet check``).

An exercise file (YAML or JSON, see ``docs/explain.md``) describes a small
network, its samples, loss and learning rate. :func:`load_exercise` validates
it; :func:`solve` lets the engine train it and keeps its trace; the
:class:`Solution` renders as text, Markdown + LaTeX, JSON, SVG or HTML, shows
the chain rule for one weight, and checks hand-computed answers.

>>> import glassnet.exercise as gx
>>> sol = gx.solve(gx.parse_exercise({
...     "network": {"layers": [2, 1], "activation": "sigmoid", "weights": [[[0.5, -0.3]]],
...                 "biases": 0.1},
...     "loss": "binary_cross_entropy", "learning_rate": 0.5, "mode": "sgd",
...     "samples": [{"x": [1, 2], "t": [1]}]}))
>>> sol.final_W[0].tolist(), sol.final_b[0].tolist()
([[0.75, 0.2]], [0.35])
"""

from .loader import Answer, Exercise, ExerciseError, load_exercise, parse_exercise
from .solution import QueryResult, Solution, explain, solve

__all__ = ["Answer", "Exercise", "ExerciseError", "load_exercise", "parse_exercise",
           "QueryResult", "Solution", "explain", "solve"]
