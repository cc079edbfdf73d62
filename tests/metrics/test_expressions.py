"""The custom-KPI formula language against ordinary and hostile input."""

from __future__ import annotations

import re
import time

import pytest

from partnerscope.metrics.expressions import MAX_DEPTH, MAX_LENGTH, ExpressionError, parse

NAMES = {"merged_prs", "reverted_prs", "closed_prs", "weeks"}


def value(text, **measures):
    return parse(text, NAMES).evaluate(measures)


@pytest.mark.parametrize(
    "text, measures, expected",
    [
        ("reverted_prs / merged_prs", {"reverted_prs": 2, "merged_prs": 8}, 0.25),
        ("1 + 2 * 3 - 4 / 2", {}, 5.0),
        ("(1 + 2) * 3", {}, 9.0),
        ("-2 ^ 2", {}, -4.0),  # power binds tighter than the sign, as in mathematics
        ("2 ^ 3 ^ 2", {}, 512.0),  # right-associative
        ("2 ** 3", {}, 8.0),
        ("7 % 3", {}, 1.0),
        ("max(1, merged_prs, 3)", {"merged_prs": 5}, 5.0),
        ("min(merged_prs, 3)", {"merged_prs": 5}, 3.0),
        ("abs(-2.5) + round(2.346, 2)", {}, 4.85),
        ("if(merged_prs >= 5, 1, 0)", {"merged_prs": 5}, 1.0),
        ("if(merged_prs >= 5 and closed_prs > 0, 1, 0)", {"merged_prs": 5, "closed_prs": 0}, 0.0),
        ("not merged_prs or closed_prs", {"merged_prs": 0, "closed_prs": 0}, 1.0),
        ("merged_prs != closed_prs", {"merged_prs": 1, "closed_prs": 2}, 1.0),
        ("1.5e2 + .5", {}, 150.5),
    ],
)
def test_it_computes_what_the_formula_says(text, measures, expected):
    assert value(text, **measures) == pytest.approx(expected)


def test_division_by_zero_and_missing_measures_are_no_value():
    assert value("reverted_prs / merged_prs", reverted_prs=1, merged_prs=0) is None
    assert value("7 % 0") is None
    assert value("reverted_prs + 1") is None
    assert value("if(merged_prs > 0, 1, 0)") is None
    # ...but the branch not taken is not evaluated
    assert value("if(merged_prs > 0, reverted_prs / merged_prs, 0)", merged_prs=0) == 0.0


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__(1)", "unknown function '__import__'"),
        ("__import__('os')", "unexpected character"),
        ("merged_prs.__class__", "unexpected character '.'"),
        ("open(1)", "unknown function 'open'"),
        ("eval(1)", "unknown function 'eval'"),
        ("lambda: 1", "unexpected character ':'"),
        ("secret_measure / 2", "unknown measure 'secret_measure'"),
        ("[1, 2]", "unexpected character '['"),
        ("'text'", "unexpected character"),
        ("1 +", "found the end"),
        ("(1 + 2", "expected ')'"),
        ("1 2", "unexpected '2'"),
        ("1 < 2 < 3", "chained comparisons"),
        ("if(1, 2)", "if() takes 3 arguments"),
        ("max()", "max() takes 1 to 16 arguments"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_it_refuses_what_is_not_in_the_language(text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text, NAMES)


def test_errors_give_the_column():
    with pytest.raises(ExpressionError) as error:
        parse("merged_prs + nope", NAMES)
    assert error.value.column == 14 and "column 14" in str(error.value)


def test_hostile_sizes_are_refused_quickly():
    started = time.perf_counter()
    hostile = [
        "(" * 10_000 + "1" + ")" * 10_000,  # deep nesting: no recursion error, a clear refusal
        "-" * 400 + "1",
        "1+" * 300 + "1",  # too many parts
        "9" * 600,  # too long
        "1e999",  # infinite literal
    ]
    for text in hostile:
        with pytest.raises(ExpressionError):
            parse(text, NAMES)
    with pytest.raises(ExpressionError, match="exponents are limited"):
        value("2 ^ 2 ^ 2 ^ 2 ^ 2")  # 2^65536
    with pytest.raises(ExpressionError, match="exponents are limited"):
        value("10 ** 100")
    with pytest.raises(ExpressionError, match="too large"):
        value("99999999 ^ 16")
    with pytest.raises(ExpressionError, match="too large"):
        value("merged_prs * merged_prs * merged_prs", merged_prs=1e6)
    assert time.perf_counter() - started < 1.0  # bounded work: refused, not computed
    with pytest.raises(ExpressionError, match="nests too deeply"):
        parse("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), NAMES)
    with pytest.raises(ExpressionError, match="longer than"):
        parse("1" + " " * MAX_LENGTH, NAMES)


def test_evaluation_is_bounded_by_the_node_limit():
    # The widest formula the limits allow still evaluates at once.
    with pytest.raises(ExpressionError, match="longer than"):
        parse("+".join(["max(merged_prs, 1)"] * 60), NAMES)
    widest = "+".join(["merged_prs"] * 45)
    assert value(widest, merged_prs=2) == 90.0
