"""Issue 14, finding 3: glob, iglob and pmatch take linear time on attacker-sized values.

Before, `ka.uri glob '*a*a*a*b'` on a long URI ran past 100 s (a backtracking regex) and
`/api/*/namespaces/*/pods/*/exec` took 6 s per event on a 14 KB URI. Each probe runs in a child
process with a generous bound, so a regression fails fast instead of hanging the suite.
"""

from __future__ import annotations

from support.bounded import run_python_bounded

BOUND = 20.0  # seconds for the whole child process (imports included); today's code takes < 1 s


def _run(code: str) -> str:
    return run_python_bounded(code, BOUND)


def test_star_a_star_a_star_b_on_a_megabyte():
    out = _run("""
        from eksaudit.condition.operators import compile_glob
        v = "a" * 1_000_000
        for fold in (False, True):
            g = compile_glob("*a*a*a*b", fold)
            print(g(v), g(v + "b"), g("b" + v), compile_glob("*a*a*a*c*b", fold)(v + "b"))
    """)
    assert out.splitlines() == ["False True False False"] * 2


def test_api_pods_exec_pattern_on_a_long_uri_through_a_condition():
    out = _run("""
        from eksaudit.condition import compile_condition
        from eksaudit.fields import default_registry
        from eksaudit.events import AuditEvent
        import json
        reg = default_registry()
        cond = compile_condition("ka.uri glob '/api/*/namespaces/*/pods/*/exec'", reg)
        icond = compile_condition("ka.uri iglob '/API/*/NAMESPACES/*/PODS/*/EXEC*'", reg)
        uri = "/api/" + "v1/namespaces/x/pods/" * 800 + "y/exe"   # 14 KB+, almost matching
        hits = 0
        for i in range(20):
            ev = AuditEvent(json.dumps({"auditID": "x", "requestURI": uri + "c" * (i % 2)}).encode())
            hits += cond.matches(ev) + icond.matches(ev)
        print(len(uri) > 14_000, hits)
    """)
    assert out == "True 20"


def test_class_segments_on_a_megabyte():
    out = _run("""
        from eksaudit.condition.operators import compile_glob
        v = "1" * 1_000_000 + "b"
        print(compile_glob("*[[:digit:]]x*[!0-9]?*b")(v), compile_glob("*?*?*?*?*?*?b")(v),
              compile_glob("[0-9]*[0-9]*[[:alpha:]]", True)(v.replace("b", "B")))
    """)
    assert out == "False True True"


def test_pmatch_on_a_path_of_half_a_million_components():
    out = _run("""
        from eksaudit.condition.operators import compile_pmatch
        v = "/a" * 500_000
        p = compile_pmatch(["/a/a/b", "/b/*/c", "/a/*/a/[ab]/x"])
        print(p(v), p(v + "/"), compile_pmatch(["/a/a/a"])(v))
    """)
    assert out == "False False True"
