"""Runnable examples in the documentation: ```console blocks with `$ ` commands and their output.

Every `$ ` line (with `\\` continuations) runs in bash, in one working directory per document,
against the demo scenario loaded into a local CloudWatch endpoint (the environment points the AWS
SDK at it). The lines after a command, up to the next command or the end of the block, are its
exact stdout; a line `...` stands for any number of lines, and `HH:MM:SS.nnnnnnnnn` for the time
of a Falco alert (the demo's events are relative to now). Set EKSAUDIT_UPDATE_DOCS=1 to rewrite
the documented outputs from what the commands print (then review the diff).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FENCE_RE = re.compile(r"^```(\w*)\s*$")
PLACEHOLDER_RE = re.compile(r"\b[A-Z][A-Z0-9_]{1,}\b|\[|\.\.\.")
TIME_PLACEHOLDER = "HH:MM:SS.nnnnnnnnn"
_FALCO_TIME_RE = re.compile(r"^\d\d:\d\d:\d\d\.\d{9}(?=: )")


def generalise(line: str) -> str:
    """What update mode writes for an output line: Falco alert times become the placeholder."""
    return _FALCO_TIME_RE.sub(TIME_PLACEHOLDER, line)


def line_matches(expected: str, actual: str) -> bool:
    return expected == actual or (TIME_PLACEHOLDER in expected and generalise(actual) == expected)


@dataclass
class Example:
    doc: Path
    line: int  # 1-based line of the `$ ` command in the document
    command: str
    expected: list[str] = field(default_factory=list)
    out_start: int = 0  # 0-based index of the first output line in the document
    out_end: int = 0  # 0-based index after the last output line


def parse(doc: Path) -> tuple[list[Example], list[tuple[int, str]]]:
    """The examples of a document, and the eksaudit command lines found outside console blocks."""
    lines = doc.read_text().splitlines()
    examples: list[Example] = []
    loose: list[tuple[int, str]] = []
    fence: str | None = None
    cur: Example | None = None
    i = 0
    while i < len(lines):
        text = lines[i]
        m = FENCE_RE.match(text)
        if fence is None:
            if m:
                fence = m.group(1)
            i += 1
            continue
        if text.startswith("```"):
            if cur is not None:
                cur.out_end = i
            cur = None
            fence = None
            i += 1
            continue
        if fence == "console":
            if text.startswith("$ "):
                if cur is not None:
                    cur.out_end = i
                start = i
                cmd = text[2:]
                while cmd.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    cmd = cmd[:-1] + " " + lines[i].strip()
                cur = Example(doc, start + 1, cmd.strip(), out_start=i + 1)
                examples.append(cur)
            elif cur is not None:
                cur.expected.append(text)
        elif text.lstrip().startswith("eksaudit "):
            loose.append((i + 1, text.strip()))
        i += 1
    return examples, loose


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """Exact, line by line, where a `...` line matches any run of lines."""
    if "..." not in expected:
        return len(expected) == len(actual) and all(map(line_matches, expected, actual))
    k = expected.index("...")
    head, tail = expected[:k], expected[k + 1 :]
    if len(head) + len(tail) > len(actual) or not output_matches(head, actual[: len(head)]):
        return False
    return output_matches(tail, actual[len(actual) - len(tail) :]) if tail else True


def is_synopsis(line: str) -> bool:
    """A command line outside console blocks must be a synopsis with placeholders (FILE, EXPR, [..])."""
    return bool(PLACEHOLDER_RE.search(line.removeprefix("eksaudit ")))


def rewrite(doc: Path, outputs: dict[int, list[str]], examples: list[Example]) -> None:
    lines = doc.read_text().splitlines()
    for ex in sorted(examples, key=lambda e: e.out_start, reverse=True):
        if ex.line in outputs:
            lines[ex.out_start : ex.out_end] = outputs[ex.line]
    doc.write_text("\n".join(lines) + "\n")
