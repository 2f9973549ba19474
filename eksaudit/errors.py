"""One error family: the library raises these, the CLI renders them once as a single line.

Each class carries the exit status it stands for, so the CLI never guesses.
"""

from __future__ import annotations

from .status import ExitStatus


class EksauditError(Exception):
    """Base of every error the library raises on purpose."""

    status: ExitStatus = ExitStatus.ERROR

    def render(self) -> str:
        """The text shown to the user (one line unless a caret drawing is useful)."""
        return str(self)


class UsageError(EksauditError):
    """Bad option values or combinations."""


class InputError(EksauditError):
    """Unreadable input: carries where (file, line) when known."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}:{line}: " if line is not None else f"{source}: "
        super().__init__(f"{where}{message}")

    def __reduce__(self) -> tuple[type, tuple[str, str | None, int | None]]:
        # pickled with where it happened (a worker process reports it to the parallel scan)
        return (InputError, (self.message, self.source, self.line))


class ExpressionError(EksauditError):
    """A condition that does not parse or compile (subclassed by the condition engine)."""


class FieldError(ExpressionError):
    """An unknown field name or a bad field argument.

    `unknown` is True for a name that is no field at all (Falco's "unknown filter": a rule with
    `skip-if-unknown-filter` is then skipped, not failed).
    """

    def __init__(self, message: str, suggestions: list[str] | None = None, *, unknown: bool = False) -> None:
        self.message = message
        self.suggestions = suggestions or []
        self.unknown = unknown
        text = message
        if self.suggestions:
            text += "; did you mean " + ", ".join(self.suggestions) + "?"
        super().__init__(text)


class RulesError(EksauditError):
    """A rules file that cannot be loaded: names the file, the item and the problem."""


class AwsError(EksauditError):
    """An AWS failure that retries could not overcome."""

    status = ExitStatus.AWS_ERROR
