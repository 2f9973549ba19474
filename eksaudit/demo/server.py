"""A local CloudWatch Logs endpoint (moto's server) on 127.0.0.1 and a free port.

Used by `eksaudit demo`, the tests and the benchmarks. moto is an optional extra
(`eksaudit[demo]`), so it is imported only when a server is started.
"""

from __future__ import annotations

import logging
import urllib.request
from types import TracebackType

from ..errors import UsageError


class LocalCloudWatch:
    """Start with `start()` (or use as a context manager); `endpoint` is the URL to pass to boto3."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server = None
        self.endpoint: str = ""

    def start(self) -> LocalCloudWatch:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as e:  # pragma: no cover - depends on the installed extras
            raise UsageError(
                "the local CloudWatch endpoint needs moto: pip install 'eksaudit[demo]'"
            ) from e
        # werkzeug logs every request on stderr; the demo's and the tests' output must stay clean
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint = f"http://{host}:{port}"
        return self

    def reset(self) -> None:
        """Forget every log group (moto's reset API)."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10):
            pass

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalCloudWatch:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
