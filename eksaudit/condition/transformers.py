"""Value transformers (docs/conditions.md#transformers): pure functions on extracted values, None = missing.

The single-value transformers apply to each element of a list. A transformer that fails (invalid
base64) makes the value missing, so the check is false, as in Falco.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from .operators import ascii_lower, ascii_upper

_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def b64decode(v: Any) -> Any:
    """Standard alphabet, padding optional; invalid input gives None (missing)."""
    raw = v.encode("utf-8") if isinstance(v, str) else bytes(v)
    text = raw.rstrip(b"=")
    if any(chr(c) not in _B64_ALPHABET or c == 0x3D for c in text):
        return None
    if len(text) % 4 == 1:
        return None
    try:
        out = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return out.decode("utf-8", "replace") if isinstance(v, str) else out


def basename(v: str) -> str:
    """Text after the last `/`: `/a/b` -> `b`, `/a/` -> ``, `abc` -> `abc`."""
    return v.rsplit("/", 1)[-1]


def length(v: Any) -> int:
    """Byte length of a string or buffer, element count of a list."""
    if isinstance(v, str):
        return len(v) if v.isascii() else len(v.encode("utf-8", "surrogatepass"))
    return len(v)


SCALAR_FUNCS = {
    "tolower": ascii_lower,
    "toupper": ascii_upper,
    "b64": b64decode,
    "basename": basename,
}


def getopt(args: Sequence[str], optstring: str, want: str | None) -> Any:
    """POSIX getopt over an argument list.

    Without `want`: a list alternating option letters and their arguments (flags have none), e.g.
    `-n -t 5 x` with "nt:" gives ["n", "t", "5"]. With `want` (a letter): that option's argument,
    the letter itself for a flag that was given, or None when absent. Parsing stops at `--` or at
    the first non-option argument, as POSIX getopt does.
    """
    takes_arg = {}
    i = 0
    while i < len(optstring):
        c = optstring[i]
        if c != ":":
            takes_arg[c] = i + 1 < len(optstring) and optstring[i + 1] == ":"
        i += 1
    out: list[str] = []
    found: str | None = None
    k = 0
    while k < len(args):
        a = args[k]
        if a == "--" or not a.startswith("-") or a == "-":
            break
        j = 1
        while j < len(a):
            c = a[j]
            if c not in takes_arg:
                j += 1
                continue
            if takes_arg[c]:
                if j + 1 < len(a):
                    val = a[j + 1 :]
                elif k + 1 < len(args):
                    k += 1
                    val = args[k]
                else:
                    break
                out += [c, val]
                if c == want:
                    found = val
                break
            out.append(c)
            if c == want:
                found = c
            j += 1
        k += 1
    if want is not None:
        return found
    return out or None
