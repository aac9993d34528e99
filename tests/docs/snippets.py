"""Finding the code blocks of the documentation's Markdown pages, and what each asks of the test.

A block is a fenced block (```` ```python ````). Only Python blocks are run; shell commands, output,
JSON and configuration use another language (``bash``, ``text``, ``json``, ``ini``) and are not.
What the test does with a Python block can be steered by MyST comment lines (never rendered)
directly above its fence::

    % snippet: file=canvas_first_dag.py     the block is a DAG file: written under this name
    % snippet: parse-only (why)             a DAG file that is imported but not run
                                            (several words may share a line)
    % snippet: expect=failed                the DAG run's expected state (default: success)
    % snippet: conftest                     a pytest conftest.py for the page's test blocks
    % snippet: skip (why)                   not run at all; the suite keeps a count of these at zero

A block that defines ``test_*`` functions is a pytest test file: it is run by pytest, in a
subprocess, beside the page's ``conftest`` block if it has one, so fixtures behave exactly as they
do for users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
#: Written by ``make bench``, not by hand: its blocks (if any) are output, not examples.
GENERATED = {"benchmarks.md"}
PYTHON = {"python", "py", "python3"}

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^%\s*snippet:\s*(?P<text>.*)$")
_DAG_HINT = re.compile(r"\bDAG\(|@dag\b")
_TEST_FUNCTION = re.compile(r"^def test_", re.MULTILINE)


@dataclass(frozen=True)
class Snippet:
    """One fenced code block of a page."""

    path: Path
    line: int  # 1-based line of the block's first line of code
    language: str
    code: str
    markers: tuple[str, ...] = field(default=())

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def marker(self, name: str) -> str | None:
        """The value of ``name=value``, ``""`` for a bare ``name``, None when absent.

        A marker line holds one or more such words; text in parentheses is a comment.
        """
        for text in self.markers:
            for word in re.sub(r"\([^)]*\)", " ", text).split():
                key, equals, value = word.partition("=")
                if key == name:
                    return value if equals else ""
        return None

    @property
    def skipped(self) -> bool:
        return self.marker("skip") is not None

    @property
    def is_dag_file(self) -> bool:
        """A block that defines a DAG is a whole DAG file: it must run on its own, as users copy it."""
        return self.marker("file") is not None or bool(_DAG_HINT.search(self.code))

    @property
    def is_conftest(self) -> bool:
        return self.marker("conftest") is not None

    @property
    def is_test_file(self) -> bool:
        return bool(_TEST_FUNCTION.search(self.code))

    def module_name(self) -> str:
        given = self.marker("file")
        if given:
            return given.removesuffix(".py")
        return f"docs_{self.path.stem.replace('-', '_')}_{self.line}"

    def compiled_source(self) -> str:
        """The code, pushed down to its line in the page so that tracebacks point into the page."""
        return "\n" * (self.line - 1) + self.code


def language_of(info: str) -> str:
    """The language of a fence's info string: ``python``, ``{code-block} python`` → ``python``."""
    words = info.strip().split()
    if not words:
        return ""
    if words[0] in ("{code-block}", "{code}", "{sourcecode}") and len(words) > 1:
        return words[1].lower()
    return words[0].lower()


def extract(path: Path) -> list[Snippet]:
    """Every top-level fenced block of a Markdown page, in order, with the markers above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    snippets: list[Snippet] = []
    pending: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = _MARKER.match(line)
        if marker:
            pending.append(marker.group("text").strip())
            index += 1
            continue
        opening = _FENCE.match(line)
        if not opening:
            if line.strip():
                pending = []
            index += 1
            continue
        fence = opening.group("fence")
        body: list[str] = []
        index += 1
        start = index + 1  # 1-based line of the first line of code
        while index < len(lines):
            closing = lines[index].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[index])
            index += 1
        info = opening.group("info")
        snippets.append(Snippet(path, start, language_of(info), "\n".join(body) + "\n", tuple(pending)))
        pending = []
        index += 1
    return snippets


def pages() -> list[Path]:
    """The hand-written pages of the documentation site, and the README."""
    return [*sorted(p for p in DOCS.glob("*.md") if p.name not in GENERATED), ROOT / "README.md"]
