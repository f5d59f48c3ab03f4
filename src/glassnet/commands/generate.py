"""``glassnet generate TEMPLATE --count N --seed S --out DIR``: exercise variants for a class.

Each variant gets its exercise file, a question sheet and an answer key
(Markdown with LaTeX, and LaTeX source) and a blank answer file; see
``docs/teaching.md`` for the template format and
:mod:`glassnet.grading.generate` for the rules that make numbers "nice".
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "generate",
        help="exercise variants with fresh nice numbers, question sheets and answer keys",
        description="Fill the numbers a template leaves out (weights, biases, samples) with "
                    "nice numbers (at most 2 decimals, no saturated or dead unit, no gradient "
                    "zero by accident, checked by solving every candidate with the engine), "
                    "and write for every variant: exercises/ID.yaml, sheets/ID-question.md "
                    "and .tex, sheets/ID-key.md and .tex, answers/ID.yaml (blank) and "
                    "manifest.json. The same seed (and student id) always gives the same "
                    "files.",
        epilog="examples:\n"
               "  glassnet generate examples/teaching/sigmoid_231.yaml --count 20 --seed 1 "
               "--out class/\n"
               "  glassnet generate sigmoid_231.yaml --students ann,bob,eve --seed 1 --out c/\n"
               "  glassnet generate sigmoid_231.yaml --student-ids roster.txt --seed 1 "
               "--out c/\n\n"
               "template keys (all optional) under 'generate:': weights, biases, inputs, "
               "targets\n({range: [lo, hi], decimals: 0..2, nonzero: bool} or {values: [...]}), "
               "learning_rate\n({values: [...]}), samples, ask (loss z a delta dW db W b), "
               "max_abs_z, min_gradient,\nattempts. See docs/teaching.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("template", metavar="TEMPLATE",
                   help="template: an exercise file (YAML or JSON) without some of "
                        "network.weights, network.biases, samples, plus an optional "
                        "'generate' section")
    p.add_argument("--count", "-n", type=int, default=None, metavar="N",
                   help="number of variants (ids v01, v02, ...); not needed with student ids")
    p.add_argument("--seed", "-s", type=int, default=0, metavar="S",
                   help="seed (default 0): the same seed gives the same variants")
    p.add_argument("--out", "-o", required=True, metavar="DIR",
                   help="folder to write the variants to: new, empty, or an earlier output "
                        "of generate (whose manifest lists the files it may replace or "
                        "remove; a file changed since, such as a filled-in answer file, is "
                        "never touched)")
    p.add_argument("--samples", "-k", type=int, default=None, metavar="K",
                   help="samples per variant (overrides generate.samples; 1..20)")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--student-ids", metavar="FILE", default=None,
                     help="one variant per student: ids from FILE (one per line, or the "
                          "first column of a CSV; '#' starts a comment)")
    who.add_argument("--students", metavar="A,B,C", default=None,
                     help="one variant per student: comma-separated ids")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="do not print the list of written variants")
    return p


def run(args: argparse.Namespace) -> int:
    import os

    from ..grading.generate import (
        GenerateError,
        generate_variants,
        load_template,
        read_student_ids,
        write_variants,
    )

    if args.count is not None and args.count < 1:
        raise GenerateError(f"--count must be at least 1, got {args.count}")
    if args.count is None and not (args.students or args.student_ids):
        raise GenerateError("give --count N, or student ids with --students / --student-ids")
    if args.seed < 0:
        raise GenerateError(f"--seed must be a non-negative integer, got {args.seed}")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise GenerateError(f"--out {args.out}: exists and is not a folder")
    students = None
    if args.students is not None or args.student_ids is not None:
        students = read_student_ids(args.student_ids, args.students)
    template = load_template(args.template, samples=args.samples)
    variants = generate_variants(template, count=args.count, seed=args.seed,
                                 students=students)
    write_variants(variants, args.out, template_file=args.template, seed=args.seed,
                   inputs=[("--student-ids file", args.student_ids)])
    if not args.quiet:
        n = len(variants)
        print(f"{n} variant{'s' if n != 1 else ''} of {args.template} (seed {args.seed}) in "
              f"{args.out}/: exercises/, sheets/ (question and key, .md and .tex), answers/ "
              f"(blank), manifest.json")
        for v in variants[:5]:
            print(f"  {v.id}: exercises/{v.id}.yaml")
        if n > 5:
            print(f"  ... {variants[-1].id}: exercises/{variants[-1].id}.yaml")
    return 0
