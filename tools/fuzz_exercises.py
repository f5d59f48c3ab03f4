"""Mutation fuzzer for exercise files: glassnet must answer, or refuse in one line, never crash.

Starts from the example exercises (``examples/exercises/*.yaml``), mutates them (text-level:
characters, lines, hostile tokens such as ``1e308``, ``0e9``, 5000-digit integers, ANSI
escapes, YAML anchors; structure-level: a random node replaced by junk, keys deleted or
invented, lists grown or cut, the document written back as YAML or JSON), and drives the
command line in-process (``glassnet.cli.main``): ``explain`` in a random format (sometimes
with ``--weight`` / ``--update`` / ``--decimals``), ``check``, ``derive`` when it is
registered, and ``gradcheck`` with mutated options. An input passes when the command
returns 0, 1 or 2 (2 with exactly one ``glassnet: error:`` line); anything that escapes
``main`` (a traceback), or a run longer than ``--hang`` seconds, is a failure: its input is
saved to ``--out`` and summarised by exception type and the innermost glassnet frame.

Usage (from the repository root)::

    .venv/bin/python tools/fuzz_exercises.py --seconds 600 --seed 1 --out /tmp/fuzz

It prints the number of inputs and of failures (by kind) and exits 1 if there was any.
The test suite runs it for a few seconds (tests/test_exercise_fuzz.py).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import glob
import io
import json
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: text that has broken parsers and validators before
TOKENS = [
    "1e308", "-1e308", "1e999", ".nan", ".inf", "-.inf", "0e9", "\"0e9\"", "1" * 5000,
    "9" * 30, "-0", "0x1F", "1_000", "0.0000000000000000000001", "true", "false", "null",
    "~", "[]", "{}", "[[]]", "{a: 1}", "&a [1, 2]", "*a", "!!python/object:os.system",
    "!!binary aGVsbG8=", "\x1b[2J", "\u202e", "\x00", "\t", "'", "\"", ":", "- ", "? ",
    "|", ">", "#", "%YAML 1.1", "---", "...", "softmax", "relu", "sigmoid", "cross_entropy",
    "binary_cross_entropy", "batch_mean", "{init: uniform, limit: 1e308}",
    "{name: leaky_relu, alpha: [1, 2]}", "{name: {a: 1}}", "W_1_1_1", "1024", "10000",
    "[1024, 1024, 1024]", "100000", "-1", "2147483648", "\"1.0000065\"", "\"−0.25\"",
]
JUNK: list[Any] = [
    None, True, False, 0, -1, 1, 2, 3, 10**30, -(10**30), 1e308, -1e308, float("inf"),
    float("nan"), 1e-320, 0.5, "", "x", "0e9", "1e308", "relu", "softmax", "none",
    "\x1b[31m", [], [1], [[1, 2]], [None], {}, {"a": 1}, {"init": "normal", "std": 1e308},
    {"name": {"a": 1}}, {"name": "leaky_relu", "alpha": [1]}, list(range(50)),
    "9" * 5000, 10**5000 if hasattr(sys, "set_int_max_str_digits") else 10**30,
]
FORMATS = ["text", "markdown", "json", "html", "svg"]


def seeds() -> list[tuple[str, str]]:
    """(name, text) of every example exercise."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "exercises", "*.yaml"))):
        with open(path, encoding="utf-8") as fh:
            out.append((os.path.basename(path), fh.read()))
    return out


# ------------------------------------------------------------------------ mutations
def mutate_text(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        if not text:
            text = rng.choice(TOKENS)
            continue
        pos = rng.randrange(len(text) + 1)
        if kind == 0:    # insert a hostile token
            text = text[:pos] + rng.choice(TOKENS) + text[pos:]
        elif kind == 1:  # delete a span
            text = text[:pos] + text[pos + rng.randint(1, 20):]
        elif kind == 2:  # replace a number-like run by a token
            end = pos
            while end < len(text) and (text[end].isdigit() or text[end] in ".-e"):
                end += 1
            text = text[:pos] + rng.choice(TOKENS) + text[end:]
        elif kind == 3:  # duplicate or drop a line
            lines = text.split("\n")
            i = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(i, lines[i])
            else:
                del lines[i]
            text = "\n".join(lines)
        elif kind == 4:  # swap two lines
            lines = text.split("\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == 5:  # a random character
            text = text[:pos] + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 32),
                                                rng.randrange(128, 0x3000)])) + text[pos:]
        else:            # change an indentation
            text = text[:pos] + " " * rng.randint(1, 4) + text[pos:]
    return text


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            out += _paths(v, prefix + (i,))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def mutate_structure(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(_paths(doc))
        kind = rng.randrange(5)
        if kind == 0 and target:
            _get(doc, target[:-1])[target[-1]] = copy.deepcopy(rng.choice(JUNK))
        elif kind == 1 and target:
            parent = _get(doc, target[:-1])
            del parent[target[-1]]
        elif kind == 2:
            node = _get(doc, target)
            if isinstance(node, dict):
                node[rng.choice(["answers", "query", "epochs", "x", "t", "biases", "notation",
                                 "variant", "typo", "update_biases", "z", "W", "updates"])] = \
                    copy.deepcopy(rng.choice(JUNK))
        elif kind == 3:
            node = _get(doc, target)
            if isinstance(node, list):
                if node and rng.random() < 0.5:
                    node.pop(rng.randrange(len(node)))
                else:
                    node.append(copy.deepcopy(node[0]) if node else 0)
        else:  # scale a number
            node = _get(doc, target) if target else None
            if target and isinstance(node, (int, float)) and not isinstance(node, bool):
                _get(doc, target[:-1])[target[-1]] = node * rng.choice([-1, 0, 10, 1e3, 1e300])
    return doc


def make_input(rng: random.Random, corpus: list[tuple[str, str]]) -> tuple[str, str]:
    """(file name, text) of one mutated exercise."""
    import yaml

    name, text = rng.choice(corpus)
    r = rng.random()
    if r < 0.5:
        return "ex.yaml", mutate_text(text, rng)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return "ex.yaml", mutate_text(text, rng)
    doc = mutate_structure(doc, rng)
    if r < 0.75:
        try:
            return "ex.json", json.dumps(doc, allow_nan=True)
        except (TypeError, ValueError):
            return "ex.json", mutate_text(text, rng)
    try:
        out = yaml.safe_dump(doc, allow_unicode=True)
    except (yaml.YAMLError, ValueError, TypeError):
        out = text
    return "ex.yaml", mutate_text(out, rng) if rng.random() < 0.3 else out


def command_lines(path: str, rng: random.Random, commands: dict[str, str]) -> list[list[str]]:
    """The command lines one input is run with."""
    explain = ["explain", path, "--format", rng.choice(FORMATS)]
    r = rng.random()
    if r < 0.15:
        explain = ["explain", path, "--weight", rng.choice(
            ["W1[1,1]", "b1[1]", "W2[1,1]", "W_1_1_1", "W1[" + "9" * 5000 + ",1]", "W0[1,1]",
             "b9[1]", "W1[1]", "x"])]
    elif r < 0.25:
        explain += ["--decimals", rng.choice(["0", "3", "17", "18", "-1"])]
    elif r < 0.3:
        explain = ["explain", path, "--format", "svg", "--update",
                   rng.choice(["1", "2", "0", "99999999999999999999"])]
    runs = [explain, ["check", path] + (["--format", "json"] if rng.random() < 0.3 else [])]
    if "derive" in commands and rng.random() < 0.25:  # SymPy: ~20x slower than explain
        runs.append(["derive", path])
    return runs


def gradcheck_argv(rng: random.Random) -> list[str]:
    options = {
        "--layers": ["4,5,3", "3,0,2", "9" * 30, "1" * 5000, "2," * 200 + "2", "", "a,b",
                     "3,4,2", "1,1", "-3,2"],
        "--activation": ["tanh", "sigmoid,softmax", "sigmod", "relu,relu,relu", "softmax"],
        "--loss": ["half_sse", "cross_entropy", "binary_cross_entropy", "hinge", ""],
        "--samples": ["1", "0", "-5", "10000000000", "1" * 5000, "x"],
        "--seed": ["0", "-1", "9" * 40, "x"],
        "--tol": ["1e-6", "nan", "-1", "inf", "x"],
        "--checks": ["0", "5", "-1", "9" * 40],
        "--reduction": ["sum", "mean", "max"],
    }
    argv = ["gradcheck"]
    for opt, values in options.items():
        if rng.random() < 0.4:
            argv += [opt, rng.choice(values)]
    if rng.random() < 0.2:
        argv.append("--no-biases")
    return argv


# ------------------------------------------------------------------------------ runs
class Hang(Exception):
    """A single run took longer than the hang limit."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def run_cli(argv: list[str], hang: float, codes: collections.Counter | None = None
            ) -> tuple[str, str] | None:
    """Run one command in-process; None if it behaved, else (kind, detail).

    ``codes`` counts the exit statuses (how many inputs got past validation).
    """
    from glassnet.cli import main

    out, err = io.StringIO(), io.StringIO()
    use_alarm = hang > 0 and hasattr(signal, "setitimer")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, hang)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except Hang:
        return "hang", f"{argv[0]}: longer than {hang:g} s"
    except SystemExit as exc:  # argparse: usage errors exit 2
        code = exc.code if isinstance(exc.code, int) else 2
        if codes is not None:
            codes[f"{argv[0]} {code}"] += 1
        if code != 2 and code != 0:
            return "exit", f"SystemExit({exc.code!r})"
        return None
    except BaseException as exc:  # noqa: BLE001 - anything escaping main is the finding
        if isinstance(exc, KeyboardInterrupt):
            raise
        tb = traceback.extract_tb(exc.__traceback__)
        inner = [f for f in tb if "glassnet" in f.filename] or tb
        where = f"{os.path.relpath(inner[-1].filename, ROOT)}:{inner[-1].lineno}" if inner \
            else "?"
        return "traceback", f"{type(exc).__name__} at {where}: {str(exc)[:120]}"
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
    if codes is not None:
        codes[f"{argv[0]} {code}"] += 1
    if code not in (0, 1, 2):
        return "exit", f"exit status {code}"
    if code == 2:
        lines = err.getvalue().splitlines()
        if not lines or not lines[-1].startswith(("glassnet: error:", "usage:")) and \
                not any(line.startswith("glassnet: error:") for line in lines):
            return "message", f"exit 2 without an error line: {err.getvalue()[:120]!r}"
        if "Traceback" in err.getvalue():
            return "message", "traceback text on stderr"
    return None


def fuzz(seconds: float, seed: int = 0, out_dir: str | None = None, hang: float = 60.0,
         max_inputs: int | None = None, log: Any = None) -> dict[str, Any]:
    """Fuzz for ``seconds`` (or ``max_inputs`` inputs); return the counts and findings."""
    from glassnet.cli import COMMANDS

    rng = random.Random(seed)
    corpus = seeds()
    findings: collections.Counter[str] = collections.Counter()
    codes: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}
    n_inputs = n_runs = 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() - start < seconds and (max_inputs is None
                                                      or n_inputs < max_inputs):
            if rng.random() < 0.1:
                name, runs = "argv", [gradcheck_argv(rng)]
                text = " ".join(runs[0])
            else:
                name, text = make_input(rng, corpus)
                path = os.path.join(tmp, name)
                with open(path, "w", encoding="utf-8", errors="surrogatepass") as fh:
                    fh.write(text)
                runs = command_lines(path, rng, COMMANDS)
            n_inputs += 1
            for argv in runs:
                n_runs += 1
                problem = run_cli(argv, hang, codes)
                if problem is None:
                    continue
                kind, detail = problem
                key = f"{kind}: {detail}"
                findings[key] += 1
                if key not in examples:
                    examples[key] = text
                    if out_dir:
                        os.makedirs(out_dir, exist_ok=True)
                        stem = os.path.join(out_dir, f"finding{len(examples):03d}")
                        with open(stem + os.path.splitext(name)[1] if name != "argv"
                                  else stem + ".argv", "w", encoding="utf-8",
                                  errors="surrogatepass") as fh:
                            fh.write(text)
                        with open(stem + ".txt", "w", encoding="utf-8") as fh:
                            fh.write(f"{' '.join(a[:80] for a in argv)}\n{key}\n")
                if log:
                    print(f"[{n_inputs}] {key}", file=log, flush=True)
    return {"inputs": n_inputs, "runs": n_runs, "failures": sum(findings.values()),
            "findings": dict(findings), "examples": examples, "exit_statuses": dict(codes),
            "seconds": round(time.monotonic() - start, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    p.add_argument("--seed", type=int, default=0, help="seed of the mutations (default 0)")
    p.add_argument("--out", default=None, help="folder for the inputs that failed")
    p.add_argument("--hang", type=float, default=60.0,
                   help="seconds after which one run counts as a hang (default 60)")
    p.add_argument("--memory-mb", type=int, default=2048,
                   help="address-space limit of this process in MiB (default 2048; 0: none)")
    args = p.parse_args(argv)
    if args.memory_mb:
        import resource

        limit = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.path.insert(0, os.path.join(ROOT, "src"))
    result = fuzz(args.seconds, args.seed, args.out, args.hang, log=sys.stderr)
    print(f"inputs: {result['inputs']}  command runs: {result['runs']}  "
          f"failures: {result['failures']}  ({result['seconds']} s, seed {args.seed})")
    print("  exit statuses: " + ", ".join(f"{k}: {v}" for k, v in
                                           sorted(result["exit_statuses"].items())))
    for key, count in sorted(result["findings"].items(), key=lambda kv: -kv[1]):
        print(f"  {count:6d}  {key}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
