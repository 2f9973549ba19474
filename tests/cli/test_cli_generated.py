"""Generated files (completions, CLI reference) must match the app, and completion must work."""

from __future__ import annotations

import os
import subprocess
import sys

from eksaudit import docsgen


def test_completions_and_cli_reference_are_current():
    stale = docsgen.stale_files()
    assert stale == [], f"run `make docs` to regenerate: {stale}"


def _complete(words: str) -> list[str]:
    env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - 1), _EKSAUDIT_COMPLETE="complete_bash")
    out = subprocess.run(
        [sys.executable, "-c", "from eksaudit.cli.app import main; main()"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    return out.stdout.split()


def test_bash_completion_of_field_lists():
    got = _complete("eksaudit filter --count-by ka.user.na")
    assert "ka.user.name" in got
    got = _complete("eksaudit filter --fields ka.verb,ka.target.res")
    assert "ka.verb,ka.target.resource" in got


def test_bash_completion_of_field_names_and_rules():
    assert "ka.user.extra[" in _complete("eksaudit fields ka.user.ex")
    assert "eks" in _complete("eksaudit filter -r e")
