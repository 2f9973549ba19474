"""`eksaudit filter` as users run it: conditions, inputs, outputs, exit statuses, errors."""

from __future__ import annotations

import gzip
import json

from support.cli import run_eksaudit


def lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln]


def test_matching_events_are_printed_byte_exact(cli, small_log):
    r = cli("filter", "ka.verb=delete and ka.target.resource=secrets", str(small_log))
    assert r.exit_code == 0, r.stderr
    raw = [ln for ln in small_log.read_text().splitlines() if '"verb":"delete"' in ln]
    assert lines(r.stdout) == raw


def test_no_match_exits_1_and_prints_nothing(cli, small_log):
    r = cli("filter", "ka.verb=escalate", str(small_log))
    assert r.exit_code == 1
    assert r.stdout == ""


def test_fields_projection_with_missing_values_and_lists(cli, small_log):
    r = cli("filter", "ka.verb=delete", str(small_log), "--fields", "ka.user.name,eks.user.arn,ka.user.groups")
    assert r.exit_code == 0, r.stderr
    rows = [json.loads(ln) for ln in lines(r.stdout)]
    assert rows == [
        {
            "ka.user.name": "alice",
            "eks.user.arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
            "ka.user.groups": ["system:authenticated"],
        },
        {"ka.user.name": "bob", "eks.user.arn": None, "ka.user.groups": ["system:authenticated"]},
    ]


def test_count_by_largest_first_with_top(cli, small_log):
    r = cli("filter", "ka.verb exists", str(small_log), "--count-by", "ka.user.name", "--top", "1")
    assert r.exit_code == 0, r.stderr
    assert [json.loads(ln) for ln in lines(r.stdout)] == [{"ka.user.name": "alice", "count": 3}]


def test_limit_and_query(cli, small_log):
    r = cli("filter", "ka.verb exists", str(small_log), "--limit", "2", "--query", "verb")
    assert r.exit_code == 0, r.stderr
    assert lines(r.stdout) == ['"get"', '"list"']


def test_response_code_is_numeric_and_textual(cli, small_log):
    numeric = cli("filter", "ka.response.code >= 400", str(small_log), "--fields", "ka.auditid")
    textual = cli("filter", "ka.response.code startswith 4", str(small_log), "--fields", "ka.auditid")
    assert numeric.exit_code == 0 and numeric.stdout == textual.stdout
    assert len(lines(numeric.stdout)) == 1


def test_missing_value_makes_not_equal_false(cli, small_log):
    # cluster-scoped events have no namespace: != is false for them, `not =` is true
    ne = cli("filter", "ka.target.namespace != default", str(small_log), "--fields", "ka.auditid")
    not_eq = cli("filter", "not ka.target.namespace = default", str(small_log), "--fields", "ka.auditid")
    assert len(lines(ne.stdout)) == 3
    assert len(lines(not_eq.stdout)) == 5


def test_expression_error_shows_caret_and_exits_2(cli, small_log):
    r = cli("filter", "ka.verb = delete and", str(small_log))
    assert r.exit_code == 2
    assert "ka.verb = delete and" in r.stderr
    assert "^" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_field_suggests(cli, small_log):
    r = cli("filter", "ka.user.nme = alice", str(small_log))
    assert r.exit_code == 2
    assert "ka.user.name" in r.stderr


def test_missing_condition_is_a_usage_error(cli):
    r = cli("filter")
    assert r.exit_code == 2
    assert "missing condition" in r.stderr


def test_stdin_gzip_and_bad_lines_are_reported_not_fatal(cli, small_log, tmp_path):
    data = small_log.read_bytes()
    gz = tmp_path / "audit.log.gz"
    gz.write_bytes(gzip.compress(data[:200] + b"\n" + data))  # a cut line, then the log
    r = cli("filter", "ka.verb=patch", str(gz), "--fields", "ka.target.name")
    assert r.exit_code == 0
    assert lines(r.stdout) == ['{"ka.target.name":"aws-auth"}']
    assert "audit.log.gz:1" in r.stderr
    strict = cli("filter", "ka.verb=patch", str(gz), "--strict")
    assert strict.exit_code == 2
    r2 = cli("filter", "ka.verb=patch", "-", input=data)
    assert r2.exit_code == 0 and "aws-auth" in r2.stdout


def test_local_time_window_on_stage_timestamp(cli, small_log):
    r = cli(
        "filter", "ka.verb exists", str(small_log), "--start", "2026-11-30T10:00:03Z", "--end", "2026-11-30T10:00:05Z",
        "--fields", "ka.verb",
    )
    assert r.exit_code == 0, r.stderr
    assert lines(r.stdout) == ['{"ka.verb":"delete"}', '{"ka.verb":"create"}']
    assert "window [2026-11-30T10:00:03.000Z, 2026-11-30T10:00:05.000Z)" in r.stderr


def test_quiet_prints_nothing(cli, small_log):
    r = cli("filter", "-q", "ka.verb=delete", str(small_log))
    assert r.exit_code == 0 and r.stdout == ""


def test_table_and_csv(cli, small_log):
    t = cli("filter", "ka.verb=delete", str(small_log), "-o", "table")
    assert t.exit_code == 0 and "db-password" in t.stdout and "alice" in t.stdout
    c = cli("filter", "ka.verb=delete", str(small_log), "-o", "csv", "--fields", "ka.user.name,ka.target.name")
    assert lines(c.stdout) == ["ka.user.name,ka.target.name", "alice,db-password", "bob,old-token"]


def test_rules_from_builtin_eks_ruleset(cli, small_log):
    r = cli("filter", "-r", "eks", str(small_log))
    assert r.exit_code == 0, r.stderr
    assert "aws-auth" in r.stdout
    assert "Events detected" in r.stderr


def test_closed_pipe_ends_quietly_in_a_real_process(small_log):
    big = small_log.read_bytes() * 20000
    import subprocess
    import sys

    p = subprocess.Popen(
        [sys.executable, "-m", "eksaudit", "filter", "ka.verb exists"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stdin is not None
    import threading

    def feed():
        try:
            p.stdin.write(big)
            p.stdin.close()
        except BrokenPipeError:
            pass

    t = threading.Thread(target=feed)
    t.start()
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    rc = p.wait(timeout=60)
    t.join()
    assert first.startswith(b'{"kind":"Event"')
    assert rc == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_real_process_exit_codes(small_log):
    assert run_eksaudit("filter", "ka.verb=delete", str(small_log)).returncode == 0
    assert run_eksaudit("filter", "ka.verb=nothing", str(small_log)).returncode == 1
    bad = run_eksaudit("filter", "ka.verb in (a", str(small_log))
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr
