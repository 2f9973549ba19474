"""`eksaudit fields`: catalogue, descriptions, extraction."""

from __future__ import annotations

import json

from support.cli import run_eksaudit


def test_catalogue_lists_every_namespace(cli):
    r = cli("fields")
    assert r.exit_code == 0
    for name in ("ka.user.name", "ka.user.extra", "eks.user.arn", "cw.ingestion_lag", "jevt.value", "json.value"):
        assert name in r.stdout


def test_catalogue_as_json(cli):
    r = cli("fields", "--json")
    rows = [json.loads(ln) for ln in r.stdout.splitlines()]
    by_name = {row["name"]: row for row in rows}
    assert by_name["ka.user.groups"]["list"] is True
    assert by_name["ka.response.code"]["type"] == "uint64"


def test_extract_fields_from_file(cli, small_log):
    r = cli("fields", "ka.user.name", "ka.verb", str(small_log))
    assert r.exit_code == 0, r.stderr
    rows = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert len(rows) == 8
    assert rows[2] == {"ka.user.name": "alice", "ka.verb": "delete"}


def test_extract_from_stdin_pipe_in_a_real_process(small_log):
    r = run_eksaudit("fields", "ka.target.name", "ka.user.extra[sessionName]", input=small_log.read_bytes())
    assert r.returncode == 0, r.stderr
    rows = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert rows[2] == {"ka.target.name": "db-password", "ka.user.extra[sessionName]": ["alice"]}
    assert rows[1] == {"ka.target.name": None, "ka.user.extra[sessionName]": None}


def test_describe_when_no_input(cli):
    r = cli("fields", "--describe", "ka.user.extra")
    assert r.exit_code == 0
    assert "ka.user.extra" in r.stdout and "list" in r.stdout


def test_unknown_field_is_an_error_with_suggestion_not_a_file(cli):
    r = cli("fields", "ka.user.nam")
    assert r.exit_code == 2
    assert "ka.user.name" in r.stderr


def test_csv_output(cli, small_log):
    r = cli("fields", "ka.verb", "ka.response.code", str(small_log), "-o", "csv")
    assert r.stdout.splitlines()[:2] == ["ka.verb,ka.response.code", "get,200"]
