"""Every option of every command has help text, and the help reads as written.

The parser tree is walked, so a command or option added later is checked too.
"""

from __future__ import annotations

import argparse
import re

import pytest

from glassnet.cli import build_parser


def _commands():
    parser = build_parser()
    out = [("glassnet", parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            out += [(f"glassnet {name}", sub) for name, sub in action.choices.items()]
    return out


COMMANDS = _commands()


def test_every_command_is_walked():
    names = {name for name, _ in COMMANDS}
    assert {"glassnet train", "glassnet evaluate", "glassnet predict", "glassnet explain",
            "glassnet check", "glassnet gradcheck", "glassnet plot"} <= names


@pytest.mark.parametrize("name, parser", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_has_help(name, parser):
    missing = [a.option_strings[0] if a.option_strings else a.dest
               for a in parser._actions
               if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
               and (not a.help or not a.help.strip()) and a.help is not argparse.SUPPRESS]
    assert not missing, f"{name}: options without help text: {missing}"
    if name != "glassnet":
        assert parser.description or parser.format_help(), name


@pytest.mark.parametrize("name, parser", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_help_renders_without_escapes(name, parser):
    """argparse %-formats option help but not descriptions: no '%%' may reach the reader."""
    text = parser.format_help()
    assert "%%" not in text, f"{name}: '%%' in the help"
    assert not re.search(r"%\((?!prog\))", text), f"{name}: an unformatted %(...) in the help"


def test_train_help_says_50_percent():
    text = dict(COMMANDS)["glassnet train"].format_help()
    flat = " ".join(text.split())
    assert "after 50 % and 75 % of the epochs" in flat
    assert "10 % stratified validation split" in flat
    for option in ("--data FILE", "--test-data FILE", "--save-on-interrupt", "--test-split X"):
        assert option in text
