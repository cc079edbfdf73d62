"""Glob lists (excluded paths, bot authors) compiled once into one regular expression."""

from __future__ import annotations

import re


def translate(glob: str) -> str:
    """A glob where only * (any run of characters) and ? (one character) are special, so a
    pattern such as "*[bot]" means the literal suffix "[bot]", not a character class."""
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in glob) + r"\Z"


def compile_globs(globs: list[str], *, anywhere: bool) -> re.Pattern | None:
    """One case-insensitive regex for shell-style globs.

    With ``anywhere``, a glob containing "/" also matches below any folder ("vendor/*" matches
    "src/vendor/x.js") and a glob without "/" matches a file name in any folder.
    """
    parts = []
    for glob in globs:
        parts.append(translate(glob))
        if anywhere:
            parts.append(translate(f"*/{glob}"))
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE | re.DOTALL)


def matcher(globs: list[str], *, anywhere: bool = False):
    pattern = compile_globs(globs, anywhere=anywhere)
    if pattern is None:
        return lambda *values: False
    match = pattern.match
    return lambda *values: any(match(v) for v in values if v)
