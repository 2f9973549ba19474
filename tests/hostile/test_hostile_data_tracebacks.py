"""Finding 7: hostile CLI situations give one line on stderr and the right status, never a traceback.

Exit 1 means "nothing matched", so an error must never end with it either.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksaudit.cli.app import app

SMALL = str(Path(__file__).resolve().parent.parent / "data" / "small-audit.jsonl")
PY = shlex.quote(sys.executable)


def sh(script: str) -> subprocess.CompletedProcess:
    """Run eksaudit (as `E`) in a shell, for redirections such as `<&-` and `>/dev/full`."""
    return subprocess.run(["/bin/sh", "-c", script.replace("E ", f"{PY} -m eksaudit ")],
                          capture_output=True, timeout=120, cwd=os.getcwd())


def one_error_line(stderr: bytes, *needles: str) -> None:
    text = stderr.decode()
    assert "Traceback" not in text, text
    errors = [ln for ln in text.splitlines() if ln.startswith("eksaudit: error: ")]
    assert len(errors) == 1, text
    for n in needles:
        assert n in errors[0], text


def test_closed_stdin():
    r = sh("E filter ka.verb=get <&-")
    assert r.returncode == 2
    one_error_line(r.stderr, "<stdin>", "standard input is closed")
    r = sh("E fields ka.verb <&-")  # no input can come in: the field is described
    assert r.returncode == 0 and b"JSON path: verb" in r.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [
    f"filter 'ka.verb exists' {SMALL}",
    f"filter 'ka.verb exists' {SMALL} -o table",
    f"filter -r eks {SMALL}",
    f"filter 'ka.verb exists' {SMALL} --count-by ka.verb",
    f"fields ka.verb {SMALL}",
    "fields",
])
def test_output_to_a_full_disk(args):
    r = sh(f"E {args} >/dev/full")
    assert r.returncode == 2
    one_error_line(r.stderr, "cannot write output: No space left on device")


def test_closed_stdout():
    r = sh(f"E filter ka.verb=get {SMALL} >&-")
    assert r.returncode == 2
    one_error_line(r.stderr, "cannot write output: standard output is closed")
    assert sh(f"E filter ka.verb=get {SMALL} >&- 2>&-").returncode == 2


def run(*args: str):
    return CliRunner().invoke(app, list(args), prog_name="eksaudit")


@pytest.mark.parametrize("args,needle", [
    (["--since", "99999999999w"], "invalid duration '99999999999w'"),
    (["--since", "9" * 40 + "s"], "invalid duration"),
    (["--since", "3000w"], "reaches back before 1970-01-01"),
    (["--end", "-99999999999w"], "invalid duration"),
    (["--start", "0001-01-01T00:00:00+14:00"], "outside the supported range"),
    (["--query", "[" * 5000 + "]" * 5000], "nested too deeply"),
    (["--max-memory", "0"], "invalid --max-memory"),
    (["--max-line-bytes", "1e999"], "invalid --max-line-bytes"),
])
def test_hostile_option_values(args, needle):
    r = run("filter", "ka.verb exists", SMALL, *args)
    assert r.exit_code == 2, (r.exit_code, r.stderr)
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.exception
    one_error_line(r.stderr.encode(), needle)


@pytest.mark.parametrize("cmd", [["fetch", "--cluster", "c"], ["watch", "--cluster", "c"]])
def test_hostile_since_on_cloudwatch_commands(cmd):
    r = run(*cmd, "--since", "99999999999w", "--endpoint-url", "http://127.0.0.1:9", "--region", "us-east-1")
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit)
    one_error_line(r.stderr.encode(), "invalid duration")


def test_huge_limit_and_top_are_fine_also_when_counts_spill():
    r = run("filter", "ka.verb exists", SMALL, "--limit", "9" * 40)
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 8
    want = run("filter", "ka.verb exists", SMALL, "--count-by", "ka.verb").stdout
    r = run("filter", "ka.verb exists", SMALL, "--count-by", "ka.verb", "--top", "9" * 40, "--max-memory", "1K")
    assert r.exit_code == 0 and r.stdout == want  # SQLite's LIMIT takes no more than 64 bits
    r = run("filter", "ka.verb exists", SMALL, "--count-by", "ka.verb", "--top", "-1")
    assert r.exit_code == 2 and "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [
    ["filter", "ka.verb=get", "a\x00b"],
    ["fields", "ka.verb", "a\x00b"],
    ["filter", "-r", "/tmp/rules\x00.yaml", SMALL],
])
def test_nul_bytes_in_file_names(args):
    r = run(*args)
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.exception
    one_error_line(r.stderr.encode(), "NUL byte")
