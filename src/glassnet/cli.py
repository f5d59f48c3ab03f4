"""The ``glassnet`` command: a thin layer over the library.

Each subcommand lives in its own module under :mod:`glassnet.commands` and
provides ``register(subparsers)`` (its options) and ``run(args) -> int``.
Options are declared without importing anything heavy, so ``glassnet
--help`` and ``glassnet explain`` start fast; a command imports what it needs
inside ``run``.

Errors: every :class:`~glassnet.errors.GlassnetError` (and a missing or
unreadable file) becomes one line ``glassnet: error: ...`` on stderr and exit
status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ._version import __version__

#: subcommand name -> module under glassnet.commands
COMMANDS: dict[str, str] = {
    "gradcheck": "gradcheck",
    "explain": "explain",
    "derive": "derive",
    "check": "check",
    "train": "train",
    "evaluate": "evaluate",
    "predict": "predict",
    "plot": "plot",
    "generate": "generate",
    "grade": "grade",
    "export": "export",
}

#: short numeric commands run under glassnet.threads.quick_threads (train manages its own)
QUICK_THREADED = ("evaluate", "predict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="Multilayer perceptrons trained by backpropagation, with every number "
                    "visible: train real networks fast, and show the work on exercises.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        mod = importlib.import_module(f"glassnet.commands.{module}")
        p = mod.register(sub)
        p.set_defaults(_run=mod.run)
    return parser


def error(message: str) -> int:
    """Print one error line and return exit status 2."""
    message = " ".join(str(message).split()) if "\n" not in str(message) else str(message)
    from .validate import printable  # user text in a message never carries terminal escapes

    message = printable(message, keep_newlines=True)
    print(f"glassnet: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return error("no command given: choose one of " + ", ".join(COMMANDS))
    from .errors import GlassnetError

    try:
        if args.command in QUICK_THREADED:  # BLAS threads fit for a busy machine
            from .threads import quick_threads

            with quick_threads(getattr(args, "threads", None)):
                return int(args._run(args) or 0)
        return int(args._run(args) or 0)
    except GlassnetError as exc:
        return error(str(exc))
    except FileNotFoundError as exc:
        return error(f"{exc.filename}: no such file")
    except IsADirectoryError as exc:
        return error(f"{exc.filename}: is a directory, expected a file")
    except PermissionError as exc:
        return error(f"{exc.filename}: permission denied")
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
