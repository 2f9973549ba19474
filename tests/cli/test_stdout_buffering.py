"""Output is block-buffered even under PYTHONUNBUFFERED=1 / `python -u` (common in container
images), where each line would otherwise be a system call; the buffer is flushed at exit and the
Console still flushes each line where people watch (a terminal, `watch`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SMALL = Path(__file__).resolve().parent.parent / "data" / "small-audit.jsonl"
_CODE = ("import sys; from eksaudit.cli import app; app._buffer_stdout(); "
         "print(type(sys.stdout.buffer).__name__, sys.stdout.buffer.raw.closefd); print('last')")


def test_an_unbuffered_interpreter_gets_a_buffer_that_is_flushed_at_exit() -> None:
    res = subprocess.run([sys.executable, "-u", "-c", _CODE], capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["BufferedWriter False", "last"]
    assert res.stderr == ""


def test_the_output_is_the_same_with_and_without_pythonunbuffered() -> None:
    args = [sys.executable, "-m", "eksaudit", "filter", "-r", "eks", str(SMALL), "-o", "falco", "--jobs", "1"]
    env = dict(os.environ)
    outs = []
    for unbuffered in ("1", None):
        if unbuffered is None:
            env.pop("PYTHONUNBUFFERED", None)
        else:
            env["PYTHONUNBUFFERED"] = unbuffered
        res = subprocess.run(args, capture_output=True, timeout=120, check=False, env=env)
        outs.append((res.returncode, res.stdout, res.stderr))
    assert outs[0] == outs[1]
    assert outs[0][1]


def test_a_closed_pipe_after_a_few_lines_is_quiet() -> None:
    args = [sys.executable, "-u", "-m", "eksaudit", "filter", "ka.verb exists", str(SMALL), "--jobs", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_on_a_terminal_printed_lines_come_at_once() -> None:
    """Text printed through sys.stdout on a terminal (help, the demo) is line-buffered, as Python's
    default is: a line shows before the program goes on (here: waits for its stdin to close)."""
    import pty
    import select

    master, slave = pty.openpty()
    code = ("import sys; from eksaudit.cli import app; app._buffer_stdout(); "
            "print('first line'); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=slave, stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    os.close(slave)
    try:
        seen = b""
        while b"first line" not in seen:
            ready, _, _ = select.select([master], [], [], 30)  # a buffered line would never come
            assert ready, f"no line on the terminal while the program runs (got {seen!r})"
            chunk = os.read(master, 1024)
            assert chunk, "the terminal closed before the line came"
            seen += chunk
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
        os.close(master)
    assert proc.returncode == 0
