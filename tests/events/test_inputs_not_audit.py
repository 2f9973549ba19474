"""JSON that is not an audit event is said once per input, named, with its first line; --strict makes it fatal.

"No match" (exit 1) must never hide "wrong input": a GKE, CloudTrail or any other JSON file read
by mistake is still read (jevt.* fields apply) but reported, and the verdict never depends on how
the JSON is spelled (the cheap first-member test has a parsing twin, compared by a property test).
"""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from eksaudit.cli.app import app
from eksaudit.events import kinds, read_events
from eksaudit.events.kinds import NotAuditTally, describe

DATA = Path(__file__).resolve().parent.parent / "data"
SMALL = DATA / "small-audit.jsonl"

GKE = {
    "insertId": "1x2y3z",
    "logName": "projects/demo/logs/cloudaudit.googleapis.com%2Factivity",
    "protoPayload": {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "authenticationInfo": {"principalEmail": "alice@example.com"},
        "methodName": "io.k8s.core.v1.secrets.delete",
        "resourceName": "core/v1/namespaces/payments/secrets/db-password",
        "serviceName": "k8s.io",
    },
    "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke1", "location": "europe-west1"}},
    "timestamp": "2026-11-30T10:00:00.000000Z",
}
CLOUDTRAIL = {
    "eventVersion": "1.09",
    "userIdentity": {"type": "IAMUser", "userName": "alice"},
    "eventTime": "2026-11-30T10:00:00Z",
    "eventSource": "eks.amazonaws.com",
    "eventName": "DeleteCluster",
    "awsRegion": "eu-west-1",
    "sourceIPAddress": "203.0.113.7",
}
AZURE_ACTIVITY = {
    "time": "2026-11-30T10:00:00Z",
    "resourceId": "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS1",
    "operationName": "MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/WRITE",
    "category": "Administrative",
    "resultType": "Success",
    "callerIpAddress": "203.0.113.7",
}
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "default"}}
FALCO = {"output": "x", "priority": "Warning", "rule": "Delete secret", "time": "2026-11-30T10:00:00Z"}
GENERIC = {"level": "info", "msg": "started", "ts": 1}
#: Kubernetes' own Event (`kubectl get events -o json`), spelled kind first as Go writes TypeMeta
CORE_EVENT = {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "web-1.17f", "namespace": "default"},
              "reason": "Pulled", "message": "Container image pulled", "type": "Normal"}
#: an object that holds an audit event but is not one: a substring test on "auditID" would miss it
WRAPPED = {"date": 1, "log": {"kind": "Event", "auditID": "x", "verb": "get"}}

CASES = {
    "gke": (GKE, "a GKE Cloud Audit Log entry (protoPayload, logName)"),
    "cloudtrail": (CLOUDTRAIL, "a CloudTrail record (eventSource, eventName, awsRegion)"),
    "azure": (AZURE_ACTIVITY, "an Azure activity log record (operationName, resourceId, category)"),
    "kubernetes": (POD, "a Kubernetes Pod object (kind, apiVersion), not an audit Event"),
    "core-event": (CORE_EVENT, "a Kubernetes Event object (kind, apiVersion), not an audit Event"),
    "falco": (FALCO, "a Falco alert (rule, priority, output)"),
    "generic": (GENERIC, "generic JSON (keys: level, msg, ts)"),
    "wrapped": (WRAPPED, "generic JSON (keys: date, log)"),
}


def audit_lines() -> list[bytes]:
    return [ln for ln in SMALL.read_bytes().splitlines() if ln]


def jsonl(objs) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def read(data: bytes, **kw):
    tally = NotAuditTally()
    out = list(read_events(["-"], stdin=io.BytesIO(data), on_not_audit=tally.add, **kw))
    return out, tally


def run(*args: str, input: bytes | None = None):
    return CliRunner().invoke(app, list(args), input=input, prog_name="eksaudit")


# --- the reader ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_kind_is_named_with_its_first_line(name):
    obj, text = CASES[name]
    out, tally = read(b"\n" + jsonl([obj, obj, obj]))
    assert len(out) == 3  # still events: jevt.* fields read any JSON
    (w,) = tally.warnings()
    assert w == f"<stdin>: 3 JSON objects are not audit events (no ka.* field matches them): line 2 looks like {text}"


def test_ordinary_audit_files_give_no_warning():
    for data in (SMALL.read_bytes(), gzip.compress(SMALL.read_bytes())):
        out, tally = read(data)
        assert len(out) == len(audit_lines()) and tally.count == 0


def test_mixed_file_keeps_every_audit_event_and_counts_the_stray_line():
    lines = audit_lines()
    data = b"\n".join([*lines[:4], json.dumps(CLOUDTRAIL).encode(), *lines[4:]]) + b"\n"
    out, tally = read(data)
    assert [e.raw for e in out if e.obj.get("auditID")] == lines
    (w,) = tally.warnings()
    assert "1 JSON object is not an audit event" in w and "line 5 looks like a CloudTrail record" in w


def test_several_kinds_in_one_input_are_each_named_by_first_line():
    out, tally = read(jsonl([GENERIC, GKE, GENERIC, CLOUDTRAIL]))
    (w,) = tally.warnings()
    assert w.endswith(
        "4 JSON objects are not audit events (no ka.* field matches them): line 1 looks like generic JSON "
        "(keys: level, msg, ts); line 2 like a GKE Cloud Audit Log entry (protoPayload, logName); "
        "line 4 like a CloudTrail record (eventSource, eventName, awsRegion)"
    )


def test_pretty_printed_arrays_and_cloudtrail_files_are_named():
    # gcloud logging read --format=json prints a pretty JSON array; CloudTrail writes {"Records": [...]}
    _, tally = read(json.dumps([GKE, GKE], indent=2).encode())
    assert "2 JSON objects" in tally.warnings()[0] and "GKE Cloud Audit Log entry" in tally.warnings()[0]
    _, tally = read(gzip.compress(json.dumps({"Records": [CLOUDTRAIL]}).encode()))
    assert "line 1 looks like a CloudTrail log file (Records)" in tally.warnings()[0]


def test_kubectl_events_are_not_taken_for_audit_events():
    listed = {"apiVersion": "v1", "items": [dict(CORE_EVENT, apiVersion="v1"), CORE_EVENT], "kind": "List"}
    out, tally = read(json.dumps(listed, indent=2).encode())
    assert len(out) == 2
    (w,) = tally.warnings()
    assert "2 JSON objects are not audit events" in w and "a Kubernetes Event object" in w


def test_one_warning_per_input_naming_it(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_bytes(jsonl([GKE]))
    b.write_bytes(SMALL.read_bytes() + jsonl([POD, POD]))
    tally = NotAuditTally()
    list(read_events([str(a), str(SMALL), str(b)], on_not_audit=tally.add))
    ws = tally.warnings()
    assert [w.split(":")[0] for w in ws] == [str(a), str(b)]
    assert f"line {len(audit_lines()) + 1} looks like a Kubernetes Pod object" in ws[1]


def test_strict_stops_at_the_first_non_audit_object():
    from eksaudit.errors import InputError

    with pytest.raises(InputError) as e:
        read(SMALL.read_bytes() + jsonl([GKE]), strict=True)
    assert str(e.value) == (
        f"<stdin>:{len(audit_lines()) + 1}: not an audit event: it looks like a GKE Cloud Audit Log entry "
        "(protoPayload, logName)"
    )


def test_describe_non_objects_and_empty():
    assert describe({}) == ("generic", "an empty JSON object")
    assert describe({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})[1] == "generic JSON (keys: a, b, c, d, ...)"


# --- spelling never decides ---------------------------------------------------------------------


def respell(obj, rng: random.Random) -> bytes:
    """One random valid JSON spelling of `obj`: key order, whitespace, \\uXXXX escapes, `\\/`."""

    def ws() -> str:
        return rng.choice(["", "", " ", "  ", "\t", "\r\n "])

    def string(s: str) -> str:
        out = []
        for ch in s:
            r = rng.random()
            if ch in '"\\' or ord(ch) < 0x20:
                out.append(json.dumps(ch)[1:-1])
            elif r < 0.15:
                out.append(f"\\u{ord(ch):04{'x' if rng.random() < 0.5 else 'X'}}" if ord(ch) < 0x10000 else ch)
            elif ch == "/" and r < 0.5:
                out.append("\\/")
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'

    def value(v) -> str:
        if isinstance(v, dict):
            items = list(v.items())
            if rng.random() < 0.5:
                rng.shuffle(items)
            inner = ",".join(f"{ws()}{string(k)}{ws()}:{ws()}{value(x)}{ws()}" for k, x in items)
            return "{" + inner + "}"
        if isinstance(v, list):
            return "[" + ",".join(ws() + value(x) + ws() for x in v) + "]"
        if isinstance(v, str):
            return string(v)
        return json.dumps(v)

    text = value(obj)
    assert json.loads(text) == obj
    return text.encode()


def both_ways(data: bytes):
    """(events, warnings) with the cheap first-member test, and with every object text parsed."""
    results = []
    for shortcut in (True, False):
        kinds.shortcut = shortcut
        try:
            out, tally = read(data)
            results.append(([(e.raw, e.obj, e.line) for e in out], tally.warnings()))
        finally:
            kinds.shortcut = True
    return results


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.lists(st.sampled_from(["audit", *sorted(CASES)]), min_size=1, max_size=8))
def test_verdicts_do_not_depend_on_spelling_and_the_shortcut_agrees_with_parsing(seed, picks):
    rng = random.Random(seed)
    audit = [json.loads(ln) for ln in audit_lines()]
    objs = [rng.choice(audit) if p == "audit" else CASES[p][0] for p in picks]
    texts = [respell(o, rng) for o in objs]  # some span lines (whitespace may hold newlines)
    starts = [1 + sum(t.count(b"\n") + 1 for t in texts[:i]) for i in range(len(texts))]
    data = b"\n".join(texts) + b"\n"
    fast, slow = both_ways(data)
    assert fast == slow
    events, warnings = fast
    assert [obj for _, obj, _ in events] == objs
    assert [line for _, _, line in events] == starts
    foreign = [i + 1 for i, p in enumerate(picks) if p != "audit"]
    if not foreign:
        assert warnings == []
    else:
        (w,) = warnings
        n = len(foreign)
        assert f": {n} JSON object{'s are' if n > 1 else ' is'} not" in w
        assert f"line {starts[foreign[0] - 1]} looks like {CASES[picks[foreign[0] - 1]][1]}" in w


def test_audit_events_spelled_otherwise_give_no_warning():
    rng = random.Random(7)
    objs = [json.loads(ln) for ln in audit_lines()]
    for _ in range(20):
        _, tally = read(b"\n".join(respell(o, rng) for o in objs))
        assert tally.count == 0
    # escaped first key: parsed, still an event
    out, tally = read(b'{"\\u006bind":"Event","auditID":"a","verb":"get"}\n')
    assert tally.count == 0 and out[0].obj["verb"] == "get"


# --- the commands ---------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    made = {}
    for name in ("gke", "cloudtrail", "generic"):
        p = tmp_path / f"{name}.jsonl"
        p.write_bytes(jsonl([CASES[name][0]] * 2))
        made[name] = p
    return made


@pytest.mark.parametrize("name", ["gke", "cloudtrail", "generic"])
def test_filter_states_the_wrong_input_and_exits_1(files, name):
    r = run("filter", "ka.verb=delete", str(files[name]))
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == (
        f"eksaudit: warning: {files[name]}: 2 JSON objects are not audit events (no ka.* field matches them): "
        f"line 1 looks like {CASES[name][1]}\n"
    )


@pytest.mark.parametrize("name", ["gke", "cloudtrail", "generic"])
def test_filter_strict_exits_2_naming_it(files, name):
    r = run("filter", "--strict", "ka.verb=delete", str(files[name]))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"eksaudit: error: {files[name]}:1: not an audit event: it looks like {CASES[name][1]}\n"


def test_fields_warns_and_strict_exits_2(files):
    r = run("fields", "ka.verb", "jevt.value[/eventName]", str(files["cloudtrail"]))
    assert r.exit_code == 0
    assert r.stdout == '{"ka.verb":null,"jevt.value[/eventName]":"DeleteCluster"}\n' * 2
    assert "2 JSON objects are not audit events" in r.stderr and "CloudTrail record" in r.stderr
    r = run("fields", "--strict", "ka.verb", str(files["cloudtrail"]))
    assert r.exit_code == 2 and "not an audit event: it looks like a CloudTrail record" in r.stderr


def test_filter_on_ordinary_audit_input_prints_no_warning():
    r = run("filter", "ka.verb=delete", str(SMALL))
    assert r.exit_code == 0 and r.stderr == ""
    r = run("filter", "-r", "eks", str(SMALL), "-q")
    assert r.stderr == ""


def test_filter_on_mixed_input_gives_all_events_and_one_warning(tmp_path):
    lines = audit_lines()
    p = tmp_path / "mixed.jsonl"
    p.write_bytes(b"\n".join([*lines[:2], json.dumps(CLOUDTRAIL).encode(), *lines[2:]]) + b"\n")
    r = run("filter", "ka.verb exists", str(p))
    assert r.exit_code == 0
    assert r.stdout.encode().splitlines() == lines
    assert r.stderr == (
        f"eksaudit: warning: {p}: 1 JSON object is not an audit event (no ka.* field matches it): "
        "line 3 looks like a CloudTrail record (eventSource, eventName, awsRegion)\n"
    )


def test_quiet_silences_the_warning_but_not_strict(files):
    r = run("filter", "-q", "ka.verb=delete", str(files["gke"]))
    assert r.exit_code == 1 and r.stderr == ""
    r = run("filter", "-q", "--strict", "ka.verb=delete", str(files["gke"]))
    assert r.exit_code == 2
