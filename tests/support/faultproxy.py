"""A small threaded HTTP proxy in front of moto that injects CloudWatch failures by a scriptable plan.

Faults (names used in plans and in `FaultProxy.injected`):

* ``throttle``   400 + ``{"__type": "ThrottlingException"}`` (the request never reaches moto)
* ``500`` / ``503``  a server error with a JSON body (never reaches moto)
* ``drop``       the connection is closed before any response (request not forwarded)
* ``drop_mid``   moto answers, the proxy sends the headers and half the body, then closes
* ``empty``      an empty page that still carries a (synthetic) nextToken; following it resumes
                 exactly where the original request would have
* ``denied``     400 AccessDeniedException (a fatal error)
* ``repeat``     moto's page is returned with nextToken = the token the client sent (the
                 "same next token twice" case); only applies to requests that carry a token
* ``reject``     400 InvalidParameterException "The specified nextToken is invalid" (requests with
                 a token only)
* ``eventless``  HTTP 200 whose body is not a page: in turn ``{}``, ``{"events": null}``,
                 ``{"events": "x"}`` and an event with a string timestamp (never reaches moto)

`token_giveup="repeat"|"reject"` applies that fault to *every* request that carries a nextToken:
paging can then only advance by restarting queries, and a millisecond holding more than a page of
events can never be finished by following tokens (the "token recovery gives up" case).

Also: `rps` answers ThrottlingException beyond N FilterLogEvents requests per second (a token bucket
like the service quota), `page_bytes` caps pages like AWS's 1 MB, and `after_requests(n, fn)` runs
`fn` (e.g. insert late events with old timestamps into moto) when the n-th request arrives.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import json
import random
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("throttle", "500", "503", "drop", "drop_mid", "empty", "repeat", "denied", "reject", "eventless")
_TOKEN_FAULTS = ("repeat", "reject")
_EVENTLESS_BODIES = (
    b"{}",
    b'{"events": null}',
    b'{"events": "x", "nextToken": null}',
    b'{"events": [{"timestamp": "abc", "message": "m", "eventId": "1", "logStreamName": "s"}]}',
)
_EMPTY_TOKEN = "eksaudit-fault-empty|"


class FaultPlan:
    """Which fault (or None) the next request gets: first the `script` in order, then random `rates`.

    `rates` maps fault names to probabilities per request (seeded, reproducible); `max_faults` caps
    how many random faults are injected in total; `operations` limits the plan to some API calls.
    """

    def __init__(
        self,
        script: Iterable[str | None] = (),
        *,
        rates: dict[str, float] | None = None,
        seed: int = 0,
        max_faults: int | None = None,
        operations: Iterable[str] = ("FilterLogEvents",),
    ) -> None:
        for f in list(script) + list(rates or {}):
            if f is not None and f not in FAULTS:
                raise ValueError(f"unknown fault {f!r}; known: {', '.join(FAULTS)}")
        self.script = collections.deque(script)
        self.rates = dict(rates or {})
        self.rng = random.Random(seed)
        self.max_faults = max_faults
        self.operations = set(operations)
        self.random_injected = 0
        self._lock = threading.Lock()

    def queue(self, *faults: str | None) -> None:
        """Append faults to the script (None = one clean request)."""
        with self._lock:
            self.script.extend(faults)

    def next_fault(self, operation: str, has_token: bool) -> str | None:
        if operation not in self.operations:
            return None
        with self._lock:
            if self.script:
                f = self.script.popleft()
                return None if (f in _TOKEN_FAULTS and not has_token) else f
            if not self.rates or (self.max_faults is not None and self.random_injected >= self.max_faults):
                return None
            x = self.rng.random()
            for f, p in self.rates.items():
                if x < p:
                    if f in _TOKEN_FAULTS and not has_token:
                        return None
                    self.random_injected += 1
                    return f
                x -= p
            return None


class _Bucket:
    def __init__(self, rps: float) -> None:
        self.rps = rps
        self.tokens = rps
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.rps, self.tokens + (now - self.last) * self.rps)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class FaultProxy:
    """`FaultProxy(upstream).start()`; pass `.endpoint` as the client's endpoint URL; `.stop()` after."""

    def __init__(
        self,
        upstream: str,
        plan: FaultPlan | None = None,
        *,
        rps: float | None = None,
        page_bytes: int | None = None,
        upstream_limit: int | None = None,
        token_giveup: str | None = None,
    ) -> None:
        if token_giveup not in (None, *_TOKEN_FAULTS):
            raise ValueError(f"token_giveup must be one of {_TOKEN_FAULTS}")
        self.token_giveup = token_giveup
        u = urllib.parse.urlsplit(upstream)
        self.upstream_host = u.hostname or "127.0.0.1"
        self.upstream_port = u.port or 80
        self.plan = plan or FaultPlan()
        self.bucket = _Bucket(rps) if rps else None
        self.page_bytes = page_bytes
        self.upstream_limit = upstream_limit  # cap the `limit` forwarded to moto (bounds its work per page)
        self.request_times: list[float] = []  # time.monotonic() of each FilterLogEvents request
        self.injected: collections.Counter[str] = collections.Counter()
        self.requests = 0  # FilterLogEvents requests seen
        self.rate_throttled = 0
        self.request_log: list[dict[str, Any]] = []  # FilterLogEvents request bodies, in arrival order
        self._hooks: list[tuple[int, Callable[[], None]]] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server: ThreadingHTTPServer | None = None
        self.endpoint = ""

    # ---- control ---------------------------------------------------------------------------------
    def after_requests(self, n: int, fn: Callable[[], None]) -> None:
        """Run `fn` once, when the n-th FilterLogEvents request arrives (before it is served)."""
        with self._lock:
            self._hooks.append((n, fn))

    @property
    def total_injected(self) -> int:
        return sum(self.injected.values())

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                proxy._handle(self)

            def do_GET(self) -> None:  # noqa: N802
                proxy._handle(self)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="faultproxy", daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- request handling ------------------------------------------------------------------------
    def _upstream(self, body: bytes, method: str, path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        for attempt in range(2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
                self._local.conn = conn
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, resp.getheaders(), data
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> None:
        h.send_response(status)
        sent = set()
        for k, v in headers:
            if k.lower() in ("content-length", "transfer-encoding", "connection", "date", "server"):
                continue
            h.send_header(k, v)
            sent.add(k.lower())
        if "content-type" not in sent:
            h.send_header("Content-Type", "application/x-amz-json-1.1")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": code, "message": message}).encode()
        self._send(h, status, body, [("x-amzn-RequestId", "fault-proxy")])

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        target = h.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection", "content-length")}
        headers["Content-Length"] = str(len(body))
        req: dict[str, Any] = {}
        if operation == "FilterLogEvents":
            try:
                req = json.loads(body or b"{}")
            except ValueError:
                req = {}
            hooks: list[Callable[[], None]] = []
            with self._lock:
                self.requests += 1
                n = self.requests
                self.request_log.append(dict(req))
                self.request_times.append(time.monotonic())
                for i, (at, fn) in enumerate(list(self._hooks)):
                    if at <= n:
                        hooks.append(fn)
                        self._hooks[i] = (1 << 62, fn)  # run once
            for fn in hooks:
                fn()
            # unwrap a synthetic "empty page" token back into the real one
            tok = req.get("nextToken")
            if self.upstream_limit and int(req.get("limit") or 10_000) > self.upstream_limit:
                req["limit"] = self.upstream_limit
                body = json.dumps(req).encode()
                headers["Content-Length"] = str(len(body))
            if isinstance(tok, str) and tok.startswith(_EMPTY_TOKEN):
                real = tok.split("|", 2)[2]
                if real:
                    req["nextToken"] = real
                else:
                    req.pop("nextToken", None)
                body = json.dumps(req).encode()
                headers["Content-Length"] = str(len(body))
            if self.bucket is not None and not self.bucket.take():
                with self._lock:
                    self.rate_throttled += 1
                self._error(h, 400, "ThrottlingException", "Rate exceeded")
                return
        fault = self.plan.next_fault(operation, bool(req.get("nextToken")))
        if fault is None and self.token_giveup and operation == "FilterLogEvents" and req.get("nextToken"):
            fault = self.token_giveup
        if fault is not None:
            with self._lock:
                self.injected[fault] += 1
        if fault == "throttle":
            self._error(h, 400, "ThrottlingException", "Rate exceeded")
            return
        if fault == "denied":
            self._error(h, 400, "AccessDeniedException", "User is not authorized to perform: logs:FilterLogEvents")
            return
        if fault == "reject":
            self._error(h, 400, "InvalidParameterException", "The specified nextToken is invalid.")
            return
        if fault == "eventless":
            with self._lock:
                n = self.injected["eventless"]
            self._send(h, 200, _EVENTLESS_BODIES[(n - 1) % len(_EVENTLESS_BODIES)], [("x-amzn-RequestId", "fault-proxy")])
            return
        if fault in ("500", "503"):
            code = "InternalFailure" if fault == "500" else "ServiceUnavailableException"
            self._error(h, int(fault), code, "injected server error")
            return
        if fault == "drop":
            self._drop(h)
            return
        if fault == "empty":
            real = req.get("nextToken") or ""
            token = f"{_EMPTY_TOKEN}{self.requests}|{real}"
            self._send(h, 200, json.dumps({"events": [], "nextToken": token, "searchedLogStreams": []}).encode())
            return
        status, rheaders, data = self._upstream(body, h.command, h.path, headers)
        if operation == "FilterLogEvents" and status == 200 and (fault == "repeat" or self.page_bytes):
            data = self._rewrite(req, data, fault)
        if fault == "drop_mid":
            self._drop_mid(h, status, rheaders, data)
            return
        self._send(h, status, data, rheaders)

    def _rewrite(self, req: dict[str, Any], data: bytes, fault: str | None) -> bytes:
        resp = json.loads(data)
        events = resp.get("events") or []
        if self.page_bytes and events:
            size = 0
            for i, e in enumerate(events):
                size += len(e.get("message", "").encode()) + 26
                if size > self.page_bytes and i > 0:
                    last = events[i - 1]
                    resp["events"] = events[:i]
                    # moto's token format: resume after this event
                    resp["nextToken"] = f"{req.get('logGroupName')}@{last['logStreamName']}@{last['eventId']}"
                    break
        if fault == "repeat" and req.get("nextToken"):
            resp["nextToken"] = req["nextToken"]
        return json.dumps(resp).encode()

    @staticmethod
    def _drop(h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)

    def _drop_mid(self, h: BaseHTTPRequestHandler, status: int, rheaders: list[tuple[str, str]], data: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/x-amz-json-1.1")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[: max(1, len(data) // 2)])
        h.wfile.flush()
        self._drop(h)
