"""How condition and rules compilation scale with their size (issue 14: it must be linear).

Usage: python benchmarks/compile_scaling.py [SIZES...]
  SIZES default to 1000 10000. For each N it prints the CPU seconds to parse and to compile an OR
  of N terms, a condition with an N-character `contains` string and a glob over an N-character
  value, and to load a rules file of N rules (each with a list, a macro, an exception and an
  output), plus the ratio to the previous size: about 10 for a tenfold size means linear.
  Asserts nothing (tests/hostile/test_hostile_lang_compile.py holds the bounds).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from eksaudit.condition import compile_condition, parse
from eksaudit.condition.operators import compile_glob
from eksaudit.fields import default_registry
from eksaudit.rules import K8S_SOURCES, RulesLoader

REG = default_registry()


def or_condition(n: int) -> str:
    return " or ".join(f"ka.user.name = user{i}" for i in range(n))


def rules_file(n: int) -> str:
    head = ("- list: admin_users\n  items: [admin, root]\n"
            "- macro: is_admin\n  condition: ka.user.name in (admin_users)\n")
    rule = ("- rule: Rule {i}\n  desc: rule {i}\n"
            "  condition: ka.verb = verb{i} and ka.uri startswith /apis/group{i}/ and not is_admin\n"
            "  exceptions:\n    - name: known\n      fields: [ka.target.namespace]\n      values: [[kube-system]]\n"
            "  output: rule {i} fired (user=%ka.user.name uri=%ka.uri)\n  priority: WARNING\n"
            "  source: k8s_audit\n")
    return head + "".join(rule.format(i=i) for i in range(n))


def load(text: str) -> None:
    loader = RulesLoader({s: REG for s in K8S_SOURCES})
    loader.add_text(text, "bench.yaml")
    loader.finish()


def cpu(fn: Callable[[], object]) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def main(sizes: list[int]) -> None:
    cases: list[tuple[str, Callable[[int], Callable[[], object]]]] = [
        ("parse OR of N terms", lambda n: (lambda c=or_condition(n): parse(c))),
        ("compile OR of N terms", lambda n: (lambda c=or_condition(n): compile_condition(c, REG))),
        ("compile N-char contains", lambda n: (lambda c="ka.uri contains '" + "a" * n + "'": compile_condition(c, REG))),
        ("glob *a*a*a*b on 100*N chars", lambda n: (lambda v="a" * (100 * n): compile_glob("*a*a*a*b")(v))),
        ("load N-rule file", lambda n: (lambda t=rules_file(n): load(t))),
    ]
    print(f"{'case':32} " + " ".join(f"{n:>10}" for n in sizes) + "   ratio")
    for label, make in cases:
        times = [cpu(make(n)) for n in sizes]
        ratio = f"{times[-1] / times[-2]:.1f}x" if len(times) > 1 and times[-2] > 0 else "-"
        print(f"{label:32} " + " ".join(f"{t:>9.3f}s" for t in times) + f"   {ratio}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
