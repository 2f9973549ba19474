"""Rules files read before, kept on disk: their documents without importing PyYAML again.

Importing PyYAML and composing a rules file is a tenth of `filter -r`'s start-up (30 of 290 ms for
Falco's upstream rules), the same work every run for a file that rarely changes. So the documents
of a file that parsed (`yamlload.load_documents`) are kept in the user's cache, keyed by the text
and by what reads it (this package's YAML layer and PyYAML's files): the next run of the same
file rebuilds them in 2 ms. A file that does not parse is never kept: its error is the parser's.

`EKSAUDIT_CACHE_DIR` names the cache folder (default `$XDG_CACHE_HOME/eksaudit`, else
`~/.cache/eksaudit`); set to an empty value, nothing is kept or read. The cache is best effort:
a folder that cannot be made or written, or that another user owns or others may write to, is not
used, and an entry that does not read back as documents is parsed again. Entries are `marshal`
data (plain tuples, lists, strings and numbers, never pickles) after their SHA-256, checked first:
a damaged file is never unmarshalled.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import stat
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from .yamlload import YMap, YSeq, YStr

__all__ = ["cache_dir", "load", "store"]

MAX_ENTRIES = 64  # files kept; the oldest go first
_FORMAT = b"eksaudit rules documents 1"
_STR, _SEQ, _MAP = 0, 1, 2


def cache_dir() -> Path | None:
    """The folder entries live in (None: caching is off)."""
    env = os.environ.get("EKSAUDIT_CACHE_DIR")
    if env is not None:
        return Path(env) / "rules" if env else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "eksaudit" / "rules"


_READER_KEY: bytes | None = None


def _reader_key() -> bytes:
    """What reads a text into documents: this package's YAML layer and PyYAML's installed files
    (an upgrade of either makes every entry stale), and Python's marshal version."""
    global _READER_KEY
    if _READER_KEY is None:
        h = hashlib.sha256(_FORMAT)
        h.update(Path(__file__).with_name("yamlload.py").read_bytes())
        spec = find_spec("yaml")
        places = [spec.origin, *(spec.submodule_search_locations or ())] if spec is not None else []
        for place in places:
            if place:
                st = os.stat(place)
                h.update(f"{place}\0{st.st_mtime_ns}\0{st.st_size}".encode())
        h.update(f"{sys.version_info[:2]}\0{marshal.version}".encode())
        _READER_KEY = h.digest()
    return _READER_KEY


def _entry(folder: Path, text: str) -> Path:
    h = hashlib.sha256(_reader_key())
    h.update(text.encode("utf-8", "surrogatepass"))
    return folder / f"{h.hexdigest()}.docs"


def _private(folder: Path) -> bool:
    """The folder is the user's own and nobody else may write to it."""
    try:
        st = folder.stat()
    except OSError:
        return False
    owner = getattr(os, "getuid", None)
    return stat.S_ISDIR(st.st_mode) and (owner is None or st.st_uid == owner()) and not st.st_mode & 0o022


def load(text: str) -> list[Any] | None:
    """The documents kept for `text`, or None (not kept, caching off, or an entry that does not read)."""
    folder = cache_dir()
    if folder is None or not _private(folder):
        return None
    try:
        data = _entry(folder, text).read_bytes()
        digest, payload = data[:32], data[32:]
        if hashlib.sha256(payload).digest() != digest:  # damaged: marshal could build anything of it
            return None
        docs = marshal.loads(payload)
        if type(docs) is not list:
            return None
        return [_decode(d) for d in docs]
    except (OSError, ValueError, EOFError, TypeError, IndexError, RecursionError, MemoryError):
        return None


def store(text: str, docs: list[Any]) -> None:
    """Keep `text`'s documents, if the cache folder can be made and written (else nothing)."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        payload = marshal.dumps([_encode(d) for d in docs])
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(folder):
            return
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, _entry(folder, text))
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(folder)
    except (OSError, ValueError, RecursionError):
        return


def _prune(folder: Path) -> None:
    entries = [p for p in folder.iterdir() if p.suffix == ".docs"]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime_ns)
    for p in entries[: len(entries) - MAX_ENTRIES]:
        p.unlink(missing_ok=True)


def _encode(v: Any) -> Any:
    """A document as tuples marshal keeps: (0, text, line, col), (1, line, items), (2, line,
    [(key, key line, value)]), None."""
    if v is None:
        return None
    if isinstance(v, YStr):
        return (_STR, str(v), v.line, v.col)
    if isinstance(v, YSeq):
        return (_SEQ, v.line, [_encode(x) for x in v])
    if isinstance(v, YMap):
        return (_MAP, v.line, [(k, v.key_lines[k], _encode(x)) for k, x in v.items()])
    raise ValueError(f"not a rules document value: {type(v).__name__}")


def _decode(v: Any) -> Any:
    if v is None:
        return None
    kind = v[0]
    if kind == _STR:
        _, text, line, col = v
        if type(text) is not str or type(line) is not int or type(col) is not int:
            raise TypeError("bad entry")
        return YStr(text, line, col)
    if kind == _SEQ:
        _, line, items = v
        return YSeq([_decode(x) for x in items], line)
    if kind == _MAP:
        _, line, items = v
        m = YMap(line)
        for key, key_line, x in items:
            if type(key) is not str or type(key_line) is not int:
                raise TypeError("bad entry")
            m[key] = _decode(x)
            m.key_lines[key] = key_line
        return m
    raise TypeError("bad entry")
