"""The Python examples of docs/library.md run, in order, and print what the document says.

Blocks run in document order in one working directory: ```console commands in bash (they fetch the
demo data, as a reader would), ```python blocks in one shared namespace, with the environment
pointing the AWS SDK at the demo's local CloudWatch endpoint. A ```text block right after a python
block is that block's exact stdout (`...` matches any run of lines, as in the console examples).
EKSAUDIT_UPDATE_DOCS=1 rewrites those outputs from what the code prints (review the diff).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from docexamples import output_matches
from support.demoenv import demo_cloudwatch_env

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "docs" / "library.md"
UPDATE = os.environ.get("EKSAUDIT_UPDATE_DOCS") == "1"
FENCE = re.compile(r"^```(\w*)\s*$")


@pytest.fixture(scope="module")
def demo_env():
    """The demo scenario in a local CloudWatch endpoint, and the environment that points eksaudit at it.

    moto keeps its state per process: the endpoint is reset first, so a scenario another test
    module loaded in this process is not read twice.
    """
    with demo_cloudwatch_env() as env:
        yield env


@dataclass
class Block:
    lang: str
    line: int  # 1-based line of the opening fence
    text: list[str]
    start: int  # 0-based index of the first content line
    end: int  # 0-based index of the closing fence
    output: Block | None = field(default=None, repr=False)


def blocks(doc: Path) -> list[Block]:
    """The fenced blocks of a document; a text block right after a python block becomes its output."""
    lines = doc.read_text().splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        b = Block(m.group(1), i + 1, lines[i + 1 : j], i + 1, j)
        prev = out[-1] if out else None
        between = lines[prev.end + 1 : i] if prev is not None else []
        if b.lang == "text" and prev is not None and prev.lang == "python" and not any(s.strip() for s in between):
            prev.output = b
        else:
            out.append(b)
        i = j + 1
    return out


def test_the_document_has_python_examples_with_outputs():
    bs = [b for b in blocks(LIBRARY) if b.lang == "python"]
    assert len(bs) >= 6
    assert sum(b.output is not None for b in bs) >= 5


def test_every_export_is_documented():
    import eksaudit

    text = LIBRARY.read_text()
    missing = [name for name in eksaudit.__all__ if f"`{name}" not in text]
    assert missing == []


@pytest.mark.slow
def test_python_examples_print_what_the_document_says(demo_env, tmp_path, monkeypatch):
    for k in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(k)
    for k, v in demo_env.items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": "__doc_example__"}
    failures, updates = [], {}
    for b in blocks(LIBRARY):
        if b.lang == "console":
            for cmd in (ln[2:] for ln in b.text if ln.startswith("$ ")):
                proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=tmp_path, env=demo_env,
                                      capture_output=True, text=True, timeout=120)
                assert proc.returncode == 0, f"library.md:{b.line}: {cmd}\n{proc.stderr}"
            continue
        if b.lang != "python":
            continue
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(compile("\n".join(b.text) + "\n", f"library.md:{b.line}", "exec"), ns)  # noqa: S102
        actual = [ln.rstrip() for ln in buf.getvalue().splitlines()]
        if b.output is None:
            continue
        updates[b.output.start] = (b.output.end, actual)
        if not output_matches([ln.rstrip() for ln in b.output.text], actual):
            failures.append(f"library.md:{b.line}\n--- documented\n" + "\n".join(b.output.text)
                            + "\n--- printed\n" + "\n".join(actual))
    if UPDATE and updates:
        lines = LIBRARY.read_text().splitlines()
        for start in sorted(updates, reverse=True):
            end, actual = updates[start]
            lines[start:end] = actual
        LIBRARY.write_text("\n".join(lines) + "\n")
    assert not failures, "\n\n".join(failures)
