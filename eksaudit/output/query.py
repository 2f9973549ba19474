"""`--query JMESPATH`: compiled once, applied to each JSON object a writer is about to print."""

from __future__ import annotations

from typing import Any

import jmespath
import orjson
from jmespath.exceptions import JMESPathError

from ..errors import UsageError


class Query:
    """A compiled JMESPath expression. A bad expression is a UsageError before any output.

    At run time an expression that fails on one object (a function given the wrong type because a
    key is missing) gives `null` for that object, as a missing key does, rather than ending the run.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            self._expr = jmespath.compile(text)
        except JMESPathError as e:
            msg = " ".join(str(e).split())
            raise UsageError(f"invalid --query {text!r}: {msg}") from None

    def apply(self, obj: Any) -> Any:
        try:
            return self._expr.search(obj)
        except JMESPathError:
            return None

    def dumps(self, obj: Any) -> bytes:
        return orjson.dumps(self.apply(obj))


def compile_query(text: str | None) -> Query | None:
    return Query(text) if text else None
