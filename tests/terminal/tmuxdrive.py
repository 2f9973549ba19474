"""Drive a shell in a real terminal (a detached tmux session) the way a person uses eksaudit.

Why tmux: colour, progress lines and Ctrl-C all depend on stdout/stderr being a real tty and on
the terminal's line discipline (Ctrl-C becomes SIGINT for the foreground process group, `| cat`
included). CliRunner and pipes cannot show any of that.

Each `Terminal` starts its own tmux server (`-L <unique socket name>`, no config file), runs
`bash --norc --noprofile` in a fixed-size window, types commands with `send-keys`, reads the
screen with `capture-pane -p -e` (escape codes kept) and waits for markers with bounded polls.
`close()` kills that server and nothing else.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

TMUX = shutil.which("tmux") or "/usr/bin/tmux"
PROMPT = "eksaudit-tty$ "
MARK = "__EKSAUDIT_DONE"
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# variables from the developer's terminal that would change what eksaudit decides
_DROP_ENV = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TMUX", "TMUX_PANE", "PROMPT_COMMAND", "PS1")


def _done(n: int) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(MARK)}_{n} rc=(-?\d+)\s*$", re.M)


def tmux_available() -> bool:
    return os.path.exists(TMUX) and os.access(TMUX, os.X_OK)


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


@dataclass
class Result:
    """What a command left on the screen: its output lines (escape codes kept) and exit status."""

    status: int
    lines: list[str]

    @property
    def plain(self) -> list[str]:
        return [strip_ansi(line) for line in self.lines]


class Terminal:
    """A bash prompt in a tmux window of `width` x `height` (`history` lines kept); a context manager."""

    _counter = itertools.count()

    def __init__(
        self,
        *,
        width: int = 220,
        height: int = 50,
        history: int = 10_000,
        env: Mapping[str, str | None] | None = None,
        cwd: Path | str | None = None,
    ) -> None:
        """`env` is added to this process's environment (a None value removes the variable)."""
        self.width = width
        self.height = height
        self.history = history
        self.socket = f"eksaudit-test-{os.getpid()}-{uuid.uuid4().hex[:10]}"
        base = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
        for k, v in (env or {}).items():
            if v is None:
                base.pop(k, None)
            else:
                base[k] = v
        base["PS1"] = PROMPT
        self.env = base
        self.cwd = str(cwd) if cwd is not None else os.getcwd()
        self._started = False
        self._socket_path = ""

    # ---- lifecycle ---------------------------------------------------------------------------
    def _tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [TMUX, "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True, text=True, env=self.env, check=check, timeout=20,
        )

    def start(self) -> Terminal:
        # one client call: the history limit must be set before the pane exists
        self._tmux(
            "start-server", ";", "set-option", "-g", "history-limit", str(self.history), ";",
            "new-session", "-d", "-s", "main", "-x", str(self.width), "-y", str(self.height), "-c", self.cwd,
            "bash --norc --noprofile",
        )
        self._started = True
        self._socket_path = self._tmux("display-message", "-p", "#{socket_path}").stdout.strip()
        # the server copies the client's environment when it starts; set the prompt explicitly anyway
        # (bash may not take PS1 from the environment), then wait until it shows
        self.type(f"PS1='{PROMPT}'; unset PROMPT_COMMAND; clear")
        self.wait_until(lambda s: s.rstrip().endswith(PROMPT.rstrip()) and "clear" not in s, timeout=10,
                        what="the shell prompt")
        self._tmux("clear-history", "-t", "main")
        return self

    def close(self) -> None:
        if self._started:
            self._tmux("kill-server", check=False)
            self._started = False
            if self._socket_path:  # tmux leaves its socket file behind
                with contextlib.suppress(OSError):
                    os.unlink(self._socket_path)

    def __enter__(self) -> Terminal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- keyboard ----------------------------------------------------------------------------
    def type(self, text: str, enter: bool = True) -> None:
        """Type `text` literally (then Enter)."""
        self._tmux("send-keys", "-t", "main", "-l", text)
        if enter:
            self._tmux("send-keys", "-t", "main", "Enter")

    def press(self, *keys: str) -> None:
        """Press named keys, e.g. `press("C-c")`."""
        self._tmux("send-keys", "-t", "main", *keys)

    # ---- screen ------------------------------------------------------------------------------
    def screen(self, *, escapes: bool = True, history: bool = True) -> str:
        """The pane's text (with SGR escape codes unless `escapes=False`); wrapped lines joined."""
        args = ["capture-pane", "-p", "-J", "-t", "main"]
        if escapes:
            args.append("-e")
        if history:
            args += ["-S", "-"]
        return self._tmux(*args).stdout

    def wait_until(
        self, ready: Callable[[str], bool], *, timeout: float = 20, what: str = "text", escapes: bool = False
    ) -> str:
        """Poll the screen until `ready(screen)`; fail with the screen's content after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen(escapes=escapes)
            if ready(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; screen:\n{text}")
            time.sleep(0.1)

    def wait_for(self, needle: str, *, timeout: float = 20) -> str:
        return self.wait_until(lambda s: needle in s, timeout=timeout, what=repr(needle))

    def wait_prompt(self, *, timeout: float = 20) -> str:
        """Wait until the last non-empty screen line ends with a bare prompt (the foreground job ended).

        "Ends with": after Ctrl-C the prompt may follow the echoed `^C` on the same line.
        """
        def ready(s: str) -> bool:
            lines = [ln for ln in s.splitlines() if ln.strip()]
            return bool(lines) and lines[-1].rstrip().endswith(PROMPT.rstrip())
        return self.wait_until(ready, timeout=timeout, what="the prompt")

    # ---- commands ----------------------------------------------------------------------------
    _token = itertools.count(1)

    def run(self, command: str, *, timeout: float = 30, status: str = "$?") -> Result:
        """Type `command`, wait for it to finish, return its screen output and exit status.

        `status` is the shell expression reported, e.g. `${PIPESTATUS[0]}` for the first command of
        a pipeline.
        """
        return self.run_end(self.run_start(command, status=status), timeout=timeout)

    def run_start(self, command: str, *, status: str = "$?") -> int:
        """Type `command` followed by its end marker; returns the token for `finished`/`run_end`.

        The marker is typed split in two (`"__A""B"`) so the command line itself never matches it.
        """
        n = next(self._token)
        mark = f"{MARK}_{n}"
        half = len(MARK) // 2
        self.type(f'{command}; echo "{mark[:half]}""{mark[half:]} rc={status}"')
        return n

    def finished(self, n: int, screen: str) -> bool:
        """Whether command `n`'s end marker is on `screen`."""
        return _done(n).search(strip_ansi(screen)) is not None

    def run_end(self, n: int, *, timeout: float = 30) -> Result:
        return self._collect(n, timeout)

    def status_of_last(self, *, status: str = "$?", timeout: float = 10) -> Result:
        """Ask the shell for the exit status of the command that just ended (typed as a new line)."""
        n = next(self._token)
        mark = f"{MARK}_{n}"
        half = len(MARK) // 2
        self.type(f'echo "{mark[:half]}""{mark[half:]} rc={status}"')
        return self._collect(n, timeout)

    def _collect(self, n: int, timeout: float) -> Result:
        mark = f"{MARK}_{n}"
        done = _done(n)
        self.wait_until(lambda s: done.search(strip_ansi(s)) is not None, timeout=timeout, what=f"command {n} to end")
        lines = self.screen(escapes=True).splitlines()
        plain = [strip_ansi(ln) for ln in lines]
        end = next(i for i in range(len(plain) - 1, -1, -1) if done.match(plain[i]))
        half = len(MARK) // 2
        typed = f'{mark[:half]}""{mark[half:]}'
        begin = max(i for i in range(end) if typed in plain[i])
        m = done.match(plain[end])
        assert m is not None
        return Result(int(m.group(1)), lines[begin + 1 : end])
