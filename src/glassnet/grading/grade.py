"""``glassnet grade``: check a whole class's answer files, score them, write a gradebook.

The checking is ``glassnet check`` version 2 (:func:`glassnet.grading.check_answers`,
with its verdicts ok / carried / rounding / wrong and its mistake catalogue);
this module only collects the files, matches each one to its exercise
(variant), scores the verdicts under a :class:`~glassnet.grading.policy.Policy`,
and summarises the class. A file that cannot be read or is malformed
becomes a row with ``error`` filled and no score; it never stops the batch.

Rows come in file-name order. Columns: ``student`` (the file's ``student``
key, else the file name without its extension), ``file``, ``variant``,
``ok``, ``carried``, ``rounding``, ``wrong``, ``unanswered``, ``score``,
``mistakes`` (catalogue ids with counts, e.g. ``sign:2 missing_fprime:1``),
``error``.

>>> from collections import Counter
>>> rows = [GradeRow("ann", "ann.yaml", "v01", {"ok": 38, "rounding": 1}, 100.0),
...         GradeRow("cai", "cai.yaml", "v02", {"ok": 26, "wrong": 13}, 66.7,
...                  Counter(sign=13), ["W_1_1_1"]),
...         GradeRow("gus", "gus.yaml", error="gus.yaml: the file is empty")]
>>> s = class_summary(rows)
>>> s["graded"], s["errors"], s["mean_score"], s["mistakes"][0]
(2, 1, 83.35, {'id': 'sign', 'count': 13, 'students': 1})
>>> print(gradebook_csv(rows[2:]), end="")
student,file,variant,ok,carried,rounding,wrong,unanswered,score,mistakes,error
gus,gus.yaml,,,,,,,,,gus.yaml: the file is empty
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import GlassnetError
from .policy import Policy

__all__ = ["GradeError", "GradeRow", "ExerciseSet", "collect_submissions", "grade_files",
           "default_ask",
           "class_summary", "summary_text", "gradebook_csv", "gradebook_json",
           "grade_command", "COLUMNS"]

COLUMNS = ("student", "file", "variant", "ok", "carried", "rounding", "wrong", "unanswered",
           "score", "mistakes", "error")
ANSWER_EXTENSIONS = (".yaml", ".yml", ".json")
VERDICT_COUNTS = ("ok", "carried", "rounding", "wrong", "unanswered")


class GradeError(GlassnetError):
    """A problem that stops ``glassnet grade`` before any grading (bad exercise, bad --out)."""


@dataclass
class GradeRow:
    """One submission file's line of the gradebook."""

    student: str
    file: str
    variant: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    score: float | None = None
    mistakes: Counter[str] = field(default_factory=Counter)
    wrong_names: list[str] = field(default_factory=list)
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"student": self.student, "file": self.file,
                               "variant": self.variant}
        for k in VERDICT_COUNTS:
            out[k] = self.counts.get(k) if not self.error else None
        out["score"] = self.score
        out["mistakes"] = dict(sorted(self.mistakes.items(), key=lambda kv: (-kv[1], kv[0])))
        out["wrong"] = out["wrong"]
        out["wrong_names"] = list(self.wrong_names)
        out["error"] = self.error or None
        return out


# ----------------------------------------------------------------------------- exercises
class ExerciseSet:
    """The exercise (one file) or the generated variants (a folder) to grade against.

    A folder is read through its ``manifest.json`` (written by ``glassnet
    generate``), else its ``exercises/`` subfolder, else its own YAML/JSON
    files; every exercise in it must record its ``variant`` (an ``id``, and a
    ``student`` when generated per student).
    """

    def __init__(self, path: str):
        from ..exercise import load_exercise

        self.path = path
        self.by_id: dict[str, Any] = {}
        self.by_student: dict[str, Any] = {}
        self.single: Any = None
        self.broken: dict[str, str] = {}
        self._solved: dict[int, Any] = {}
        if not os.path.isdir(path):
            self.single = load_exercise(path)
            return
        entries = _variant_files(path)
        if not entries:
            raise GradeError(f"{path}: no exercise files in this folder (expected "
                             f"manifest.json, exercises/, or *.yaml files from "
                             f"'glassnet generate')")
        #: variant id (or file) -> why its exercise could not be read: the answer files for
        #: that variant get the message as their row's error; the others are graded
        self.broken: dict[str, str] = {}
        for f, listed_id in entries:
            try:
                ex = load_exercise(f)
            except (GlassnetError, OSError, UnicodeError, RecursionError) as exc:
                msg = _one_line(exc if isinstance(exc, GlassnetError) else
                                f"{f}: cannot read ({exc})")
                if not os.path.exists(f):
                    msg = f"{f}: no such file (the exercise of this variant)"
                self.broken[str(listed_id or f)] = msg
                continue
            variant = ex.raw.get("variant") or {}
            vid = variant.get("id")
            if not vid:
                raise GradeError(f"{f}: no variant id (a folder holds variants written by "
                                 f"'glassnet generate'; give a single exercise file instead)")
            if vid in self.by_id:
                raise GradeError(f"{f}: variant id {vid!r} appears twice in {path}")
            self.by_id[str(vid)] = ex
            if variant.get("student"):
                self.by_student[str(variant["student"])] = ex
        if not self.by_id:
            first = next(iter(self.broken.values()))
            raise GradeError(f"{path}: no variant's exercise could be read ({first})")

    def solution(self, exercise: Any) -> Any:
        """The engine's solution of one exercise, solved once for the whole class."""
        from ..exercise import solve

        key = id(exercise)
        if key not in self._solved:
            self._solved[key] = solve(exercise)
        return self._solved[key]

    def __len__(self) -> int:
        return 1 if self.single is not None else len(self.by_id)

    def find(self, variant: str | None, student: str | None, stem: str) -> tuple[Any, str]:
        """The exercise for one answer file: by its variant, else its student, else its name."""
        if self.single is not None:
            own = (self.single.raw.get("variant") or {}).get("id")
            if variant and own and str(own) != str(variant):
                raise GradeError(f"the answers are for variant {variant!r}, but the exercise "
                                 f"is variant {own!r}")
            return self.single, str(own or "")
        if variant:
            if str(variant) in self.by_id:
                return self.by_id[str(variant)], str(variant)
            if str(variant) in self.broken:
                raise GradeError(f"variant {variant!r}: {self.broken[str(variant)]}")
            raise GradeError(f"no variant {variant!r} in {self.path}")
        for key in (student, stem):
            if key and str(key) in self.by_student:
                ex = self.by_student[str(key)]
                return ex, str(ex.raw["variant"]["id"])
            if key and str(key) in self.by_id:
                return self.by_id[str(key)], str(key)
            if key and str(key) in self.broken:
                raise GradeError(f"variant {key!r}: {self.broken[str(key)]}")
        raise GradeError(f"the file names no variant ('variant: ID') and no student of "
                         f"{self.path}")


def _variant_files(folder: str) -> list[tuple[str, str | None]]:
    """(exercise file, variant id from the manifest or None) for every variant of a folder."""
    import json

    manifest = os.path.join(folder, "manifest.json")
    if os.path.isfile(manifest):
        try:
            with open(manifest, encoding="utf-8") as fh:
                data = json.load(fh)
            return [(os.path.join(folder, v["exercise"]), v.get("id")) for v in data["variants"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise GradeError(f"{manifest}: not a manifest written by 'glassnet generate' "
                             f"({type(exc).__name__})") from None
    sub = os.path.join(folder, "exercises")
    if os.path.isdir(sub):
        folder = sub
    return sorted((os.path.join(folder, f), None) for f in os.listdir(folder)
                  if f.lower().endswith(ANSWER_EXTENSIONS) and not f.startswith("."))


# ---------------------------------------------------------------------------- submissions
def collect_submissions(paths: Sequence[str]) -> list[str]:
    """Every answer file named or inside a named folder (YAML/JSON, not hidden), sorted."""
    files: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                files.extend(os.path.join(root, n) for n in names
                             if n.lower().endswith(ANSWER_EXTENSIONS) and not n.startswith("."))
        else:  # a missing file still gets its row (with the error): it never stops the batch
            files.append(p)
    unique = sorted(set(files), key=lambda f: (os.path.basename(f), f))
    if not unique:
        raise GradeError(f"no answer files (.yaml, .yml, .json) in {', '.join(paths)}")
    return unique


def _asked(ex: Any, policy: Policy) -> list[str]:
    """The canonical names the score counts: the policy's ``ask``, else the variant's ``ask``
    list (written by ``glassnet generate``), else every quantity of the exercise that
    ``generate`` would ask for by default (:func:`default_ask`)."""
    from .generate import asked_names

    kinds = policy.ask
    if kinds is None:
        kinds = (ex.raw.get("variant") or {}).get("ask")
    if not kinds:
        kinds = default_ask(ex)
    return asked_names(ex.layers, kinds)


def default_ask(ex: Any) -> list[str]:
    """The kinds asked of a plain exercise (no ``ask`` list): every one that applies, as
    ``glassnet generate`` asks by default: ``z``, ``a``, ``delta`` only when an update has one
    sample, ``db`` and ``b`` only when the biases are updated.

    >>> from glassnet.exercise import parse_exercise
    >>> default_ask(parse_exercise({"network": {"layers": [2, 1], "activation": "sigmoid",
    ...     "weights": [[[0.5, -0.25]]], "biases": "none"}, "loss": "half_sse",
    ...     "learning_rate": 0.1,
    ...     "mode": "batch", "samples": [{"x": [1, 0], "t": [1]}, {"x": [0, 1], "t": [0]}]}))
    ['loss', 'dW', 'W']
    """
    from .generate import _ask

    return _ask(None, "", ex.samples_per_update,
                ex.biases is not None and bool(ex.update_biases))


def _verdict_key(v: Any) -> str:
    name = str(_get(v, "name"))
    update = _get(v, "update")
    return name if update in (None, "", 0, 1) or name.startswith("u") else f"u{update}:{name}"


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def grade_one(path: str, exercises: ExerciseSet, policy: Policy) -> GradeRow:
    """Check and score one answer file; every problem becomes the row's ``error``."""
    from . import check_answers, load_answers

    stem = os.path.splitext(os.path.basename(path))[0]
    row = GradeRow(student=stem, file=path)
    if not os.path.exists(path):
        row.error = f"{path}: no such file or folder"
        return row
    try:
        sheet = load_answers(path)
        if getattr(sheet, "student", None):
            row.student = str(sheet.student)
        ex, row.variant = exercises.find(getattr(sheet, "variant", None),
                                         getattr(sheet, "student", None), stem)
        report = check_answers(exercises.solution(ex), sheet)
    except GlassnetError as exc:
        msg = _one_line(exc)
        row.error = msg if msg.startswith(path) else f"{path}: {msg}"
        return row
    except (OSError, UnicodeError) as exc:
        row.error = _one_line(f"{path}: cannot read ({exc})")
        return row
    except RecursionError:
        row.error = f"{path}: nested too deeply to be an answer file"
        return row
    verdicts: dict[str, str] = {}
    for v in report.verdicts:
        key = _verdict_key(v)
        verdict = str(_get(v, "verdict"))
        verdicts[key] = verdict
        if verdict == "wrong":
            row.wrong_names.append(key)
            mistake = _get(v, "mistake")
            if mistake:
                row.mistakes[str(mistake)] += 1
    asked = _asked(ex, policy)
    n_updates = len(exercises.solution(ex).updates)
    keys = asked if n_updates == 1 else [f"u{u}:{n}" if u > 1 else n
                                         for u in range(1, n_updates + 1) for n in asked]
    scored = {k: verdicts.get(k, "unanswered") for k in keys}
    counts = Counter(verdicts.values())
    counts["unanswered"] = sum(1 for v in scored.values() if v == "unanswered")
    row.counts = {k: int(counts.get(k, 0)) for k in VERDICT_COUNTS}
    row.score = policy.score(scored) if scored else 0.0
    return row


def _one_line(msg: Any) -> str:
    return " ".join(str(msg).split())


def grade_files(exercises: ExerciseSet, files: Sequence[str], policy: Policy,
                progress: bool = False) -> list[GradeRow]:
    """Grade every file in order; a progress bar on stderr when ``progress``."""
    rows: list[GradeRow] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(files), file=sys.stderr, unit="file", desc="grading",
                   leave=False)
    try:
        for f in files:
            rows.append(grade_one(f, exercises, policy))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return rows


# ------------------------------------------------------------------------------- summary
def class_summary(rows: Sequence[GradeRow], top: int = 10) -> dict[str, Any]:
    """How many submissions, scores, verdict totals, frequent mistakes and wrong values."""
    graded = [r for r in rows if not r.error]
    scores = sorted(r.score for r in graded if r.score is not None)
    totals = Counter()
    mistakes: Counter[str] = Counter()
    mistake_students: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    for r in graded:
        totals.update(r.counts)
        mistakes.update(r.mistakes)
        mistake_students.update(set(r.mistakes))
        wrong.update(r.wrong_names)
    mean = round(sum(scores) / len(scores), 2) if scores else None
    median = None
    if scores:
        mid = len(scores) // 2
        median = scores[mid] if len(scores) % 2 else round((scores[mid - 1] + scores[mid]) / 2, 2)
    return {
        "format": "glassnet.grade-summary/1",
        "submissions": len(rows), "graded": len(graded), "errors": len(rows) - len(graded),
        "mean_score": mean, "median_score": median,
        "min_score": scores[0] if scores else None, "max_score": scores[-1] if scores else None,
        "verdicts": {k: int(totals.get(k, 0)) for k in VERDICT_COUNTS},
        "mistakes": [{"id": m, "count": n, "students": mistake_students[m]}
                     for m, n in sorted(mistakes.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
        "most_wrong": [{"name": k, "wrong": n}
                       for k, n in sorted(wrong.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
        "error_files": [{"file": r.file, "error": r.error} for r in rows if r.error],
    }


def summary_text(summary: dict[str, Any], out: str | None = None,
                 max_errors: int = 10) -> str:
    """The class summary as a few lines of text (what ``glassnet grade`` prints)."""
    s = summary
    lines = [f"{s['submissions']} submission{'s' if s['submissions'] != 1 else ''}: "
             f"{s['graded']} graded, {s['errors']} with an error"
             + (f"; gradebook: {out}" if out else "")]
    if s["mean_score"] is not None:
        lines.append(f"score: mean {s['mean_score']:g}, median {s['median_score']:g}, "
                     f"min {s['min_score']:g}, max {s['max_score']:g}")
    v = s["verdicts"]
    lines.append("verdicts: " + ", ".join(f"{v[k]} {k}" for k in VERDICT_COUNTS))
    if s["mistakes"]:
        lines.append("most frequent mistakes: " + ", ".join(
            f"{m['id']} {m['count']}× ({m['students']} student{'s' if m['students'] != 1 else ''})"
            for m in s["mistakes"]))
    else:
        lines.append("most frequent mistakes: none recognised")
    if s["most_wrong"]:
        lines.append("values most often wrong: " + ", ".join(
            f"{w['name']} {w['wrong']}×" for w in s["most_wrong"]))
    errors = s["error_files"]
    for e in errors[:max_errors]:
        lines.append(f"error: {e['error']}")
    if len(errors) > max_errors:
        lines.append(f"... and {len(errors) - max_errors} more files with an error (see the "
                     f"gradebook's error column)")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ writing
def gradebook_csv(rows: Iterable[GradeRow]) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        d = r.to_dict()
        mistakes = " ".join(f"{k}:{n}" for k, n in d["mistakes"].items())
        w.writerow([_cell(d["student"]), _cell(d["file"]), _cell(d["variant"]),
                    *("" if d[k] is None else d[k] for k in VERDICT_COUNTS),
                    "" if d["score"] is None else f"{d['score']:g}", _cell(mistakes),
                    _cell(d["error"] or "")])
    return buf.getvalue()


#: a spreadsheet reads a cell starting with one of these as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: Any) -> str:
    """A text cell a spreadsheet shows as text: a leading ``'`` before ``=``, ``+``, ``-``,
    ``@``, tab or carriage return (a student id ``=1+1`` must not become a formula).

    >>> _cell("=1+1"), _cell("ann"), _cell("@SUM(A1)")
    ("'=1+1", 'ann', "'@SUM(A1)")
    """
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def gradebook_json(rows: Sequence[GradeRow], summary: dict[str, Any], exercise: str,
                   policy: Policy) -> str:
    from ..fileio import dumps_json

    return dumps_json({"format": "glassnet.grade/1", "exercise": exercise,
                       "policy": policy.to_dict(), "rows": [r.to_dict() for r in rows],
                       "summary": summary}, indent=2) + "\n"


def grade_command(args: Any) -> int:
    """The ``glassnet grade`` command (options in :mod:`glassnet.commands.grade`)."""
    from ..fileio import atomic_write_text, check_output_file, dumps_json
    from .policy import load_policy

    fmt = args.format or ("json" if str(args.out).lower().endswith(".json") else "csv")
    check_output_file(args.out, "gradebook")
    if args.summary:
        check_output_file(args.summary, "summary file")
    policy = load_policy(args.policy)
    exercises = ExerciseSet(args.exercise)
    files = collect_submissions(args.submissions)
    show = {"always": True, "never": False}.get(args.progress,
                                               len(files) >= 50 and sys.stderr.isatty())
    rows = grade_files(exercises, files, policy, progress=show)
    summary = class_summary(rows)
    text = gradebook_json(rows, summary, args.exercise, policy) if fmt == "json" \
        else gradebook_csv(rows)
    atomic_write_text(args.out, text, what="gradebook")
    if args.summary:
        atomic_write_text(args.summary, dumps_json(summary, indent=2) + "\n",
                          what="summary file")
    if not args.quiet:
        sys.stdout.write(summary_text(summary, args.out))
    return 0
