"""Simulated students for `glassnet grade`: hand calculations with rounding and classic slips.

A simulated student works a one-sample SGD exercise (squared error, sigmoid /
tanh / ReLU / linear layers) the way a student does by hand: every
intermediate is rounded to ``decimals`` decimals before it is used again,
and a ``mistake`` may be made on the way. This is deliberately *not*
glassnet's engine: it is an independent calculation (a dozen lines of NumPy)
that the grader must judge correctly.

Students:

- ``exact``: full precision (the engine's own numbers from ``glassnet explain --format json``);
- ``rounding``: an honest hand calculation with every intermediate rounded to 3 decimals;
- ``sign``: the update goes the wrong way (w + η ∂E/∂w);
- ``missing_fprime``: the output δ without f'(z) (everything after it follows through);
- ``lazy``: only the loss and the forward pass, the rest left blank;
- ``malformed``: a file that is not valid YAML; ``empty``: an empty file.

Run it to make a class folder from variants written by ``glassnet generate``::

    python examples/teaching/simulate_class.py CLASS_DIR SUBMISSIONS_DIR [--mix cycle|exact]
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import yaml

KINDS = ("exact", "rounding", "sign", "missing_fprime", "lazy", "malformed", "empty")


def _f(act: str, z: np.ndarray) -> np.ndarray:
    return {"sigmoid": lambda: 1 / (1 + np.exp(-z)), "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(z, 0.0), "linear": lambda: z}[act]()


def _fprime(act: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return {"sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a * a,
            "relu": lambda: (z > 0).astype(float), "linear": lambda: np.ones_like(z)}[act]()


def hand_solution(exercise: dict, decimals: int | None = 3, mistake: str | None = None) -> dict:
    """Every canonical name's value for a one-sample SGD half_sse exercise, by hand.

    ``decimals``: round every intermediate (None: full precision). ``mistake``: None,
    "sign" or "missing_fprime".
    """
    def r(v):
        return np.round(v, decimals) if decimals is not None else v

    net = exercise["network"]
    L = len(net["layers"]) - 1
    acts = net["activation"] if isinstance(net["activation"], list) else [net["activation"]] * L
    W = [np.array(w, dtype=float) for w in net["weights"]]
    b = [np.array(v, dtype=float) for v in net["biases"]]
    x = np.array(exercise["samples"][0]["x"], dtype=float)
    t = np.array(exercise["samples"][0]["t"], dtype=float)
    lr = float(exercise["learning_rate"])
    zs, as_ = [], [x]
    for l in range(L):
        z = r(W[l] @ as_[-1] + b[l])
        zs.append(z)
        as_.append(r(_f(acts[l], z)))
    y = as_[-1]
    E = r(0.5 * np.sum((y - t) ** 2))
    deltas = [None] * L
    fp = _fprime(acts[-1], zs[-1], y)
    deltas[-1] = r((y - t) if mistake == "missing_fprime" else (y - t) * fp)
    for l in range(L - 2, -1, -1):
        deltas[l] = r((W[l + 1].T @ deltas[l + 1]) * _fprime(acts[l], zs[l], as_[l + 1]))
    step = -lr if mistake == "sign" else lr
    out = {"loss": float(E)}
    for l in range(L):
        dW = r(np.outer(deltas[l], as_[l]))
        db = r(deltas[l])
        W_new, b_new = r(W[l] - step * dW), r(b[l] - step * db)
        for i in range(len(zs[l])):
            out[f"z_{l + 1}_{i + 1}"] = float(zs[l][i])
            out[f"a_{l + 1}_{i + 1}"] = float(as_[l + 1][i])
            out[f"delta_{l + 1}_{i + 1}"] = float(deltas[l][i])
            out[f"db_{l + 1}_{i + 1}"] = float(db[i])
            out[f"b_{l + 1}_{i + 1}"] = float(b_new[i])
            for j in range(len(as_[l])):
                out[f"dW_{l + 1}_{i + 1}_{j + 1}"] = float(dW[i, j])
                out[f"W_{l + 1}_{i + 1}_{j + 1}"] = float(W_new[i, j])
    return out


def submission(kind: str, exercise: dict, asked: list[str], student: str, variant: str,
               exact: dict | None = None) -> str:
    """The text of one simulated student's answer file."""
    if kind == "empty":
        return ""
    if kind == "malformed":
        return f"student: {student}\nanswers:\n  values: {{loss: 0.1, W_1_1_1: [oops\n"
    if kind == "exact":
        values = {n: f"{exact[n]:.10g}" for n in asked}
    elif kind == "lazy":
        hand = hand_solution(exercise, 3)
        values = {n: (f"{hand[n]:.3f}" if n == "loss" or n[0] in "za" else None) for n in asked}
    else:
        mistake = None if kind == "rounding" else kind
        hand = hand_solution(exercise, 3, mistake)
        values = {n: f"{hand[n]:.3f}" for n in asked}
    doc = {"student": student, "variant": variant, "answers": {"values": values}}
    return yaml.safe_dump(doc, sort_keys=False)


def exact_values(exercise_path: str, asked: list[str]) -> dict:
    """The engine's numbers, read from ``glassnet explain --format json`` (what a key holds)."""
    from glassnet.exercise import explain

    doc = json.loads(explain(exercise_path).to_json())  # what `explain --format json` prints
    up = doc["updates"][0]
    return {n: _json_value(up, n) for n in asked}


def _json_value(up: dict, name: str) -> float:
    """One canonical name's value in one update of the glassnet.explain/1 JSON."""
    if name == "loss":
        return up["loss"]
    kind, *idx = name.split("_")
    l, i = int(idx[0]) - 1, int(idx[1]) - 1
    if kind in ("z", "a"):
        return up["forward"][l][kind][0][i]
    if kind == "delta":
        return up["deltas"][l][0][i]
    if kind in ("dW", "W"):
        return up["grad_W" if kind == "dW" else "W"][l][i][int(idx[2]) - 1]
    return up["grad_b" if kind == "db" else "b"][l][i]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="simulated answer files for a generated class")
    p.add_argument("class_dir", help="a folder written by glassnet generate")
    p.add_argument("out", help="folder for the answer files")
    p.add_argument("--mix", choices=("cycle", "exact"), default="cycle",
                   help="cycle through every kind of student, or exact only")
    args = p.parse_args(argv)
    with open(os.path.join(args.class_dir, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    os.makedirs(args.out, exist_ok=True)
    for n, v in enumerate(manifest["variants"]):
        path = os.path.join(args.class_dir, v["exercise"])
        with open(path, encoding="utf-8") as fh:
            exercise = yaml.safe_load(fh)
        from glassnet.grading.generate import asked_names

        asked = asked_names(exercise["network"]["layers"], exercise["variant"]["ask"])
        kind = KINDS[n % len(KINDS)] if args.mix == "cycle" else "exact"
        exact = exact_values(path, asked) if kind == "exact" else None
        student = v["student"] or v["id"]
        with open(os.path.join(args.out, f"{student}.yaml"), "w", encoding="utf-8") as fh:
            fh.write(submission(kind, exercise, asked, student, v["id"], exact))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
