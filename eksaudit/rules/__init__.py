"""Falco rules files: loader, lists, macros, exceptions, matching and output formatting.

`load_rules(["eks", "my_rules.yaml"], registry)` loads files in order (later files append to or
override earlier ones, as in Falco) and returns a `Ruleset`; `Ruleset.match(event)` gives the
`Alert`s of one event. Rules whose `source` is `k8s_audit` (or `k8s_audit_eks`) are compiled;
rules of other sources (e.g. Falco's syscall rules in a shared file) are skipped with one warning
per source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ..condition.resolver import FieldResolver
from ..errors import EksauditError, RulesError
from .collector import Collector, LoadContext, check_plugin_requirements
from .compiler import compile_collector
from .model import Alert, Priority, RuleWarning, Where
from .reader import Reader
from .ruleset import Ruleset
from .summary import Summary

__all__ = [
    "Alert",
    "Priority",
    "RuleWarning",
    "Ruleset",
    "RulesLoader",
    "Summary",
    "builtin_rulesets",
    "load_rules",
]

K8S_SOURCES = ("k8s_audit", "k8s_audit_eks")
_BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


def builtin_rulesets() -> list[str]:
    """Names of the rulesets shipped with eksaudit (usable as `-r NAME`)."""
    return sorted(p.stem for p in _BUILTIN_DIR.glob("*.yaml"))


def builtin_path(name: str) -> Path | None:
    p = _BUILTIN_DIR / f"{name}.yaml"
    return p if p.is_file() else None


class RulesLoader:
    """Loads several rules files into one ruleset, Falco style.

    `sources` maps each event source the engine knows to the field resolver of that source; rules
    of any other source are skipped. The conformance tests use this with a toy `syscall` source.
    """

    def __init__(
        self,
        sources: dict[str, FieldResolver],
        *,
        on_warning: Callable[[RuleWarning], None] | None = None,
    ) -> None:
        self.resolvers = dict(sources)
        self.on_warning = on_warning
        self.warnings: list[RuleWarning] = []
        self.ctx = LoadContext(
            known_sources=frozenset(self.resolvers),
            is_valid_lhs_field=self._is_valid_lhs_field,
            warn=self._emit,
        )
        self.collector = Collector(self.ctx)
        self._reader = Reader(self.collector)

    # --- warnings
    def _emit(self, message: str, where: Where | None, line: int | None, code: str, *, quiet: bool = False) -> None:
        text = (where.prefix(line) if where is not None else "") + message
        w = RuleWarning(text, code, message)
        self.warnings.append(w)
        if self.on_warning is not None and not quiet:
            self.on_warning(w)

    def _compile_warn(self, message: str, where: Where, line: int | None, code: str | None) -> None:
        # Unused lists/macros are normal when a shared file (e.g. Falco's) is loaded: keep them off
        # the warning callback, available in Ruleset.warnings.
        self._emit(message, where, line, code or "other", quiet=code in ("unused-list", "unused-macro"))

    def _is_valid_lhs_field(self, source: str, text: str) -> bool:
        from ..condition.ast import UnaryCheckExpr
        from ..condition.compiler import compile_condition
        from ..condition.parser import parse

        resolver = self.resolvers.get(source)
        if resolver is None:
            return True
        try:
            expr = parse(f"{text} exists")
            if not isinstance(expr, UnaryCheckExpr):
                return False
            compile_condition(expr, resolver)
        except EksauditError:
            return False
        return True

    # --- loading
    def add_text(self, text: str, name: str) -> None:
        """Read one rules file's text (`name` is used in messages): Falco rules, or Sigma rules."""
        if "detection" in text and "logsource" in text:  # else no Sigma rule: its package left unimported
            from ..sigma import looks_like_sigma

            if looks_like_sigma(text):
                self._add_sigma(text, name)
                return
        self._reader.read_text(text, name)

    def _add_sigma(self, text: str, name: str) -> None:
        """Sigma rules become Falco rules of source k8s_audit (see eksaudit.sigma)."""
        from ..sigma import SigmaSkip, read_sigma_text

        for r in read_sigma_text(text, name):
            if isinstance(r, SigmaSkip):
                self._emit(r.message, None, None, "unknown-source")
                continue
            prev = self.collector.rules.get(r.title)
            if prev is not None:
                raise RulesError(
                    f"{name}:{r.line}: Sigma rule '{r.title}': a rule of that name is already loaded "
                    f"({prev.where.file}:{prev.where.line}); rule names must be unique"
                )
            for w in r.warnings:
                self._emit(w, None, None, "sigma-field")
            self.collector.define_rule(r.rule_info())

    def add_file(self, path: str | Path) -> None:
        """A Falco or Sigma rules file, or a directory: its *.yaml/*.yml files in name order."""
        p = Path(path)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
            if not files:
                raise RulesError(f"{p}: no rules files (*.yaml, *.yml) in this directory")
            for f in files:
                self.add_file(f)
            return
        try:
            text = p.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise RulesError(f"{p}: rules file not found") from None
        except IsADirectoryError:
            raise RulesError(f"{p}: is a directory, not a rules file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise RulesError(f"{p}: cannot read rules file: {e}") from None
        self.add_text(text, str(path))

    def add_source(self, source: str) -> None:
        """A path, or the name of a built-in ruleset (`eks`)."""
        p = Path(source)
        if p.is_file() or p.suffix in (".yaml", ".yml") or "/" in source or p.exists():
            self.add_file(p)
            return
        b = builtin_path(source)
        if b is None:
            raise RulesError(
                f"{source}: no such rules file, and not a built-in ruleset (built-in: {', '.join(builtin_rulesets())})"
            )
        self._reader.read_text(b.read_text(encoding="utf-8"), f"{source} (built-in)")

    def finish(
        self, *, min_priority: Priority | str | None = None, rule_matching: str = "first", hostname: str | None = None
    ) -> Ruleset:
        """Compile everything read so far into a Ruleset."""
        if isinstance(min_priority, str):
            try:
                min_priority = Priority.parse(min_priority)
            except ValueError as e:
                raise RulesError(str(e)) from None
        skipped: dict[str, list[str]] = {}
        for r in self.collector.rules.values():
            if r.unknown_source:
                skipped.setdefault(r.source, []).append(r.where.file)
        for source, files in skipped.items():
            where = ", ".join(dict.fromkeys(files))
            self._emit(
                f"{where}: skipped {len(files)} rule(s) with source '{source}' "
                f"(eksaudit evaluates rules of source {' / '.join(sorted(self.resolvers))})",
                None, None, "unknown-source",
            )
        compiled = compile_collector(
            self.collector, self.resolvers, self._compile_warn, min_priority=min_priority or Priority.DEBUG
        )
        check_plugin_requirements(self.ctx)
        return Ruleset(compiled, warnings=self.warnings, rule_matching=rule_matching, hostname=hostname)


def load_rules(
    sources: Sequence[str],
    resolver: FieldResolver,
    *,
    min_priority: Priority | str | None = None,
    on_warning: Callable[[RuleWarning], None] | None = None,
    rule_matching: str = "first",
    extra_sources: Iterable[str] = (),
) -> Ruleset:
    """Load rules files and built-in rulesets in order; raise RulesError naming file, item and line.

    `rule_matching` is Falco's option: `first` (default) fires only the first matching rule per
    event, `all` fires every matching rule.
    """
    loader = RulesLoader({s: resolver for s in (*K8S_SOURCES, *extra_sources)}, on_warning=on_warning)
    for s in sources:
        loader.add_source(s)
    return loader.finish(min_priority=min_priority, rule_matching=rule_matching)
