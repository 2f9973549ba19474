"""Exit statuses, named once so every command maps outcomes the same way."""

from enum import IntEnum


class ExitStatus(IntEnum):
    MATCHED = 0  # something matched or was printed
    NO_MATCH = 1  # ran fine, nothing matched
    ERROR = 2  # usage, expression, rules or input error
    AWS_ERROR = 3  # AWS error that retries could not overcome
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
