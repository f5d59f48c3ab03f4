"""``glassnet check EXERCISE [--answers FILE]``: grade hand-computed answers as a teacher would.

Version 2 (the default, docs/check.md): verdicts ok / carried / rounding / wrong,
follow-through from the student's own earlier answers, rounding from the digits
they wrote, and the mistake catalogue. ``--check-version 1`` gives version 1's
verdicts and its ``glassnet.check/1`` JSON. Exit status 0 when nothing is wrong,
1 otherwise, 2 for bad input.
"""

from __future__ import annotations

import argparse

HELP_V2 = """\
verdicts (version 2, the default):
  ok        equal to the exact value at the precision it was written with
            (half a unit of its last written digit), and written finely enough
            to show it: at least its first significant digit; for a parameter,
            finer than its update. "0" for -0.0765 or "1" for 1.0000067 proves
            nothing: it is not ok, carried or rounding either.
  carried   not the exact value, but what the engine computes from your own
            earlier answers (z from your a, a from your z, delta from your a
            and the delta above, gradients from your delta and a, new weights
            from your gradients), one of which was wrong.
  rounding  off by no more than half a unit of your last digit (or cut off
            there) plus the rounding of the earlier answers it was computed
            from, propagated through the engine's equations; a value
            computed from none of your answers
            may be off by 5% of its scale per computed step from the given
            numbers, at most 25% (hand precision; see version 1 below).
  wrong     anything else; named when a classic misconception gives it (sign,
            missing_fprime, fprime_of_a, updated_weights, factor_2,
            batch_sum_mean, transposed_W, bias_update, learning_rate).

accepted: the interval of the rule that decided (for a wrong answer, the rule
it failed): a wrong answer is never inside it, any other answer always is.

answers: the exercise's 'answers' section, or --answers FILE (YAML/JSON with
optional 'student' and 'variant', and 'answers'); by name under 'values':
loss, z_l_i, a_l_i, delta_l_i, dW_l_i_j, db_l_i, W_l_i_j, b_l_i (layers 1..L,
units from 1), or the exercise notation's names.

"""


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..exercise.rule import RULE_HELP

    p = sub.add_parser(
        "check",
        help="grade hand-computed answers: ok / carried / rounding / wrong",
        description="Compare answers (the exercise's 'answers' section, or an answers file "
                    "given with --answers) with the exact float64 solution and give one "
                    "verdict per number, with the interval that would have been accepted, "
                    "why, and the mistake when a classic one fits.",
        epilog=HELP_V2 + "version 1 (--check-version 1) and the hand-precision model:\n"
               + RULE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="EXERCISE", help="exercise file (YAML or JSON)")
    p.add_argument("--answers", "-a", metavar="ANSWERS_FILE", default=None,
                   help="answers file (YAML or JSON: student, variant, answers); the "
                        "exercise's own 'answers' section is then ignored")
    p.add_argument("--format", "-f", choices=("text", "json", "markdown"), default="text",
                   help="text (default), json (glassnet.check/2, or glassnet.check/1 with "
                        "--check-version 1) or markdown (a table; version 2 only)")
    p.add_argument("--check-version", type=int, choices=(1, 2), default=2,
                   help="2 (default): follow-through and named mistakes; 1: the version-1 "
                        "verdicts ok / rounding / wrong and their JSON")
    p.add_argument("--output", "-o", metavar="OUT_FILE", default=None,
                   help="write to OUT_FILE instead of standard output")
    return p


def run(args: argparse.Namespace) -> int:
    from ..errors import GlassnetError
    from ..exercise.loader import load_exercise
    from .explain import emit

    if args.check_version == 1 and args.format == "markdown":
        raise GlassnetError("--format markdown needs check version 2 (drop --check-version 1, "
                            "or use --format text or json)")
    from ..fileio import check_outputs

    check_outputs([("--output", args.output)],
                  [("exercise file", args.file), ("--answers", args.answers)])
    ex = load_exercise(args.file)
    sheet = None
    if args.answers is not None:
        from ..grading.answers import load_answers

        sheet = load_answers(args.answers)
    elif not ex.answers and not ex.raw.get("variant"):
        raise GlassnetError(f"{args.file}: no answers to check; add an 'answers' section "
                            f"(values, loss, outputs, z, a, deltas, grad_W, grad_b, W, b, query, "
                            f"updates) or give an answers file with --answers")
    _same_variant(ex, sheet, args.file)
    if args.check_version == 1:
        from ..exercise.loader import _answers, _Checker
        from ..exercise.solution import solve

        answers = None if sheet is None else _answers(_Checker(sheet.source), sheet.answers, ex)
        _version_1_reads_them(answers if sheet is not None else ex.answers,
                              sheet.source if sheet is not None else args.file)
        report1 = solve(ex).check(answers)
        if args.format == "json":
            text = report1.to_json()
        else:
            text = report1.to_text()
        emit(text, args.output)
        return report1.exit_status
    from ..grading.check import check_answers

    report = check_answers(ex, sheet)
    if not report.verdicts and ex.raw.get("variant") and sheet is None:
        vid = ex.raw["variant"].get("id", "ID")
        report.notes.append(f"a generated variant: its blank answer file is answers/{vid}.yaml "
                            f"next to exercises/; fill it in and give it with --answers")
    if args.format == "json":
        text = report.to_json()
    elif args.format == "markdown":
        text = report.to_markdown()
    else:
        text = report.to_text()
    emit(text, args.output)
    return report.exit_status


def _same_variant(ex: object, sheet: object, exercise_file: str) -> None:
    """Refuse answers written for another variant (as ``grade`` does)."""
    from ..errors import GlassnetError

    given = getattr(sheet, "variant", None)
    own = (getattr(ex, "raw", {}).get("variant") or {}).get("id")
    if given and own and str(given) != str(own):
        raise GlassnetError(f"answers file {getattr(sheet, 'source', '')}: the answers are for "
                            f"variant {given!r}, but {exercise_file} is variant {own!r}; check "
                            f"them against exercises/{given}.yaml")


def _version_1_reads_them(answers: object, source: str) -> None:
    """Version 1 reads only the nested lists: refuse answers by name rather than ignore them."""
    from ..errors import GlassnetError

    def named(entry: object) -> list[str]:
        if not isinstance(entry, dict):
            return []
        return [k for k in ("values", "formulas") if entry.get(k)]

    found = named(answers)
    for entry in (answers.get("updates") or []) if isinstance(answers, dict) else []:
        found += named(entry)
    if found:
        raise GlassnetError(f"{source}: answers.{found[0]}: check version 1 does not read "
                            f"answers by name ('values', 'formulas'); drop --check-version 1 "
                            f"(version 2 reads them)")
