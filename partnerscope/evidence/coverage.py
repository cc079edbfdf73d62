"""Coverage on new code: CI's coverage report for a commit, read for the lines that commit added.

CI uploads the report of a commit's build (``POST /api/v1/repositories/{uid}/coverage``, or the
repository page). Two formats, the ones nearly every tool can write:

- **LCOV** (``SF:`` a file, ``DA:<line>,<hits>`` a line that can run, ``end_of_record``):
  lcov, c8/nyc/istanbul, Jest, cargo-llvm-cov, coverage.py's ``lcov`` command;
- **Cobertura XML** (``<class filename=…><lines><line number=… hits=…/>``): coverage.py's
  ``xml`` command, JaCoCo and .NET converters, gcovr, PHPUnit.

A report names files as the build machine saw them (absolute, or relative to a source root),
so each file the commit changed is matched to the report file whose path ends with it (or
that it ends with, for a report relative to a subfolder). Of the lines the commit added (its
``diff-tree -U0``, excluded paths left out), those the report lists are its new coverable
lines, and those with hits its covered ones. Lines the report does not list (comments, blank
lines, files no test measures) are not counted either way. Only the two counts are kept: the
report itself is not stored.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from partnerscope.evidence.commitdiff import line_changes

MAX_REPORT_BYTES = 50 * 1024 * 1024


class CoverageError(ValueError):
    """A report that cannot be read; the message names the file, line or element."""


@dataclass
class Report:
    format: str  # "lcov" | "cobertura"
    lines: dict[str, dict[int, int]]  # report path -> {line number: hits}

    @property
    def lines_valid(self) -> int:
        return sum(len(hits) for hits in self.lines.values())

    @property
    def lines_covered(self) -> int:
        return sum(1 for hits in self.lines.values() for n in hits.values() if n > 0)


def _normal(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def parse(name: str, data: bytes) -> Report:
    if len(data) > MAX_REPORT_BYTES:
        raise CoverageError(f"{name}: larger than {MAX_REPORT_BYTES // (1024 * 1024)} MB.")
    head = data.lstrip()[:1]
    if head == b"<":
        return parse_cobertura(name, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CoverageError(
            f"{name}: not UTF-8 text (byte {exc.start}); expected LCOV or Cobertura XML."
        ) from None
    return parse_lcov(name, text)


def parse_lcov(name: str, text: str) -> Report:
    lines: dict[str, dict[int, int]] = {}
    current: dict[int, int] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("SF:"):
            path = _normal(line[3:])
            if not path:
                raise CoverageError(f"{name}, line {number}: SF: names no file.")
            current = lines.setdefault(path, {})
        elif line.startswith("DA:"):
            if current is None:
                raise CoverageError(f"{name}, line {number}: DA: outside a file's record (no SF: before it).")
            parts = line[3:].split(",")
            try:
                at, hits = int(parts[0]), int(parts[1])
            except (IndexError, ValueError):
                raise CoverageError(
                    f"{name}, line {number}: DA: needs a line number and a hit count, got {line[:80]!r}."
                ) from None
            if at < 1 or hits < 0:
                raise CoverageError(
                    f"{name}, line {number}: DA: line numbers start at 1 and hits are not negative."
                )
            current[at] = max(current.get(at, 0), hits)  # some tools repeat a line
        elif line == "end_of_record":
            current = None
        elif line and not line[:1].isupper():
            raise CoverageError(f"{name}, line {number}: not an LCOV record ({line[:80]!r}).")
    if not lines:
        raise CoverageError(f"{name}: no file records (SF:) in it; expected LCOV or Cobertura XML.")
    return Report("lcov", lines)


def parse_cobertura(name: str, data: bytes) -> Report:
    # No entity may be declared: that is how XML bombs and external entities get in.
    if b"<!ENTITY" in data:
        raise CoverageError(f"{name}: entity declarations are not accepted in a coverage report.")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no entities (refused above); nothing is fetched
    except ET.ParseError as exc:
        line, column = exc.position
        raise CoverageError(f"{name}, line {line}, column {column}: not well-formed XML.") from None
    if root.tag != "coverage":
        raise CoverageError(f"{name}: the root element is <{root.tag[:40]}>, not Cobertura's <coverage>.")
    sources = [_normal(s.text).rstrip("/") for s in root.iter("source") if s.text and s.text.strip()]
    lines: dict[str, dict[int, int]] = {}
    for cls in root.iter("class"):
        filename = _normal(cls.get("filename") or "")
        if not filename:
            raise CoverageError(f"{name}: a <class> element has no filename.")
        hits_of = lines.setdefault(filename, {})
        for element in cls.iter("line"):
            try:
                at, hits = int(element.get("number", "")), int(element.get("hits", ""))
            except ValueError:
                raise CoverageError(
                    f"{name}: a <line> of {filename[:120]} needs whole-number number and hits attributes."
                ) from None
            if at < 1 or hits < 0:
                raise CoverageError(f"{name}: a <line> of {filename[:120]} has number {at} or hits {hits}.")
            hits_of[at] = max(hits_of.get(at, 0), hits)
        # The same file under each source root, so an absolute root still matches.
        for source in sources:
            lines.setdefault(f"{source}/{filename}", hits_of)
    if not lines:
        raise CoverageError(f"{name}: no <class> elements in it: nothing was measured.")
    return Report("cobertura", lines)


def report_file(report: Report, path: str) -> dict[int, int] | None:
    """The report's lines of a repository path: the same path, else the shortest report path
    ending with "/<path>", else the longest that the path ends with ("/<report path>")."""
    found = report.lines.get(path)
    if found is not None:
        return found
    suffix = "/" + path
    longer = [p for p in report.lines if p.endswith(suffix)]
    if longer:
        return report.lines[min(longer, key=len)]
    shorter = [p for p in report.lines if path.endswith("/" + p)]
    if shorter:
        return report.lines[max(shorter, key=len)]
    return None


@dataclass
class NewCode:
    lines: int  # lines the commit added that the report lists (can run)
    covered: int  # of those, lines with hits
    files: int  # files with added lines found in the report


def new_code(report: Report, mirror: str, sha: str, is_excluded) -> NewCode:
    changes = line_changes(mirror, sha, is_excluded)
    lines = covered = files = 0
    for path, numbers in changes.added.items():
        hits_of = report_file(report, path)
        if hits_of is None:
            continue
        files += 1
        for number in numbers:
            hits = hits_of.get(number)
            if hits is not None:
                lines += 1
                covered += hits > 0
    return NewCode(lines, covered, files)
