"""glassnet.validate: one layer for every value from outside (types, not truthiness).

Each constraint is tested against an independent statement of what it must accept (Python's
own types and math.isfinite, the layer sizes of the network for parameter names), with
hypothesis generating the values, including the ones fuzzing found (a bool as an integer,
a mapping as a name, a 5000-digit index, 1e308, /dev/zero).
"""

from __future__ import annotations

import doctest
import math
import os
import stat
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet.validate as validate_module
from glassnet.errors import GlassnetError
from glassnet.validate import (
    Boolean,
    Integer,
    Options,
    Real,
    Text,
    ValidationError,
    input_file,
    parse_float,
    parse_int,
    parse_parameter_name,
    printable,
    read_input_file,
    validate,
    validate_params,
)

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def test_docstring_examples_run():
    result = doctest.testmod(validate_module)
    assert result.attempted >= 5 and result.failed == 0


def test_validation_error_is_a_glassnet_error():
    assert issubclass(ValidationError, GlassnetError)


@settings(max_examples=300, deadline=None)
@given(value=ANYTHING, lo=st.integers(-5, 5), width=st.integers(0, 10))
def test_integer_accepts_exactly_the_ints_in_range(value, lo, width):
    hi = lo + width
    expected = (type(value) is int and lo <= value <= hi)
    c = Integer(lo, hi)
    assert c.is_satisfied_by(value) == expected
    if expected:
        assert validate(value, c, "n") == value
    else:
        with pytest.raises(ValidationError, match=r"^n: expected an integer in \["):
            validate(value, c, "n")


def test_bools_are_not_integers_and_integral_floats_are_not_integers():
    for bad in (True, False, 3.0, "3"):
        with pytest.raises(ValidationError):
            validate(bad, Integer(0, 10), "epochs")


@settings(max_examples=300, deadline=None)
@given(value=ANYTHING, lo=st.floats(-10, 10), width=st.floats(0, 10))
def test_real_accepts_exactly_finite_numbers_in_range(value, lo, width):
    hi = lo + width
    is_number = type(value) in (int, float)
    expected = is_number and math.isfinite(float(value)) and lo <= float(value) <= hi
    assert Real(lo, hi).is_satisfied_by(value) == expected


def test_real_refuses_non_finite_and_huge_magnitudes():
    for bad in (math.nan, math.inf, -math.inf, 10**400, True):
        assert not Real().is_satisfied_by(bad)
    assert not Real(max_abs=1e6).is_satisfied_by(1e308)
    assert Real(max_abs=1e6).is_satisfied_by(-1e6)
    assert not Real(0, 1, lo_closed=False).is_satisfied_by(0.0)
    assert Real(0, 1, lo_closed=False).is_satisfied_by(1.0)


def test_options_booleans_text_are_strict_types():
    assert not Options(["sigmoid"]).is_satisfied_by({"name": "sigmoid"})
    assert not Options(["sigmoid"]).is_satisfied_by(["sigmoid"])
    assert Options(["sigmoid"]).is_satisfied_by("sigmoid")
    assert not Boolean().is_satisfied_by(1) and Boolean().is_satisfied_by(False)
    assert not Text(3).is_satisfied_by("abcd") and Text(3).is_satisfied_by("abc")


def test_none_in_constraints_accepts_none_only_there():
    assert validate(None, [None, Integer(1, 2)], "x") is None
    with pytest.raises(ValidationError, match="expected nothing \\(null\\) or an integer"):
        validate("a", [None, Integer(1, 2)], "x")


def test_validate_params_names_unknown_and_missing_keys():
    spec = {"lr": Real(0, 1), "mode": Options(["sgd", "batch"])}
    assert validate_params({"lr": 1, "mode": "sgd"}, spec) == {"lr": 1.0, "mode": "sgd"}
    with pytest.raises(ValidationError, match=r"^opt\.lr_: unknown"):
        validate_params({"lr_": 1}, spec, "opt")
    with pytest.raises(ValidationError, match=r"^opt\.mode: missing"):
        validate_params({"lr": 0.5}, spec, "opt", required=["mode"])
    with pytest.raises(ValidationError, match="expected a mapping"):
        validate_params([1], spec, "opt")


# ----------------------------------------------------------------------- text numbers
@settings(max_examples=200, deadline=None)
@given(st.integers(-10**18, 10**18))
def test_parse_int_round_trips_python_ints(n):
    assert parse_int(str(n), "--n") == n


@pytest.mark.parametrize("digits", [21, 5000, 1_000_000])
def test_long_digit_strings_are_refused_by_length_not_converted(digits):
    # Python refuses int() beyond 4300 digits with a ValueError: the message below shows the
    # length check answered first, for any length
    with pytest.raises(ValidationError, match=f"a number with {digits} digits"):
        parse_int("7" * digits, "--weight index")


@pytest.mark.parametrize("text", ["", "1.5", "1e3", "nan", "0x10", "١٢", "1 2"])
def test_parse_int_refuses_non_integers(text):
    with pytest.raises(ValidationError):
        parse_int(text, "--n")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e999", "x", "", "1" * 200])
def test_parse_float_refuses_non_finite_and_junk(text):
    with pytest.raises(ValidationError):
        parse_float(text, "--tol")


# ---------------------------------------------------------------------- parameter names
LAYERS = st.lists(st.integers(1, 6), min_size=2, max_size=5)


@settings(max_examples=200, deadline=None)
@given(layers=LAYERS, data=st.data())
def test_every_parameter_name_round_trips_in_both_syntaxes(layers, data):
    l = data.draw(st.integers(1, len(layers) - 1))
    i = data.draw(st.integers(1, layers[l]))
    j = data.draw(st.integers(1, layers[l - 1]))
    for spec in (f"W{l}[{i},{j}]", f"W_{l}_{i}_{j}", f"w{l}({i}, {j})"):
        assert parse_parameter_name(spec, layers) == ("W", l, i - 1, j - 1)
    for spec in (f"b{l}[{i}]", f"b_{l}_{i}"):
        assert parse_parameter_name(spec, layers) == ("b", l, i - 1, None)


@settings(max_examples=200, deadline=None)
@given(layers=LAYERS, l=st.integers(0, 8), i=st.integers(0, 8), j=st.integers(0, 8))
def test_out_of_range_parameter_names_are_refused(layers, l, i, j):
    valid = 1 <= l < len(layers) and 1 <= i <= layers[l] and 1 <= j <= layers[l - 1]
    if valid:
        assert parse_parameter_name(f"W{l}[{i},{j}]", layers)[0] == "W"
    else:
        with pytest.raises(ValidationError, match="^--weight"):
            parse_parameter_name(f"W{l}[{i},{j}]", layers)


@pytest.mark.parametrize("spec", ["W1[" + "9" * 5000 + ",1]", "W1", "b1[1,1]", "W1[1]",
                                  "x1[1,1]", "W1[-1,1]", "", "W" + "1" * 200])
def test_malformed_parameter_names_are_one_error(spec):
    with pytest.raises(ValidationError):
        parse_parameter_name(spec, [2, 3, 1])


def test_bias_name_without_biases_is_refused():
    with pytest.raises(ValidationError, match="no biases"):
        parse_parameter_name("b1[1]", [2, 3, 1], has_biases=False)


# -------------------------------------------------------------------------------- files
def test_devices_pipes_and_folders_are_refused_without_reading(tmp_path):
    with pytest.raises(ValidationError, match="not a regular file"):
        input_file("/dev/zero", 10, "exercise file")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(ValidationError, match="not a regular file"):
        read_input_file(fifo, 10, "exercise file")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(ValidationError, match="is a directory"):
        input_file(tmp_path, 10)
    with pytest.raises(ValidationError, match="no such file"):
        input_file(tmp_path / "missing.yaml", 10)


def test_size_cap_is_checked_before_reading(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 101)
    with pytest.raises(ValidationError, match="101 bytes, more than the 100 bytes"):
        read_input_file(big, 100, "exercise file")
    assert read_input_file(big, 101, "exercise file") == b"x" * 101


def test_paths_of_the_wrong_type_are_refused():
    for bad in (None, 3, "", "a\0b"):
        with pytest.raises(ValidationError):
            input_file(bad, 10)


# ---------------------------------------------------------------------- printable text
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40))
def test_printable_removes_every_control_character(text):
    out = printable(text, keep_newlines=True)
    for ch in out:
        assert ch in "\t\n" or unicodedata.category(ch) not in ("Cc", "Cs"), repr(ch)
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufffe\uffff"
    assert "\n" not in printable(text)
    # nothing else changes: the printable characters are kept, in order
    kept = [ch for ch in text if ch == "\n" or ch == "\t" or (
        unicodedata.category(ch) not in ("Cc", "Cs") and ch not in
        "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufffe\uffff")]
    assert out == "".join(kept).replace("\r", "")


# ---------------------------------------------------------- output safety, end to end
HOSTILE = st.lists(st.sampled_from(
    ["\x1b[2J", "\x1b]0;pwned\x07", "\u202e", "\x00", "\r", "\n", "<script>alert(1)</script>",
     "&amp;", "<b>", "a", "é", "∂", " ", "\ud800", "\uffff"]), min_size=1, max_size=8).map("".join)


@settings(max_examples=40, deadline=None)
@given(title=HOSTILE, description=HOSTILE)
def test_user_text_reaches_no_output_with_control_characters_or_raw_html(title, description):
    import xml.etree.ElementTree as ET

    from glassnet.exercise import parse_exercise, solve

    doc = {"title": title, "description": description,
           "network": {"layers": [2, 1], "activation": "sigmoid", "weights": 0.5, "biases": 0},
           "loss": "half_sse", "learning_rate": 0.1, "mode": "sgd",
           "samples": [{"x": [1, 0], "t": [1]}]}
    sol = solve(parse_exercise(doc))
    outputs = {"text": sol.to_text(), "markdown": sol.to_markdown(), "html": sol.to_html(),
               "svg": sol.to_svg()}
    for fmt, out in outputs.items():
        bad = [ch for ch in out if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n"]
        assert not bad, (fmt, bad)
        assert "\u202e" not in out and "\uffff" not in out, fmt
        out.encode("utf-8")  # printable on any UTF-8 terminal
    for fmt in ("markdown", "html", "svg"):
        assert "<script>" not in outputs[fmt] and "<b>" not in outputs[fmt], fmt
    ET.fromstring(outputs["svg"])


def test_error_messages_carry_no_terminal_escapes(tmp_path):
    import contextlib
    import io

    from glassnet.cli import main

    path = tmp_path / "\x1b[31mex.yaml"
    path.write_text('network: {layers: [2, 1]}\n"\\e[2Jbad\\u202e": 1\n')
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["explain", str(path)])
    assert code == 2 and "\x1b" not in err.getvalue() and "\u202e" not in err.getvalue()
    assert err.getvalue().startswith("glassnet: error: ") and "[2Jbad: unknown key" in \
        err.getvalue()
