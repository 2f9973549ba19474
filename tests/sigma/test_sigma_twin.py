"""The Falco condition a Sigma rule runs as (fast path) against the direct evaluation of its rule
tree (eksaudit.sigma.reference, the slow twin), on random rules and odd, re-spelled events."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eksaudit.errors import RulesError
from eksaudit.events.event import AuditEvent
from eksaudit.fields import default_registry
from eksaudit.rules import RulesLoader
from eksaudit.sigma import SigmaRule, read_sigma_text
from eksaudit.sigma.reference import evaluate

WORDS = ["create", "CREATE", "Create", "créate", "CRÉATE", "pods", "a*b", "a?b", "a\\b", "a\\", "x\ny", "",
         "system:anonymous", "kubectl/v1.30", "null", "401", "4.5", "true", "[x]", "%2fbin%2fsh", "é", "É", "K", "k"]
SPECIAL = ["*", "?", "cr*", "*ate", "c?eate", "*a*", "\\*", "\\\\*", "a\\", "^a", "a$", "a|b", "[a-c]+", "(x|y)z",
           ".", "4?1", "^c.*e$"]
REGEXES = ["^c", "e$", "a|b", "[a-c]+", "(x|y)z", ".", "^c.*e$", "É", "\\.", "a\\*", "^$", "^.?$", "[[:upper:]]"]
FIELDS = ["verb", "userAgent", "objectRef.resource", "responseStatus.code", "sourceIPs", "sourceIPs.0",
          "annotations.authorization.k8s.io/decision", "requestObject.spec", "nosuch"]
EVENT_PATHS = [("verb",), ("userAgent",), ("objectRef", "resource"), ("responseStatus", "code"), ("sourceIPs",),
               ("annotations", "authorization.k8s.io/decision"), ("requestObject", "spec")]
MODS = st.lists(st.sampled_from(["contains", "startswith", "endswith", "all", "cased", "re", "exists"]),
                max_size=2, unique=True)


def respell(draw: Any, v: Any) -> Any:
    """The same value, or its text upper/lower/swap-cased, or a number as a string, or with extra text."""
    if isinstance(v, str):
        how = draw(st.sampled_from(["same", "upper", "lower", "swap", "prefix", "suffix"]))
        return {"same": v, "upper": v.upper(), "lower": v.lower(), "swap": v.swapcase(), "prefix": "x" + v,
                "suffix": v + "Z"}[how]
    if isinstance(v, (int, float)) and not isinstance(v, bool) and draw(st.booleans()):
        return str(v)
    return v


@st.composite
def cases(draw: Any) -> tuple[str, list[dict[str, Any]]]:
    pool = draw(st.lists(st.one_of(st.sampled_from(WORDS), st.integers(0, 500),
                                   st.sampled_from([401, 4.5, True, False]),
                                   st.text(alphabet="aAbé*?\\\n.", max_size=5)), min_size=2, max_size=5))
    pattern_words = st.one_of(st.sampled_from(pool), st.sampled_from(SPECIAL))

    def selection() -> dict[str, Any]:
        sel: dict[str, Any] = {}
        for field in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2, unique=True)):
            kind = draw(st.sampled_from(["plain", "plain", "plain", "null", "exists", "re"]))
            mods: list[str] = []
            values: Any
            if kind == "null":
                values = None
            elif kind == "exists":
                mods, values = ["exists"], draw(st.booleans())
            elif kind == "re":
                mods = ["re"]
                strs = [re.escape(v) for v in pool if isinstance(v, str)]
                values = draw(st.lists(st.sampled_from(REGEXES + strs), min_size=1, max_size=2))
            else:
                values = draw(st.lists(pattern_words, min_size=1, max_size=3))
                wrap = draw(st.sampled_from([None, "contains", "startswith", "endswith"]))
                mods = [m for m in (wrap, "cased" if draw(st.booleans()) else None) if m]
                if len(values) > 1 and draw(st.booleans()):
                    mods.append("all")
            if isinstance(values, list) and len(values) == 1:
                values = values[0]
            sel["|".join([field, *mods])] = values
        return sel

    detection: dict[str, Any] = {"s1": selection(), "s2": selection() if draw(st.booleans()) else [selection(), selection()]}
    kws = [v for v in pool if isinstance(v, str) and v] or ["a"]
    detection["kw"] = (draw(st.lists(st.sampled_from(kws), min_size=1, max_size=2)) if draw(st.booleans())
                       else {"|all": draw(st.lists(st.sampled_from(kws), min_size=2, max_size=2))})
    detection["condition"] = draw(st.sampled_from(CONDITIONS))
    doc = {"title": "T", "logsource": {"product": "kubernetes", "service": "audit"}, "detection": detection}
    evs = []
    for _ in range(draw(st.integers(1, 4))):
        ev: dict[str, Any] = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "id-1"}
        for path in EVENT_PATHS:
            choice = draw(st.sampled_from(["absent", "pool", "pool", "null", "empty", "list"]))
            if choice == "absent":
                continue
            value: Any = {"pool": respell(draw, draw(st.sampled_from(pool))), "null": None, "empty": "",
                          "list": [respell(draw, draw(st.sampled_from(pool)))]}[choice]
            target = ev
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = value
        evs.append(ev)
    return yaml.safe_dump(doc, allow_unicode=True), evs


CONDITIONS = ["s1", "s1 and s2", "s1 or s2", "not s1", "s1 and not s2", "1 of s*", "all of s*", "1 of them",
              "all of them", "not (s1 or kw)", "kw", "kw or s2"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_condition_text_agrees_with_the_reference_evaluator(case):
    text, evs = case
    try:
        (rule,) = read_sigma_text(text, "r.yml")
    except RulesError:
        return  # combinations the translator rejects (e.g. 'all' with one value) are errors by design
    assert isinstance(rule, SigmaRule)
    reg = default_registry()
    ld = RulesLoader({"k8s_audit": reg})
    ld.add_text(text, "r.yml")
    rs = ld.finish(hostname="h")
    for ev in evs:
        fast = bool(rs.match(AuditEvent.from_obj(ev)))
        slow = evaluate(rule.tree, ev)
        assert fast == slow, f"{rule.condition}\n{ev}"
