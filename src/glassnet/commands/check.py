"""``glassnet check FILE``: verdicts ok / rounding / wrong for the file's ``answers``.

Exit status 0 when nothing is wrong, 1 otherwise, 2 for a bad file. The rule
(see ``docs/check.md``) is printed by ``glassnet check --help``.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..exercise.rule import RULE_HELP

    p = sub.add_parser(
        "check",
        help="grade hand-computed answers: ok / rounding / wrong",
        description="Compare the 'answers' of an exercise file (loss, outputs, z, a, deltas, "
                    "grad_W, grad_b, W, b, per update or final; query outputs and classes) "
                    "with the exact float64 solution, and give one verdict per number.",
        epilog=RULE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="exercise file with an 'answers' section")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text",
                   help="text (default) or json (glassnet.check/1)")
    p.add_argument("--output", "-o", metavar="OUT_FILE", default=None,
                   help="write to OUT_FILE instead of standard output")
    return p


def run(args: argparse.Namespace) -> int:
    from ..errors import GlassnetError
    from ..exercise import explain
    from .explain import emit

    sol = explain(args.file)
    if not sol.exercise.answers:
        raise GlassnetError(f"{args.file}: no answers to check; add an 'answers' section "
                            f"(loss, outputs, z, a, deltas, grad_W, grad_b, W, b, query, "
                            f"updates)")
    report = sol.check()
    emit(report.to_json() if args.format == "json" else report.to_text(), args.output)
    return report.exit_status
