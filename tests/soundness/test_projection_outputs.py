"""Every output format prints the same with projection decoding as without it (`PROJECTING` off).

A sink says which JSON paths printing reads (`Sink.reads`, output/sink.py); when it says so, the
scan keeps the partial object on matched events. Each format is run as a user runs it, in a real
process, once with the switch on and once off, on plain lines (projected) and re-spelled ones.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from soundness_kit import demo_events
from support.respell import respell_file

_PRELUDE = ("import sys, eksaudit.events.projection as p; p.PROJECTING = sys.argv.pop(1) == '1'; "
            "from eksaudit.cli.app import main; sys.argv[0] = 'eksaudit'; main()")
_RULES = """
- rule: Pod written
  desc: d
  condition: ka.verb in (create, patch) and ka.target.resource=pods
  output: pod %ka.target.namespace/%ka.target.name by %ka.user.name (%ka.useragent)
  priority: NOTICE
  source: k8s_audit
"""
CASES = [
    ["-o", "jsonl"], ["-o", "cw"], ["-o", "csv"], ["-o", "table"], ["--count-by", "ka.user.name"],
    ["--count-by", "ka.user.name", "-o", "csv"], ["--fields", "ka.useragent,ka.target.name"],
    ["-o", "jsonl", "--query", "{u: user.username, t: stageTimestamp}"], ["-o", "cw", "--query", "message"],
    ["-q"], ["--limit", "3", "-o", "cw"],
]


def _run(on: bool, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PRELUDE, "1" if on else "0", *args],
                          capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = random.Random(8)
    pool = demo_events()
    data = b"".join(orjson.dumps(e) + b"\n" if i % 3 else respell_file([e], rng, bom=False)
                    for i, e in enumerate(pool))
    path = tmp_path_factory.mktemp("proj") / "audit.jsonl"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", CASES, ids=lambda c: " ".join(c))
def test_a_condition_prints_the_same_in_every_format(log: Path, fmt: list[str]) -> None:
    args = ["filter", "--jobs", "1", "ka.verb in (create, patch, update)", str(log), *fmt]
    on, off = _run(True, args), _run(False, args)
    assert (on.returncode, on.stdout, on.stderr) == (off.returncode, off.stdout, off.stderr)
    assert on.returncode == 0 and (on.stdout or "-q" in fmt)


@pytest.mark.parametrize("fmt", [["-o", "falco"], ["-o", "falco-json"], ["-o", "jsonl"], ["-o", "cw"],
                                 ["--count-by", "ka.user.name"]], ids=lambda c: " ".join(c))
def test_rules_print_the_same_in_every_format(log: Path, tmp_path: Path, fmt: list[str]) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(_RULES)
    args = ["filter", "--jobs", "1", "-r", str(rules), str(log), *fmt]
    on, off = _run(True, args), _run(False, args)
    assert (on.returncode, on.stdout, on.stderr) == (off.returncode, off.stdout, off.stderr)
    assert on.returncode == 0 and on.stdout


def test_fields_command_prints_the_same(log: Path) -> None:
    for fmt in (["-o", "jsonl"], ["-o", "csv"], ["-o", "cw"]):
        args = ["fields", "--jobs", "1", "ka.user.name", "ka.response.code", str(log), *fmt]
        on, off = _run(True, args), _run(False, args)
        assert (on.returncode, on.stdout, on.stderr) == (off.returncode, off.stdout, off.stderr), fmt
