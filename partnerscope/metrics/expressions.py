"""The formula language of custom KPIs: arithmetic over named measures, no Python ``eval``.

    reverted_prs / merged_prs
    if(merged_prs >= 5, approved_merged_prs / merged_prs, 0)
    max(0, 1 - rework_lines / changed_lines)

A small recursive-descent parser turns the text into a tree of tuples; only numbers, the
measure names it is given, ``+ - * / % ^`` (``**`` too), comparisons, ``and``/``or``/``not``,
and the functions ``min``, ``max``, ``abs``, ``round`` and ``if`` exist. Hostile input is bounded
before anything is evaluated: the text's length, the number of nodes and the nesting depth
are capped, exponents are small, every intermediate result must be a finite number of sane
size, and evaluation counts its steps. Division by zero is not an error but "no value" (None),
which the engine stores as "no data", never as 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

MAX_LENGTH = 500
MAX_NODES = 200
MAX_DEPTH = 24
MAX_EXPONENT = 16
MAX_MAGNITUDE = 1e15
MAX_STEPS = 10_000

FUNCTIONS = {"min": (1, 16), "max": (1, 16), "abs": (1, 1), "round": (1, 2), "if": (3, 3)}

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d{1,3})?|\.\d+(?:[eE][+-]?\d{1,3})?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|==|!=|<=|>=|[-+*/%^(),<>]))"
)


class ExpressionError(ValueError):
    """A formula that cannot be used, with the position (1-based column) where it goes wrong."""

    def __init__(self, message: str, column: int | None = None):
        self.column = column
        super().__init__(f"{message} (at column {column})" if column else message)


@dataclass(frozen=True)
class Formula:
    text: str
    tree: tuple
    names: frozenset[str]

    def evaluate(self, measures: Mapping[str, float | None]) -> float | None:
        return evaluate(self.tree, measures)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            column = position + 1 + (len(text[position:]) - len(text[position:].lstrip()))
            raise ExpressionError(f"unexpected character {text[column - 1]!r}", column)
        kind = match.lastgroup
        out.append((kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return out


class _Parser:
    """expr := or; or := and ('or' and)*; and := not ('and' not)*; not := 'not' not | cmp;
    cmp := sum (op sum)?; sum := term (('+'|'-') term)*; term := unary (('*'|'/'|'%') unary)*;
    unary := ('-'|'+') unary | power; power := atom (('^'|'**') unary)?;
    atom := number | name | name '(' args ')' | '(' expr ')'"""

    def __init__(self, text: str, allowed: frozenset[str]):
        self.tokens = _tokens(text)
        self.index = 0
        self.allowed = allowed
        self.nodes = 0
        self.depth = 0
        self.names: set[str] = set()
        self.end = len(text) + 1

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else ("end", "", self.end)

    def take(self):
        token = self.peek()
        self.index += 1
        return token

    def expect(self, value: str):
        kind, text, column = self.take()
        if text != value or kind == "end":
            found = "the end" if kind == "end" else repr(text)
            raise ExpressionError(f"expected {value!r}, found {found}", column)

    def node(self, *parts) -> tuple:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"the formula is too long (more than {MAX_NODES} parts)")
        return parts

    def nested(self, rule):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"the formula nests too deeply (more than {MAX_DEPTH} levels)", self.peek()[2]
            )
        try:
            return rule()
        finally:
            self.depth -= 1

    def parse(self) -> tuple:
        tree = self.expression()
        kind, text, column = self.peek()
        if kind != "end":
            raise ExpressionError(f"unexpected {text!r}", column)
        return tree

    def expression(self):
        return self.nested(self.or_)

    def or_(self):
        left = self.and_()
        while self.peek()[:2] == ("name", "or"):
            self.take()
            left = self.node("or", left, self.and_())
        return left

    def and_(self):
        left = self.not_()
        while self.peek()[:2] == ("name", "and"):
            self.take()
            left = self.node("and", left, self.not_())
        return left

    def not_(self):
        if self.peek()[:2] == ("name", "not"):
            self.take()
            return self.node("not", self.nested(self.not_))
        return self.comparison()

    def comparison(self):
        left = self.sum()
        if self.peek()[1] in ("<", ">", "<=", ">=", "==", "!=") and self.peek()[0] == "op":
            op = self.take()[1]
            left = self.node("cmp", op, left, self.sum())
            if self.peek()[1] in ("<", ">", "<=", ">=", "==", "!=") and self.peek()[0] == "op":
                raise ExpressionError("chained comparisons are not allowed; use 'and'", self.peek()[2])
        return left

    def sum(self):
        left = self.term()
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            left = self.node("bin", op, left, self.term())
        return left

    def term(self):
        left = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/", "%"):
            op = self.take()[1]
            left = self.node("bin", op, left, self.unary())
        return left

    def unary(self):
        if self.peek()[0] == "op" and self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            operand = self.nested(self.unary)
            return operand if op == "+" else self.node("neg", operand)
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek()[0] == "op" and self.peek()[1] in ("^", "**"):
            self.take()
            return self.node("bin", "^", base, self.nested(self.unary))
        return base

    def atom(self):
        kind, text, column = self.take()
        if kind == "number":
            value = float(text)
            if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
                raise ExpressionError(f"the number {text} is too large", column)
            return self.node("num", value)
        if kind == "name":
            if text in ("and", "or", "not"):
                raise ExpressionError(f"{text!r} needs something before it", column)
            if self.peek()[:2] == ("op", "("):
                return self.call(text, column)
            if text not in self.allowed:
                raise ExpressionError(f"unknown measure {text!r}", column)
            self.names.add(text)
            return self.node("name", text)
        if (kind, text) == ("op", "("):
            inner = self.expression()
            self.expect(")")
            return inner
        found = "the end" if kind == "end" else repr(text)
        raise ExpressionError(f"expected a number, a measure or '(', found {found}", column)

    def call(self, name: str, column: int):
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name!r} (allowed: {', '.join(FUNCTIONS)})", column)
        self.take()  # "("
        args = []
        if self.peek()[:2] != ("op", ")"):
            args.append(self.expression())
            while self.peek()[:2] == ("op", ","):
                self.take()
                args.append(self.expression())
        self.expect(")")
        low, high = FUNCTIONS[name]
        if not low <= len(args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            raise ExpressionError(f"{name}() takes {count} arguments, not {len(args)}", column)
        return self.node("call", name, tuple(args))


def parse(text: str, allowed_names) -> Formula:
    """Parse ``text`` allowing only ``allowed_names`` as measures. Raises ExpressionError."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("the formula is empty")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the formula is longer than {MAX_LENGTH} characters")
    parser = _Parser(text, frozenset(allowed_names))
    tree = parser.parse()
    return Formula(text=text.strip(), tree=tree, names=frozenset(parser.names))


class _Budget:
    def __init__(self):
        self.steps = 0


def _finite(value: float) -> float:
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise ExpressionError("a result of the formula is too large")
    return value


def evaluate(tree: tuple, measures: Mapping[str, float | None]) -> float | None:
    """The value of a parsed formula; None when a measure is missing or a division by zero."""
    return _eval(tree, measures, _Budget())


def _eval(node: tuple, measures, budget: _Budget) -> float | None:  # noqa: C901 - one case per node kind
    budget.steps += 1
    if budget.steps > MAX_STEPS:
        raise ExpressionError("the formula takes too long to evaluate")
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "name":
        value = measures.get(node[1])
        return None if value is None else float(value)
    if kind == "neg":
        value = _eval(node[1], measures, budget)
        return None if value is None else -value
    if kind == "not":
        value = _eval(node[1], measures, budget)
        return None if value is None else float(not value)
    if kind in ("and", "or"):
        left = _eval(node[1], measures, budget)
        if left is None:
            return None
        if kind == "and" and not left:
            return 0.0
        if kind == "or" and left:
            return 1.0
        right = _eval(node[2], measures, budget)
        return None if right is None else float(bool(right))
    if kind == "cmp":
        left, right = _eval(node[2], measures, budget), _eval(node[3], measures, budget)
        if left is None or right is None:
            return None
        op = node[1]
        result = {
            "<": left < right,
            ">": left > right,
            "<=": left <= right,
            ">=": left >= right,
            "==": left == right,
            "!=": left != right,
        }[op]
        return float(result)
    if kind == "bin":
        op = node[1]
        left, right = _eval(node[2], measures, budget), _eval(node[3], measures, budget)
        if left is None or right is None:
            return None
        if op == "+":
            return _finite(left + right)
        if op == "-":
            return _finite(left - right)
        if op == "*":
            return _finite(left * right)
        if op in ("/", "%"):
            if right == 0:
                return None  # safe division: no value, never an error or infinity
            return _finite(left / right if op == "/" else math.fmod(left, right))
        # "^": small exponents only, so 10^10^10 cannot eat the machine.
        if abs(right) > MAX_EXPONENT:
            raise ExpressionError(f"exponents are limited to ±{MAX_EXPONENT}")
        if left == 0 and right < 0:
            return None
        if left < 0 and right != int(right):
            return None
        try:
            return _finite(math.pow(left, right))
        except OverflowError:
            raise ExpressionError("a result of the formula is too large") from None
    if kind == "call":
        name, args = node[1], node[2]
        if name == "if":
            condition = _eval(args[0], measures, budget)
            if condition is None:
                return None
            return _eval(args[1] if condition else args[2], measures, budget)
        values = [_eval(arg, measures, budget) for arg in args]
        if any(v is None for v in values):
            return None
        if name == "min":
            return min(values)
        if name == "max":
            return max(values)
        if name == "abs":
            return abs(values[0])
        digits = int(values[1]) if len(values) > 1 else 0
        if not -6 <= digits <= 6:
            raise ExpressionError("round() keeps between -6 and 6 digits")
        return round(values[0], digits)
    raise ExpressionError(f"unknown node {kind!r}")  # not reachable from parse()
