"""eksaudit in a real terminal (tmux), checked as a person would see it.

* `filter -o table` on a terminal: an aligned table, coloured by default; no colour with NO_COLOR=1
  or `--color never`; piped (`| cat -v`) not a single escape byte.
* `fetch` long enough to watch (pages capped by the fault proxy, `--max-rps` low): the progress line
  shows on the terminal while it runs and is erased at the end; with stdout redirected the file
  holds only audit events; with `2>err.txt` the file gets no progress line; Ctrl-C exits 130.
* `watch -r eks` over the demo scenario: Ctrl-C prints the rules summary on the terminal and the
  status is 130, also when stdout is piped into `cat` (which gets the same Ctrl-C).

Each test has its own tmux server (tests/terminal/tmuxdrive.py) and kills it at the end.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.faultproxy import FaultProxy
from support.moto import audit_message, create_group, logs_client, put_events
from tmuxdrive import Result, Terminal, strip_ansi, tmux_available

from eksaudit.demo.loader import load_to_cloudwatch, local_client
from eksaudit.demo.scenario import build_scenario

pytestmark = pytest.mark.skipif(
    not tmux_available(), reason="tmux is not installed (e.g. apt-get install tmux): these tests drive a real terminal"
)

EKSAUDIT = f"{shlex.quote(sys.executable)} -m eksaudit"
SMALL_LOG = Path(__file__).resolve().parent.parent / "data" / "small-audit.jsonl"
GROUP = "/aws/eks/demo/cluster"
PROGRESS = re.compile(r"eksaudit: [\d,]+ events, [\d,]+ pages, [\d,]+ ev/s")


def styled(lines: list[str]) -> list[str]:
    """The lines that carry a real style (colour/bold), not just the resets tmux adds (0, 39, 49)."""
    out = []
    for line in lines:
        codes = re.findall(r"\x1b\[([0-9;]*)m", line)
        if any(c for code in codes for c in code.split(";") if c not in ("", "0", "39", "49")):
            out.append(line)
    return out


def aws_env(tmp_path: Path, endpoint: str) -> dict[str, str | None]:
    """Fake credentials and the local endpoint; nothing from the developer's AWS setup."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
        "AWS_DEFAULT_REGION": None,
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": None,
    }


@pytest.fixture
def term(tmp_path: Path) -> Iterator[Terminal]:
    with Terminal(cwd=tmp_path) as t:
        yield t


# ---- 1. table and colour ---------------------------------------------------------------------


def column_spans(separator: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"-+", separator)]


def assert_aligned_table(lines: list[str]) -> list[list[str]]:
    """Header, dashes, rows: every cell inside its column, gaps blank; returns the cells by row."""
    plain = [strip_ansi(line).rstrip() for line in lines if strip_ansi(line).strip()]
    assert len(plain) >= 3, plain
    header, sep, rows = plain[0], plain[1], plain[2:]
    assert set(sep) <= {"-", " "}, f"second line is not the dashes under the header: {sep!r}"
    spans = column_spans(sep)
    for line in [header, *rows]:
        assert len(line) <= spans[-1][1], f"line runs past the last column: {line!r}"
        covered = {i for a, b in spans for i in range(a, b)}
        stray = [i for i, ch in enumerate(line) if ch != " " and i not in covered]
        assert not stray, f"text between columns at {stray[:3]} in {line!r}"
    cells = []
    for line in [header, *rows]:
        row = []
        for a, b in spans:
            cell = line[a:b]
            if cell.strip():
                # left- or right-aligned in its column, never drifting
                assert cell[0] != " " or len(cell.rstrip()) == b - a, (cell, line)
            row.append(cell.strip())
        cells.append(row)
    return cells


def small_log_events() -> list[dict]:
    return [json.loads(line) for line in SMALL_LOG.read_text().splitlines() if line.strip()]


def filter_table(extra: str = "") -> str:
    return f"{EKSAUDIT} filter 'ka.verb exists' {shlex.quote(str(SMALL_LOG))} -o table{extra}"


def test_table_on_terminal_is_aligned_and_coloured(term: Terminal) -> None:
    r = term.run(filter_table())
    assert r.status == 0, r.plain
    cells = assert_aligned_table(r.lines)
    assert cells[0] == ["time", "user", "verb", "resource", "namespace/name", "code"]
    events = small_log_events()
    assert [row[2] for row in cells[1:]] == [e["verb"] for e in events]
    assert [row[1] for row in cells[1:]] == [e["user"]["username"] for e in events]
    assert [row[5] for row in cells[1:]] == [str(e["responseStatus"]["code"]) for e in events]
    assert styled(r.lines), "no colour or bold on a terminal with --color auto (the default):\n" + "\n".join(r.lines)


@pytest.mark.parametrize("how", ["NO_COLOR=1", "--color never"])
def test_table_without_colour_when_asked(term: Terminal, how: str) -> None:
    command = f"NO_COLOR=1 {filter_table()}" if how == "NO_COLOR=1" else filter_table(" --color never")
    r = term.run(command)
    assert r.status == 0, r.plain
    assert_aligned_table(r.lines)
    assert not styled(r.lines), f"colour despite {how}:\n" + "\n".join(map(repr, r.lines))


def test_table_piped_has_no_escape_bytes(term: Terminal, tmp_path: Path) -> None:
    # `cat -v` shows an ESC byte as ^[ ; the copy in a file is checked byte by byte too
    r = term.run(f"{filter_table()} | tee piped.txt | cat -v", status="${PIPESTATUS[0]}")
    assert r.status == 0, r.plain
    assert not any("^[" in line for line in r.plain), r.plain
    assert b"\x1b" not in (tmp_path / "piped.txt").read_bytes()
    assert_aligned_table(r.lines)
    # the check can see escapes: forced colour through the same pipe shows them
    forced = term.run(f"{filter_table(' --color always')} | cat -v", status="${PIPESTATUS[0]}")
    assert forced.status == 0 and any("^[[" in line for line in forced.plain), forced.plain


def test_fields_describes_on_a_terminal_and_extracts_from_a_pipe(term: Terminal) -> None:
    # cli.md: with FIELD(s), events come in when stdin is not a terminal; otherwise it describes them
    described = term.run(f"{EKSAUDIT} fields ka.verb")
    assert described.status == 0, described.plain
    assert described.plain[0] == "ka.verb" and any("JSON path: verb" in line for line in described.plain)
    piped = term.run(f"head -2 {shlex.quote(str(SMALL_LOG))} | {EKSAUDIT} fields ka.verb", status="${PIPESTATUS[1]}")
    assert piped.status == 0, piped.plain
    assert [json.loads(line) for line in piped.plain] == [{"ka.verb": e["verb"]} for e in small_log_events()[:2]]


def test_filter_reading_the_terminal_ends_130_with_summary_on_ctrl_c(term: Terminal) -> None:
    # no file: it reads the terminal, like grep; the person pastes one event, sees its alert, gives up
    aws_auth = next(line for line in SMALL_LOG.read_text().splitlines() if '"aws-auth"' in line)
    term.type(f"{EKSAUDIT} filter -r eks")
    term.type(aws_auth)
    term.wait_for("aws-auth ConfigMap changed")  # printed by eksaudit itself: it is running and reading
    term.press("C-c")
    term.wait_prompt()
    r = term.status_of_last()
    screen = term.screen(escapes=False)
    assert r.status == 130, screen
    assert "Traceback" not in screen, screen
    assert re.search(r"^(\^C)?Events detected: 1$", screen, re.M), screen


# ---- 2. progress line during a long fetch -----------------------------------------------------

FETCH_EVENTS = 1000


@pytest.fixture
def slow_fetch(moto_endpoint: str, tmp_path: Path) -> Iterator[tuple[Terminal, str]]:
    """A terminal and a fetch command that lasts a few seconds (100-event pages, --max-rps 5)."""
    client = logs_client(moto_endpoint)
    create_group(client, GROUP, ["kube-apiserver-audit-a", "kube-apiserver-audit-b"])
    end = int(time.time() * 1000) // 1000 * 1000 - 60_000
    start = end - 20 * 60_000
    step = (end - start) // FETCH_EVENTS
    events = [(start + i * step, audit_message(i, start + i * step)) for i in range(FETCH_EVENTS)]
    put_events(client, GROUP, "kube-apiserver-audit-a", events[0::2])
    put_events(client, GROUP, "kube-apiserver-audit-b", events[1::2])
    with FaultProxy(moto_endpoint, upstream_limit=100) as proxy, \
            Terminal(cwd=tmp_path, env=aws_env(tmp_path, proxy.endpoint)) as t:
        yield t, f"{EKSAUDIT} fetch --cluster demo --start {start} --end {end} --max-rps 5"


def audit_ids(path: Path) -> list[str]:
    ids = []
    for line in path.read_bytes().split(b"\n"):
        if not line:
            continue
        ev = json.loads(line)  # a progress fragment or any other text would not parse
        assert ev["kind"] == "Event", line[:200]
        ids.append(ev["auditID"])
    return ids


@pytest.mark.slow
def test_fetch_progress_on_terminal_while_data_goes_to_file(slow_fetch: tuple[Terminal, str], tmp_path: Path) -> None:
    t, fetch = slow_fetch
    n = t.run_start(f"{fetch} > out.jsonl")
    # seen while it runs: the command has not printed its end marker yet
    seen = t.wait_until(lambda s: PROGRESS.search(s) is not None or t.finished(n, s), timeout=30,
                        what="a progress line")
    assert not t.finished(n, seen), "the fetch ended before any progress line was drawn:\n" + seen
    r = t.run_end(n, timeout=60)
    assert r.status == 0, r.plain
    ids = audit_ids(tmp_path / "out.jsonl")
    assert len(ids) == FETCH_EVENTS and len(set(ids)) == FETCH_EVENTS
    # at the end the progress line is erased; the window line stays
    assert not any(PROGRESS.search(line) for line in r.plain), r.plain
    assert any(line.startswith("eksaudit: window [") for line in r.plain), r.plain


@pytest.mark.slow
def test_fetch_stderr_to_file_gets_no_progress_line(slow_fetch: tuple[Terminal, str], tmp_path: Path) -> None:
    t, fetch = slow_fetch
    r = t.run(f"{fetch} > out.jsonl 2> err.txt", timeout=60)
    assert r.status == 0, r.plain
    assert len(audit_ids(tmp_path / "out.jsonl")) == FETCH_EVENTS
    err = (tmp_path / "err.txt").read_text()
    assert "\r" not in err and "\x1b" not in err, repr(err)
    assert not PROGRESS.search(err), err
    assert "Traceback" not in err, err


@pytest.mark.slow
def test_fetch_to_the_terminal_keeps_data_lines_clean_of_progress(slow_fetch: tuple[Terminal, str]) -> None:
    t, fetch = slow_fetch
    r = t.run(f"{fetch} --fields ka.auditid", timeout=60)
    assert r.status == 0, r.plain
    data = [line for line in r.plain if '"ka.auditid"' in line]
    glued = [line for line in data if not line.startswith("{")]
    assert not glued, f"{len(glued)} data lines start with other text, e.g. {glued[0]!r}"
    assert len({json.loads(line)["ka.auditid"] for line in data}) == FETCH_EVENTS


@pytest.mark.slow
def test_fetch_ctrl_c_exits_130_without_traceback(slow_fetch: tuple[Terminal, str], tmp_path: Path) -> None:
    t, fetch = slow_fetch
    t.type(f"{fetch} > out.jsonl")
    t.wait_until(lambda s: PROGRESS.search(s) is not None, timeout=30, what="a progress line")
    t.press("C-c")
    t.wait_prompt(timeout=20)
    r = t.status_of_last()
    screen = t.screen(escapes=False)
    assert r.status == 130, screen
    assert "Traceback" not in screen, screen
    audit_ids(tmp_path / "out.jsonl")  # what was written before Ctrl-C is whole events only


# ---- 3. Ctrl-C during watch -r eks ------------------------------------------------------------


@pytest.fixture
def demo_terminal(moto_endpoint: str, tmp_path: Path) -> Iterator[Terminal]:
    """The demo scenario (attack included, less normal traffic) in moto, and a terminal pointing at it."""
    scenario = build_scenario(total=3000)
    load_to_cloudwatch(local_client(moto_endpoint), scenario.log_group, scenario.by_stream())
    with Terminal(cwd=tmp_path, env=aws_env(tmp_path, moto_endpoint)) as t:
        yield t


def interrupt_watch(t: Terminal, pipe: str) -> tuple[Result, str, str]:
    """Start `watch -r eks`, wait for the attack's last alert, press Ctrl-C; (status, screen, raw screen)."""
    t.type(f"{EKSAUDIT} watch --cluster demo --since 2h -r eks --poll 0.2{pipe}")
    t.wait_for("aws-auth ConfigMap changed", timeout=30)
    raw_before = t.screen(escapes=True)
    t.press("C-c")
    t.wait_prompt(timeout=20)
    r = t.status_of_last(status="${PIPESTATUS[0]}")
    return r, t.screen(escapes=False), raw_before


def assert_summary(screen: str) -> None:
    assert "Traceback" not in screen, screen
    after = screen.split("aws-auth ConfigMap changed", 1)[1]
    m = re.search(r"^Events detected: (\d+)$", after, re.M)
    assert m, "no rules summary after Ctrl-C:\n" + screen
    assert int(m.group(1)) >= 7  # the seven attack steps each raise at least one alert
    assert "Rule counts by severity:" in after and "Triggered rules by rule name:" in after
    assert re.search(r"^\s+EKS aws-auth ConfigMap Modified: 1$", after, re.M), after


@pytest.mark.slow
def test_watch_ctrl_c_prints_summary_and_exits_130(demo_terminal: Terminal) -> None:
    r, screen, raw = interrupt_watch(demo_terminal, "")
    assert r.status == 130, screen
    assert_summary(screen)
    alert = next(line for line in raw.splitlines() if "aws-auth ConfigMap changed" in line)
    assert styled([alert]), f"falco alert not coloured on a terminal: {alert!r}"


@pytest.mark.slow
def test_watch_piped_into_cat_ctrl_c_prints_summary_and_exits_130(demo_terminal: Terminal) -> None:
    r, screen, raw = interrupt_watch(demo_terminal, " | cat")
    assert r.status == 130, screen
    assert_summary(screen)
    alert = next(line for line in raw.splitlines() if "aws-auth ConfigMap changed" in line)
    assert not styled([alert]), f"colour written into a pipe: {alert!r}"
