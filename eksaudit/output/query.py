"""`--query JMESPATH`: compiled once, applied to each JSON object a writer is about to print."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..events import slowjson


class Query:
    """A compiled JMESPath expression. A bad expression is a UsageError before any output.

    At run time an expression that fails on one object (a function given the wrong type because a
    key is missing) gives `null` for that object, as a missing key does, rather than ending the run.
    """

    def __init__(self, text: str) -> None:
        import jmespath  # here, not at the top: only --query pays for its import (~10 ms)
        from jmespath.exceptions import JMESPathError

        self.text = text
        self._search_errors = (JMESPathError, RecursionError)  # RecursionError: to_string() of a very deep value
        try:
            self._expr = jmespath.compile(text)
        except JMESPathError as e:
            msg = " ".join(str(e).split())
            raise UsageError(f"invalid --query {text!r}: {msg}") from None
        except RecursionError:  # jmespath's parser recurses once per nesting level
            raise UsageError(f"invalid --query {_short(text)}: nested too deeply") from None

    def apply(self, obj: Any) -> Any:
        try:
            return self._expr.search(obj)
        except self._search_errors:
            return None

    def dumps(self, obj: Any) -> bytes:
        return slowjson.dumps(self.apply(obj))  # orjson, or any depth and `1e999` as its text


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def compile_query(text: str | None) -> Query | None:
    return Query(text) if text else None
