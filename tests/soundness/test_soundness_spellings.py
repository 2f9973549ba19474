"""One regression case per spelling class: the fast path finds the event, as the slow path does.

Each case writes one matching event among non-matching ones in one particular valid JSON spelling
and checks `filter` (library fast path, library slow path, and the real CLI for a few) prints it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import orjson
import pytest
from soundness_kit import both, objects, write
from support.cli import run_eksaudit
from support.respell import go_spell, respell, spell_string

EVENT = {
    "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
    "auditID": "0c5f6a6e-1b7e-4f7e-9d36-2b2a4d1c9e01", "stage": "ResponseComplete",
    "requestURI": "/api/v1/namespaces/default/secrets/db-pass?dryRun=All&pretty=true", "verb": "delete",
    "user": {"username": "alice", "groups": ["system:masters", "system:authenticated"]},
    "sourceIPs": ["10.0.0.7"], "userAgent": "kubectl/v1.29.0 (linux/amd64)",
    "objectRef": {"resource": "secrets", "namespace": "default", "name": "db-pass", "apiVersion": "v1"},
    "responseStatus": {"metadata": {}, "code": 200},
    "requestReceivedTimestamp": "2026-11-30T10:00:00.000000Z", "stageTimestamp": "2026-11-30T10:00:00.010000Z",
    "annotations": {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""},
}
OTHER = dict(EVENT, verb="get", auditID="1d6e7b7f-2c8f-4a8f-8e47-3c3b5e2d0f12",
             requestURI="/api/v1/namespaces/default/pods?limit=500&watch=true",
             objectRef={"resource": "pods", "namespace": "default", "apiVersion": "v1"})
CONDITION = "ka.verb=delete and ka.target.resource=secrets"


def compact(o: object) -> str:
    return orjson.dumps(o).decode()


def escape_all(o: object) -> str:
    """Every character of every key and string as a \\uXXXX escape (lower-case hex)."""
    return respell(o, random.Random(1), p_escape=1.0).replace(" ", "").replace("\t", "")


def _file(tmp: Path, target: str, *, before: bytes = b"", end: str = "\n") -> Path:
    other = compact(OTHER) + end
    data = before + (other * 3 + target + end + other * 3).encode("utf-8", "surrogatepass")
    return write(tmp, "in.jsonl", data)


def _check(path: Path, condition: str = CONDITION, want: int = 1) -> None:
    fast, slow = both(path, condition)
    assert fast.events == slow.events
    assert len(fast.events) == want, fast.events
    assert all(o["verb"] == "delete" for o in objects(fast)) or condition != CONDITION


SPELLINGS = {
    "unicode-lower": lambda: compact(EVENT).replace('"delete"', '"\\u0064elete"'),
    "unicode-upper": lambda: compact(EVENT).replace('"delete"', '"\\u0064\\u0065\\u006C\\u0065\\u0074\\u0065"'),
    "unicode-mixed-hex": lambda: compact(EVENT).replace('"delete"', '"de\\u006Cete"'),
    "every-char-escaped": lambda: escape_all(EVENT),
    "escaped-keys": lambda: compact(EVENT).replace('"verb"', '"\\u0076erb"').replace('"resource"', '"r\\u0065source"'),
    "whitespace": lambda: json.dumps(EVENT, separators=(" , ", " : ")),
    "tabs": lambda: json.dumps(EVENT, separators=(",\t", ":\t")),
    "key-order": lambda: compact(dict(reversed(list(EVENT.items())))),
    "go-html-escapes": lambda: go_spell(compact(EVENT).encode()).decode(),
    "pretty-printed": lambda: json.dumps(EVENT, indent=2),
    "pretty-printed-sorted": lambda: json.dumps(EVENT, indent="\t", sort_keys=True),
    "respelled-multiline": lambda: respell(EVENT, random.Random(7), p_escape=0.3, multiline=True),
}


@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_spelling_class(tmp_path: Path, name: str) -> None:
    _check(_file(tmp_path, SPELLINGS[name]()))


def test_an_escape_of_another_letter_stays_another_letter(tmp_path: Path) -> None:
    _check(_file(tmp_path, compact(EVENT).replace('"delete"', '"\\u0044ELETE"')), want=0)  # DELETE
    _check(_file(tmp_path, compact(EVENT).replace('"delete"', '"\\\\u0064elete"')), want=0)  # backslash, u0064elete


def test_slash_escape_in_uri(tmp_path: Path) -> None:
    ev = dict(OTHER, requestURI="/healthz")
    line = compact(ev).replace('"/healthz"', '"\\/healthz"')
    path = _file(tmp_path, line)
    _check(path, "ka.uri in (/healthz, /version)", want=1)
    _check(path, "ka.uri startswith /health", want=1)


def test_surrogate_pair(tmp_path: Path) -> None:
    ev = dict(EVENT, objectRef=dict(EVENT["objectRef"], name="db-\U0001F511"))
    line = compact(ev).replace("\U0001F511", "\\ud83d\\uDD11")
    _check(_file(tmp_path, line))
    _check(_file(tmp_path, line), 'ka.target.name = "db-\U0001F511"')


def test_crlf_and_bom(tmp_path: Path) -> None:
    _check(_file(tmp_path, compact(EVENT), end="\r\n", before=b"\xef\xbb\xbf"))
    _check(_file(tmp_path, compact(EVENT).replace('"delete"', '"\\u0064elete"'), end="\r\n", before=b"\xef\xbb\xbf"))


def test_number_with_exponent(tmp_path: Path) -> None:
    line = compact(EVENT).replace('"code":200', '"code":2E+2')
    assert '"code":2E+2' in line
    path = _file(tmp_path, line)
    _check(path, "ka.response.code = 200 and ka.verb = delete")
    _check(path, "ka.response.code in (200, 201) and ka.verb = delete")
    _check(path, "ka.response.code startswith 2 and ka.verb = delete")


def test_duplicate_keys_last_one_wins(tmp_path: Path) -> None:
    base = compact(EVENT)
    last_delete = base.replace('"verb":"delete"', '"verb":"get","verb":"delete"')
    last_get = base.replace('"verb":"delete"', '"verb":"delete","verb":"get"')
    _check(_file(tmp_path, last_delete))
    _check(_file(tmp_path, last_get), want=0)
    assert orjson.loads(last_get)["verb"] == json.loads(last_get)["verb"] == "get"


def test_eventlist_with_escaped_kind_or_first_key(tmp_path: Path) -> None:
    """One-line lists are read as their items, however the kind or first key is spelled."""
    lst = {"apiVersion": "audit.k8s.io/v1", "items": [OTHER, EVENT], "kind": "EventList", "metadata": {}}
    for line in (compact(lst).replace('"EventList"', '"Event\\u004cist"'),
                 compact(lst).replace('"apiVersion"', '"\\u0061piVersion"').replace('"EventList"', '"EventLis\\u0074"'),
                 compact({"kind": "PodList", **{k: v for k, v in lst.items() if k != "kind"}}),
                 '{"\\u0069tems":' + compact([OTHER, EVENT]) + ',"kind":"EventList"}'):
        _check(write(tmp_path, "list.jsonl", line.encode() + b"\n"))


def test_subscription_envelope_with_metadata_after_the_array(tmp_path: Path) -> None:
    """Pretty-printed with sorted keys, `logEvents` comes before `logGroup`: the group still applies."""
    env = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/eks/prod/cluster",
           "logStream": "kube-apiserver-audit-1", "subscriptionFilters": ["f"],
           "logEvents": [{"id": "1", "timestamp": 1, "message": compact(EVENT)},
                         {"id": "2", "timestamp": 2, "message": compact(OTHER)}]}
    for text in (json.dumps(env, indent=2, sort_keys=True), json.dumps(env, indent=2)):
        path = write(tmp_path, "env.json", text.encode() + b"\n")
        from eksaudit.events.readers import read_events

        groups = [ev.cw.log_group for ev in read_events([str(path)])]
        assert groups == ["/aws/eks/prod/cluster"] * 2
        _check(path)


def test_spell_string_round_trips() -> None:
    rng = random.Random(0)
    for s in ["delete", "a/b", 'q"uo\\te', "tab\there", "\U0001F511x", "\x01", ""]:
        for p in (0.0, 0.5, 1.0):
            assert json.loads(spell_string(s, rng, p)) == s


@pytest.mark.parametrize("name", ["every-char-escaped", "whitespace", "pretty-printed", "go-html-escapes"])
def test_cli_prints_the_event(tmp_path: Path, name: str) -> None:
    path = _file(tmp_path, SPELLINGS[name]())
    r = run_eksaudit("filter", CONDITION, str(path))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode().splitlines()
    assert len(out) == 1 and json.loads(out[0]) == EVENT
