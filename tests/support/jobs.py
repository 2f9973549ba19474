"""Run `eksaudit` in-process with a chosen `--jobs` and chunk size (small chunks: many workers' tasks)."""

from __future__ import annotations

from typer.testing import CliRunner

import eksaudit.parallel as parallel
from eksaudit.cli.app import app

RUNNER = CliRunner()


def run_jobs(args: list[str], jobs: int, chunk: int, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """(exit status, stdout, stderr) of `eksaudit ARGS --jobs JOBS` with chunks of `chunk` bytes."""
    saved = parallel.CHUNK_BYTES
    parallel.CHUNK_BYTES = chunk
    try:
        r = RUNNER.invoke(app, [*args, "--jobs", str(jobs)], input=stdin, prog_name="eksaudit", color=False)
    finally:
        parallel.CHUNK_BYTES = saved
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout_bytes, r.stderr_bytes
