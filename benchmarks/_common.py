"""Helpers shared by the benchmark scripts: test data, timing a shell command with its peak memory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
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


def events_file(n: int, seed: int = 1) -> Path:
    """A JSON-lines file of `n` generated EKS audit events, made once and cached in bench-data/.

    The cache key includes a hash of the generator's source, so a changed generator makes new data.
    """
    import hashlib

    import eksaudit.demo.generator as gen

    DATA.mkdir(exist_ok=True)
    version = hashlib.sha1(Path(gen.__file__).read_bytes()).hexdigest()[:8]
    path = DATA / f"events-{n}-{seed}-{version}.jsonl"
    if not path.exists():
        for old in DATA.glob(f"events-{n}-{seed}*.jsonl"):
            old.unlink()
        from eksaudit.demo.generator import write_jsonl

        tmp = path.with_suffix(".tmp")
        t0 = time.perf_counter()
        write_jsonl(tmp, n, seed=seed)
        tmp.rename(path)
        print(f"generated {n} events ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s")
    return path


# A small process that starts the measured command and reports its peak memory. Without it the
# command would be forked from this (large) benchmark process, and the memory it had before exec
# would count as the command's own peak.
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "_, status, ru = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(ru.ru_maxrss))\n"
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
