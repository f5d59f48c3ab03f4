"""The scoring policy of ``glassnet grade``: points per verdict, weights per quantity.

A policy file (YAML or JSON) may set any of::

    points:              # points for one quantity, by verdict (default below)
      ok: 1
      carried: 1         # right from the student's own wrong earlier answer
      rounding: 1        # off only by the rounding of the student's earlier answers
      wrong: 0
      unanswered: 0      # asked but left null or out
    weights:             # weight of a quantity, by name or shell pattern; first match wins
      loss: 2
      "W_*": 1
      "dW_*": 0.5
    default_weight: 1    # the weight of a name no pattern matches
    ask: [loss, W, b]    # score only these kinds (default: the variant's ask, else all)
    scale: 100           # score of a perfect submission
    decimals: 1          # the score is rounded to this many decimals

The score of a submission is ``scale × Σ w·points(verdict) / Σ w·max(points)``,
both sums over the *asked* quantities: the policy's ``ask``, else the
variant's ``ask`` list (written by ``glassnet generate``), else, for an
exercise without one, every quantity ``generate`` asks by default (``loss z a
delta dW db W b`` of every update; ``z a delta`` only when an update has one
sample, ``db b`` only when the biases are updated). An asked quantity left
out counts as ``unanswered`` (0 points by default), so a sheet answering one
value of a plain exercise does not score 100. A value answered that was not
asked is checked and counted but does not change the score.

>>> p = Policy.from_dict({"points": {"rounding": 0.5}, "weights": {"loss": 2}})
>>> p.points["rounding"], p.weight("loss"), p.weight("W_1_1_1")
(0.5, 2.0, 1.0)
>>> p.score({"loss": "ok", "W_1_1_1": "rounding", "b_1_1": "unanswered"})
62.5
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import GlassnetError

__all__ = ["Policy", "PolicyError", "load_policy", "DEFAULT_POINTS", "VERDICTS"]

VERDICTS = ("ok", "carried", "rounding", "wrong", "unanswered")
DEFAULT_POINTS = {"ok": 1.0, "carried": 1.0, "rounding": 1.0, "wrong": 0.0, "unanswered": 0.0}
POLICY_KEYS = ("points", "weights", "default_weight", "ask", "scale", "decimals")
ASK_KINDS = ("loss", "z", "a", "delta", "dW", "db", "W", "b")


class PolicyError(GlassnetError):
    """A problem with a policy file: ``FILE: key: what was expected``."""


@dataclass
class Policy:
    """Points per verdict, weights per quantity (exact name or pattern), scale, rounding."""

    points: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    weights: list[tuple[str, float]] = field(default_factory=list)
    default_weight: float = 1.0
    ask: list[str] | None = None
    scale: float = 100.0
    decimals: int = 1

    @classmethod
    def from_dict(cls, data: Any, source: str = "") -> Policy:
        where = f"{source}: " if source else ""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise PolicyError(f"{where}expected a mapping with some of {', '.join(POLICY_KEYS)}")
        for key in data:
            if key not in POLICY_KEYS:
                raise PolicyError(f"{where}{key}: unknown key; a policy allows "
                                  f"{', '.join(POLICY_KEYS)}")
        points = dict(DEFAULT_POINTS)
        raw_points = data.get("points") or {}
        if not isinstance(raw_points, Mapping):
            raise PolicyError(f"{where}points: expected a mapping verdict -> points")
        for verdict, value in raw_points.items():
            if verdict not in VERDICTS:
                raise PolicyError(f"{where}points.{verdict}: unknown verdict; expected "
                                  f"{', '.join(VERDICTS)}")
            points[verdict] = _number(value, f"{where}points.{verdict}")
        if max(points.values()) <= 0:
            raise PolicyError(f"{where}points: at least one verdict must earn points > 0")
        weights: list[tuple[str, float]] = []
        raw_weights = data.get("weights") or {}
        if not isinstance(raw_weights, Mapping):
            raise PolicyError(f"{where}weights: expected a mapping name-or-pattern -> weight")
        for pattern, value in raw_weights.items():
            if not isinstance(pattern, str) or not pattern:
                raise PolicyError(f"{where}weights: expected names or patterns such as W_*")
            weights.append((pattern, _number(value, f"{where}weights.{pattern}")))
        default_weight = _number(data.get("default_weight", 1.0), f"{where}default_weight")
        ask = data.get("ask")
        if ask is not None:
            if not isinstance(ask, list) or not all(a in ASK_KINDS for a in ask):
                raise PolicyError(f"{where}ask: expected a list of {', '.join(ASK_KINDS)}")
        scale = _number(data.get("scale", 100.0), f"{where}scale")
        if scale <= 0:
            raise PolicyError(f"{where}scale: expected a positive number, got {scale:g}")
        decimals = data.get("decimals", 1)
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
            raise PolicyError(f"{where}decimals: expected an integer 0..6, got {decimals!r}")
        return cls(points=points, weights=weights, default_weight=default_weight, ask=ask,
                   scale=scale, decimals=decimals)

    def weight(self, name: str) -> float:
        """The weight of one quantity: an exact name first, then the first matching pattern."""
        for pattern, w in self.weights:
            if pattern == name:
                return float(w)
        for pattern, w in self.weights:
            if fnmatch.fnmatchcase(name, pattern):
                return float(w)
        return float(self.default_weight)

    def score(self, verdicts: Mapping[str, str]) -> float | None:
        """The score for ``{name: verdict}`` over the asked names (None when nothing weighs)."""
        best = max(self.points.values())
        total = sum(self.weight(n) * best for n in verdicts)
        if total <= 0:
            return None
        got = sum(self.weight(n) * self.points.get(v, 0.0) for n, v in verdicts.items())
        return round(self.scale * got / total, self.decimals) + 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"points": dict(self.points), "weights": dict(self.weights),
                "default_weight": self.default_weight, "ask": self.ask, "scale": self.scale,
                "decimals": self.decimals}


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(float(value)) or float(value) < 0:
        raise PolicyError(f"{where}: expected a number >= 0, got {value!r}")
    return float(value)


def load_policy(path: str | os.PathLike[str] | None) -> Policy:
    """The policy in ``path`` (YAML or JSON), or the default policy when ``path`` is None."""
    if path is None:
        return Policy()
    from ..exercise.loader import read_document

    source = os.fspath(path)
    return Policy.from_dict(read_document(source, "policy file"), source=source)
