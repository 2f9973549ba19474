"""`eksaudit demo` end to end, `--serve`, the step runner, and the message when moto is missing."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from eksaudit.cli.app import app
from eksaudit.demo import tour
from eksaudit.demo.loader import local_client
from eksaudit.demo.scenario import ATTACKER_IP, ATTACKER_SESSION, SCENARIO


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path), NO_COLOR="1")
    proc = subprocess.run([sys.executable, "-m", "eksaudit", "demo"], capture_output=True, text=True, env=env, timeout=120)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr + out
    commands = [line for line in out.splitlines() if line.startswith("$ ")]
    assert len(commands) == 5
    assert commands[0].startswith("$ eksaudit fetch --cluster demo --endpoint-url http://127.0.0.1:")
    assert "--since 2h" in commands[0] and "--count-by ka.verb --top 5" in commands[0]
    assert any(" | eksaudit filter " in c for c in commands)
    assert any(c.startswith("$ eksaudit watch ") and "--until now" in c and "-r eks" in c for c in commands)
    for step in tour.demo_steps("http://x"):
        assert f"# {step.title}" in out
    assert "(exit status" not in out
    # the attacker is found: anonymous probing, the pivot table, the role's sessions, and the rules
    assert re.search(rf"{re.escape(ATTACKER_IP)}\s+403\s+13", out)
    assert re.search(rf"{ATTACKER_SESSION}\s+{re.escape(ATTACKER_IP)}\s+15", out)
    assert SCENARIO["targets"]["exec_pod"] in out
    assert "eks-maintenance-admin" in out and "kube-system/node-debugger" in out
    assert "Events detected: 7" in out
    assert "Triggered rules by rule name:" in out
    assert "the local endpoint is stopped" in out
    assert list(tmp_path.iterdir()) == []  # the temporary directory is gone


def test_serve_loads_and_prints_how_to_connect():
    out = io.StringIO()
    seen: dict[str, int] = {}

    def wait() -> None:
        text = out.getvalue()
        endpoint = re.search(r"--endpoint-url (http://127\.0\.0\.1:\d+)", text).group(1)
        client = local_client(endpoint)
        streams = client.describe_log_streams(logGroupName=SCENARIO["log_group"])["logStreams"]
        seen["streams"] = len(streams)
        page = client.filter_log_events(logGroupName=SCENARIO["log_group"], logStreamNamePrefix="kube-apiserver-audit",
                                        limit=50)
        seen["events"] = len(page["events"])
        raise KeyboardInterrupt  # what Ctrl-C does

    tour.serve(out, wait=wait)
    text = out.getvalue()
    assert seen == {"streams": 5, "events": 50}
    assert "--region us-east-1" in text and "eksaudit fetch --cluster demo --endpoint-url http://127.0.0.1:" in text
    assert "Press Ctrl-C to stop." in text and text.rstrip().endswith("Stopping the local endpoint.")


def test_run_pipeline_streams_output_and_reports_status(tmp_path):
    env = tour.child_env()
    out = io.StringIO()
    data = tmp_path / "in.jsonl"
    data.write_text('{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","auditID":"a"}\n')
    assert tour.run_pipeline([["filter", "ka.verb=get", str(data)]], out, cwd=str(tmp_path), env=env) == 0
    assert '"auditID":"a"' in out.getvalue()
    out = io.StringIO()
    status = tour.run_pipeline([["filter", "ka.verb=get", str(data)], ["filter", "ka.verb=delete"]], out,
                               cwd=str(tmp_path), env=env)
    assert status == 1  # nothing matched in the last command
    out = io.StringIO()
    assert tour.run_pipeline([["filter", "ka.verb=", str(data)]], out, cwd=str(tmp_path), env=env) == 2
    assert "error" in out.getvalue()


def test_command_line_quotes_like_a_shell():
    line = tour.command_line([["fetch", "--since", "2h"], ["filter", "ka.user.name != system:anonymous"]])
    assert line == "eksaudit fetch --since 2h | eksaudit filter 'ka.user.name != system:anonymous'"


def test_child_env_never_uses_the_users_aws_setup(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "prod")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.com")
    env = tour.child_env()
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env and "AWS_ENDPOINT_URL" not in env
    assert env["AWS_REGION"] == "us-east-1" and env["AWS_ACCESS_KEY_ID"] == "testing"


def test_missing_moto_is_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "moto.server", None)  # `from moto.server import ...` raises ImportError
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["eksaudit: error: the local CloudWatch endpoint needs moto: pip install 'eksaudit[demo]'"]
