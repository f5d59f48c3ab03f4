"""``glassnet grade EXERCISE SUBMISSION... --out GRADEBOOK.csv``: a whole class, one gradebook.

Every answer file is checked (``glassnet check`` version 2) against its
exercise (or, when EXERCISE is a folder of generated variants, against the
variant the file names), scored under a policy, and written as one row of
the gradebook; a class summary is printed. See ``docs/teaching.md``.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "grade",
        help="grade a class: check every answer file, score it, write a gradebook",
        description="Check every SUBMISSION (an answers file as for 'check --answers', or a "
                    "folder of them) against EXERCISE, score it under the policy, and write "
                    "one row per file in file-name order (student, file, variant, ok, "
                    "carried, rounding, wrong, unanswered, score, mistakes, error). A file "
                    "that cannot be read gets its row with 'error' and never stops the batch. "
                    "A class summary (submissions, mean score, most frequent mistakes, values "
                    "most often wrong) is printed.",
        epilog="examples:\n"
               "  glassnet grade exercise.yaml submissions/ --out gradebook.csv\n"
               "  glassnet grade class/ submissions/ --out gradebook.json --format json\n"
               "  glassnet grade class/ submissions/ --out gb.csv --policy policy.yaml "
               "--summary summary.json\n\n"
               "EXERCISE may be a folder written by 'glassnet generate' (its manifest.json or "
               "exercises/):\neach answer file is graded against the variant named by its "
               "'variant' key (or its 'student').\n\n"
               "default policy: ok 1, carried 1, rounding 1, wrong 0, unanswered 0, every "
               "quantity weight 1;\nscore = 100 x points / (weights of the asked "
               "quantities: the variant's ask list, else every\nquantity of the exercise; "
               "unanswered ones earn 0). See docs/teaching.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("exercise", metavar="EXERCISE",
                   help="the exercise file, or a folder of generated variants")
    p.add_argument("submissions", metavar="SUBMISSION", nargs="+",
                   help="answer files (YAML or JSON) or folders of them")
    p.add_argument("--out", "-o", required=True, metavar="GRADEBOOK",
                   help="gradebook file to write (written atomically)")
    p.add_argument("--format", "-f", choices=("csv", "json"), default=None,
                   help="gradebook format: csv or json (default: from the --out extension, "
                        "else csv)")
    p.add_argument("--policy", "-p", metavar="FILE", default=None,
                   help="scoring policy (YAML or JSON): points per verdict, weights per "
                        "quantity, scale; see docs/teaching.md")
    p.add_argument("--summary", metavar="FILE", default=None,
                   help="also write the class summary as JSON (glassnet.grade-summary/1) to "
                        "FILE")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="do not print the class summary")
    p.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="progress bar on stderr: auto (50 files or more, on a terminal), "
                        "always, never")
    return p


def run(args: argparse.Namespace) -> int:
    from ..grading.grade import grade_command

    _check_outputs(args)
    return grade_command(args)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before grading, a --out/--summary file that is one of the files read.

    ``grade E s/a.yaml --out s/a.yaml`` would replace the student's answers
    with the gradebook. Folders are read as a whole: the answer files in a
    submissions folder, and every file of a generated exercise folder.
    """
    from ..errors import GlassnetError
    from ..fileio import check_outputs

    inputs = [("EXERCISE", args.exercise), ("--policy", args.policy)]
    try:
        from ..grading.grade import collect_submissions

        files = collect_submissions(args.submissions)  # the answer files, folders expanded
    except GlassnetError:
        files = args.submissions  # reported by grade itself; compare the names given
    inputs += [("SUBMISSION", f) for f in files]
    check_outputs([("--out", args.out), ("--summary", args.summary)], inputs)
