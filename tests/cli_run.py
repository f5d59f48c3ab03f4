"""Run the ``glassnet`` command in-process, for the tests: one helper instead of a copy per file."""

from __future__ import annotations

from typing import Any

from glassnet.cli import main


def run(argv: Any, capsys: Any) -> tuple[Any, str, str]:
    """(exit status, stdout, stderr) of ``glassnet argv``; argparse errors included."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err
