"""The outer retry: what botocore's own retries gave up on (throttling, 5xx, dropped connections).

The caller retries the *same* request (same nextToken), so a retried page is neither lost nor
repeated. Backoff is exponential with full jitter (sleep uniform(0, min(cap, base * 2**n))), bounded
by a total time budget and optionally an attempt count; then the run ends with AwsError (exit 3).
Sleep, clock and randomness are injected for tests.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..errors import AwsError
from .client import TransientAwsError

T = TypeVar("T")

DEFAULT_GIVE_UP_AFTER = 600.0  # seconds of consecutive failures on one request
# An endpoint that never answered is a configuration problem (region, endpoint URL, network) far
# more often than an outage: say so after a few attempts instead of retrying for ten minutes.
UNREACHABLE_ATTEMPTS = 4


@dataclass(eq=False, kw_only=True)
class RetryPolicy:
    """Retry a callable on TransientAwsError; `on_retry(kind, attempt, delay)` hears each retry.

    `base`/`cap`: the backoff (see `delay`); `give_up_after`: seconds of failures on one request;
    `max_attempts`: optionally an attempt count too; `unreachable_attempts`: how soon an endpoint
    that never answered is reported as a configuration problem (None: never).
    """

    base: float = 0.5
    cap: float = 60.0
    give_up_after: float = DEFAULT_GIVE_UP_AFTER
    max_attempts: int | None = None
    sleep: Callable[[float], object] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    unreachable_attempts: int | None = UNREACHABLE_ATTEMPTS
    retries: int = field(default=0, init=False)  # retries made, over every call
    ever_succeeded: bool = field(default=False, init=False)

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**attempt)), attempt counted from 0."""
        return self.rng.uniform(0.0, min(self.cap, self.base * (2 ** min(attempt, 30))))

    def call(
        self,
        fn: Callable[[], T],
        *,
        on_retry: Callable[[str, int, float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> T:
        """Run `fn` until it succeeds, a non-transient error escapes, or the budget is spent."""
        started = self.clock()
        attempt = 0
        while True:
            try:
                result = fn()
                self.ever_succeeded = True
                return result
            except TransientAwsError as e:
                elapsed = self.clock() - started
                attempt += 1
                if (
                    e.kind == "unreachable"
                    and not self.ever_succeeded
                    and self.unreachable_attempts is not None
                    and attempt >= self.unreachable_attempts
                ):
                    advice = (
                        "" if "proxy" in str(e)
                        else ": check --region, --endpoint-url (or AWS_ENDPOINT_URL) and the network"
                    )
                    raise AwsError(f"cannot reach CloudWatch Logs ({e}){advice}") from e
                if self.max_attempts is not None and attempt >= self.max_attempts:
                    raise self._give_up(e, attempt, elapsed) from e
                d = self.delay(attempt - 1)
                if elapsed + d > self.give_up_after:
                    raise self._give_up(e, attempt, elapsed) from e
                self.retries += 1
                if on_retry is not None:
                    on_retry(e.kind, attempt, d)
                if cancelled is not None and cancelled():
                    raise
                self.sleep(d)
                if cancelled is not None and cancelled():
                    raise

    def _give_up(self, e: TransientAwsError, attempts: int, elapsed: float) -> AwsError:
        if e.kind == "throttle":
            return AwsError(
                f"throttled out: {attempts} attempts over {elapsed:.0f}s ({e}); lower --max-rps or --workers, "
                "or retry later (FilterLogEvents' quota is shared by the whole AWS account)"
            )
        if e.kind == "server":
            advice = "CloudWatch Logs kept failing; retry later (--state FILE resumes where this run stopped)"
        else:
            advice = (
                "check the network, the proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) and --endpoint-url; "
                "--state FILE resumes where this run stopped"
            )
        return AwsError(f"gave up after {e.kind} errors: {attempts} attempts over {elapsed:.0f}s ({e}); {advice}")
