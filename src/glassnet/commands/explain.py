"""``glassnet explain FILE``: the worked solution of an exercise file.

Text (default), Markdown + LaTeX, JSON (``glassnet.explain/1``), SVG or HTML;
``--weight W1[1,2]`` prints the chain rule for one weight instead. Heavy
imports happen in :func:`run`, so ``glassnet --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys

FORMATS = ("text", "markdown", "md", "json", "svg", "html")


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "explain",
        help="worked solution of a backpropagation exercise (every number shown)",
        description="Solve an exercise file (YAML or JSON) with the engine in float64 and "
                    "print every step: conventions first, then for every update the forward "
                    "pass, the loss, the output and hidden deltas, the gradients and the new "
                    "parameters, each as a formula with the numbers substituted.",
        epilog="examples:\n"
               "  glassnet explain examples/exercises/seed004_1a.yaml\n"
               "  glassnet explain seed003_q1.yaml --format markdown -o q1.md\n"
               "  glassnet explain seed004_1a.yaml --weight W1[1,1]   (dE/dw as a product "
               "along every path)\n"
               "  glassnet explain seed003_q2b.yaml --format html -o q2b.html\n\n"
               "parameter names are 1-based like the solution's symbols: W2[1,3] is w13 of "
               "layer 2\n(from unit 3 of layer 1 to unit 1 of layer 2), b1[2] is the bias "
               "of unit 2 of layer 1.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="exercise file (.yaml, .yml or .json)")
    p.add_argument("--format", "-f", choices=FORMATS, default="text",
                   help="text (terminal, default), markdown (LaTeX matrices, seed 003's "
                        "notation), json (glassnet.explain/1, full float64 precision), svg "
                        "(a picture of the network for one update), html (self-contained "
                        "page with pictures)")
    p.add_argument("--decimals", "-d", type=int, default=None, metavar="N",
                   help="round the shown numbers to N decimals (text, markdown, html, svg); "
                        "default: 6 significant digits, and enough digits to show every "
                        "update")
    p.add_argument("--weight", "-w", metavar="PARAM", default=None,
                   help="print dE/dPARAM by the chain rule along every path instead, e.g. "
                        "W1[1,2], b2[1], W_1_1_2 or a name in the exercise's notation such as "
                        "w1 (notation: seed004) (text, markdown or json)")
    p.add_argument("--update", "-u", type=int, default=None, metavar="N",
                   help="the update to draw (svg) or to explain with --weight (1-based; "
                        "svg default 1, --weight default all)")
    p.add_argument("--picture", metavar="SVG_FILE", default=None,
                   help="also write the picture of the network (first update, or --update) "
                        "to SVG_FILE")
    p.add_argument("--output", "-o", metavar="OUT_FILE", default=None,
                   help="write to OUT_FILE instead of standard output")
    return p


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to a file or to stdout (UTF-8 even when the terminal is not)."""
    if output:
        from ..fileio import atomic_write_text

        atomic_write_text(output, text, what="output file")  # all or nothing; errors: exit 2
        return
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    from ..errors import GlassnetError
    from ..exercise import explain

    fmt = "markdown" if args.format == "md" else args.format
    if args.decimals is not None and not 0 <= args.decimals <= 17:
        raise GlassnetError(f"--decimals must be between 0 and 17, got {args.decimals}")
    if args.decimals is not None and fmt == "json" and not args.weight:
        raise GlassnetError("--decimals applies to text, markdown, html and svg; JSON always "
                            "has full float64 precision")
    if args.update is not None and args.update < 1:
        raise GlassnetError(f"--update counts from 1, got {args.update}")
    if args.update is not None and fmt != "svg" and not args.weight and not args.picture:
        raise GlassnetError("--update applies to --format svg, --picture and --weight")
    if args.weight and fmt in ("svg", "html"):
        raise GlassnetError("--weight prints as text, markdown or json, not " + fmt)

    from ..fileio import check_outputs

    check_outputs([("--picture", args.picture), ("--output", args.output)],
                  [("exercise file", args.file)])  # never overwrite the exercise itself
    sol = explain(args.file)
    n_up = len(sol.updates)
    if args.update is not None and args.update > n_up:
        raise GlassnetError(f"--update {args.update}: this exercise has {n_up} update"
                            f"{'s' if n_up != 1 else ''}")
    update = 0 if args.update is None else args.update - 1
    if args.picture:
        emit(sol.to_svg(update=update, decimals=args.decimals), args.picture)
    if args.weight:
        rule = sol.chain(args.weight)
        if args.update is not None:
            rule.updates = [rule.updates[update]]
        text = {"text": rule.to_text, "markdown": rule.to_markdown}.get(fmt)
        emit(rule.to_json() if fmt == "json" else text(args.decimals), args.output)
        return 0
    if fmt == "json":
        out = sol.to_json()
    elif fmt == "markdown":
        out = sol.to_markdown(args.decimals)
    elif fmt == "svg":
        out = sol.to_svg(update=update, decimals=args.decimals)
    elif fmt == "html":
        out = sol.to_html(args.decimals)
    else:
        out = sol.to_text(args.decimals)
    emit(out, args.output)
    return 0
