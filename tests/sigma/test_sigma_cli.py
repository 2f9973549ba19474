"""`-r DIR` with Falco and Sigma files mixed, and `eksaudit sigma convert` exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RULES = Path(__file__).resolve().parent / "rules"

EVENT = {
    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "x-1",
    "stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/shop/pods/web-1/exec?command=sh", "verb": "create",
    "user": {"username": "alice"}, "sourceIPs": ["203.0.113.7"], "userAgent": "kubectl/v1.30.2",
    "objectRef": {"resource": "pods", "namespace": "shop", "name": "web-1", "subresource": "exec"},
    "responseStatus": {"code": 101}, "stageTimestamp": "2026-03-01T10:00:00.2Z",
}
FALCO = """\
- rule: Falco exec
  desc: exec
  condition: ka.target.subresource = exec
  output: falco exec %ka.user.name
  priority: NOTICE
  source: k8s_audit
"""


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eksaudit", *args], input=stdin, capture_output=True, text=True)


def test_directory_mixes_falco_and_sigma_files(tmp_path):
    (tmp_path / "a_falco.yaml").write_text(FALCO)
    (tmp_path / "b_sigma.yml").write_text((RULES / "exec_attach.yml").read_text())
    (tmp_path / "README.md").write_text("not a rules file")
    proc = run("filter", "-r", str(tmp_path), "-o", "falco-json", "-",
               stdin=json.dumps(EVENT) + "\n")
    assert proc.returncode == 0, proc.stderr
    # rules match in load order (file names sorted), first match wins as in Falco
    (alert,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert alert["rule"] == "Falco exec"
    (tmp_path / "a_falco.yaml").unlink()
    proc = run("filter", "-r", str(tmp_path), "-o", "falco-json", "-", stdin=json.dumps(EVENT) + "\n")
    (alert,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert alert["rule"] == "Exec or attach into a pod (eksaudit test)"
    assert alert["priority"] == "Error" and alert["tags"] == ["attack.execution", "attack.t1609"]
    assert "Triggered rules by rule name:" in proc.stderr


def test_min_priority_applies_to_sigma_rules():
    proc = run("filter", "-r", str(RULES / "exec_attach.yml"), "--min-priority", "critical", "-",
               stdin=json.dumps(EVENT) + "\n")
    assert proc.returncode == 1 and proc.stdout == ""


def test_empty_directory_is_an_error(tmp_path):
    proc = run("filter", "-r", str(tmp_path), "-", stdin="")
    assert proc.returncode == 2
    assert "no rules files" in proc.stderr


def test_sigma_error_exits_2_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("title: B\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  s: {verb|base64: x}\n"
                   "  condition: s\n")
    proc = run("filter", "-r", str(bad), "-", stdin="")
    assert proc.returncode == 2
    assert f"{bad}:4: Sigma rule 'B': modifier 'base64' is not supported" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run("sigma", "convert", str(bad))
    assert proc.returncode == 2 and "modifier 'base64'" in proc.stderr


def test_convert_prints_loadable_falco_rules(tmp_path):
    proc = run("sigma", "convert", str(RULES / "exec_attach.yml"))
    assert proc.returncode == 0, proc.stderr
    assert "- rule: Exec or attach into a pod (eksaudit test)" in proc.stdout
    assert "jevt.value[/objectRef/subresource]" in proc.stdout
    out = tmp_path / "conv.yaml"
    out.write_text(proc.stdout)
    proc = run("filter", "-r", str(out), "-", stdin=json.dumps(EVENT) + "\n")
    assert proc.returncode == 0 and "Exec or attach into a pod (eksaudit test)" in proc.stdout


def test_convert_of_only_skipped_rules_exits_1():
    proc = run("sigma", "convert", str(RULES / "windows_logon.yml"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert "skipped" in proc.stderr and "product: windows" in proc.stderr
