"""Every command shown in the docs runs against the demo data and prints the documented result."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from docexamples import generalise, output_matches, parse, rewrite
from support.demoenv import demo_cloudwatch_env

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# docs/cli.md is `--help` text, generated: its examples illustrate options rather than run
GENERATED = {"cli.md"}
UPDATE = os.environ.get("EKSAUDIT_UPDATE_DOCS") == "1"


@pytest.fixture(scope="module")
def demo_env():
    """A local CloudWatch endpoint with the demo scenario, and the environment that points eksaudit at it."""
    with demo_cloudwatch_env(COLUMNS="100") as env:
        yield env


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_commands_outside_console_blocks_are_synopses(doc):
    from docexamples import is_synopsis

    if doc.name in GENERATED:
        pytest.skip(f"{doc.name} is generated from --help")
    _, loose = parse(doc)
    runnable = [f"{doc.name}:{n}: {line}" for n, line in loose if not is_synopsis(line)]
    assert runnable == [], "put runnable examples in ```console blocks with their output"


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_console_examples_print_what_the_docs_say(doc, demo_env, tmp_path):
    examples, _ = parse(doc)
    if not examples:
        pytest.skip(f"{doc.name} has no console examples")
    failures = []
    outputs: dict[int, list[str]] = {}
    for ex in examples:
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", ex.command], cwd=tmp_path, env=demo_env,
            capture_output=True, text=True, timeout=120,
        )
        actual = [ln.rstrip() for ln in proc.stdout.splitlines()]
        outputs[ex.line] = [generalise(ln) for ln in actual]
        if "Traceback" in proc.stderr:
            failures.append(f"{doc.name}:{ex.line}: {ex.command}\n{proc.stderr}")
        elif not output_matches([ln.rstrip() for ln in ex.expected], actual):
            failures.append(
                f"{doc.name}:{ex.line}: {ex.command}\n--- documented\n" + "\n".join(ex.expected)
                + "\n--- printed\n" + "\n".join(actual) + f"\n--- stderr\n{proc.stderr}"
            )
    if UPDATE:
        rewrite(doc, outputs, examples)
    assert not failures, "\n\n".join(failures)
