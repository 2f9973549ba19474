"""The CloudWatch Logs client: the only module that imports boto3/botocore (lazily, so `import eksaudit` stays fast).

`make_client` returns a `LogsClient`, a thin wrapper around one thread-safe boto3 client that turns
botocore's exception zoo into three kinds the rest of eksaudit understands without botocore:

* `TransientAwsError` (throttling, 5xx, dropped connections): retry the same request later;
* `TokenExpiredError`: the nextToken was rejected; restart the query from the last position;
* `AwsError` (fatal): access denied, missing log group, bad parameter, no credentials, unknown region;
  the message is one line that says what to fix.
"""

from __future__ import annotations

import contextlib
import os
import re
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import AwsError, UsageError

AUDIT_STREAM_PREFIX = "kube-apiserver-audit"


def cluster_log_group(cluster: str) -> str:
    """The log group EKS writes a cluster's control-plane logs to (the `eks.cluster` field reads it back)."""
    return f"/aws/eks/{cluster}/cluster"

# What each command needs, named in the "access denied" fix line.
PERMISSIONS_EVENTS = ("logs:FilterLogEvents", "logs:DescribeLogStreams", "logs:DescribeLogGroups")
PERMISSIONS_INSIGHTS = ("logs:StartQuery", "logs:GetQueryResults", "logs:StopQuery")

_THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "LimitExceededException",
    }
)
_SERVER_CODES = frozenset(
    {"ServiceUnavailableException", "ServiceUnavailable", "InternalFailure", "InternalError", "InternalServerError"}
)
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "ExpiredToken",
        "InvalidClientTokenId",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    }
)
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class TransientAwsError(AwsError):
    """A failure worth retrying with the same request: `kind` is throttle, server, connection, or
    unreachable (no connection could be made at all)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class TokenExpiredError(AwsError):
    """CloudWatch rejected a nextToken (expired after 24 h, or invalid): restart from the last position."""


@dataclass(frozen=True)
class AwsTarget:
    """Where the audit log lives: one or more log groups, a stream prefix, and how to reach AWS.

    `log_group` is the first group (by name); `extra_groups` the others, for `fetch`/`watch` over
    several clusters (`log_groups` gives them all, sorted, each once).
    """

    log_group: str
    stream_prefix: str | None = AUDIT_STREAM_PREFIX
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    extra_groups: tuple[str, ...] = ()

    @property
    def log_groups(self) -> tuple[str, ...]:
        return (self.log_group, *self.extra_groups)

    @classmethod
    def from_options(
        cls,
        cluster: str | Sequence[str] | None,
        log_group: str | Sequence[str] | None,
        stream_prefix: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
    ) -> AwsTarget:
        """`--cluster NAME` and/or `--log-group GROUP` (each repeatable), plus the optional overrides."""
        clusters = [cluster] if isinstance(cluster, str) else list(cluster or [])
        groups = [log_group] if isinstance(log_group, str) else list(log_group or [])
        if not clusters and not groups:
            raise UsageError("missing log source: give --cluster NAME or --log-group GROUP")
        for name in clusters:
            if "/" in name or not name.strip():
                raise UsageError(f"invalid cluster name {name!r}")
        for g in groups:
            if not str(g).strip():
                raise UsageError(f"invalid log group name {g!r}")
        every = sorted({*(cluster_log_group(c) for c in clusters), *(str(g) for g in groups)})
        # the audit prefix applies to --log-group too (an EKS group also holds the authenticator,
        # scheduler, ... logs); `--stream-prefix ''` reads every stream
        prefix = stream_prefix if stream_prefix is not None else AUDIT_STREAM_PREFIX
        if prefix == "":
            prefix = None
        return cls(every[0], prefix, region, profile, endpoint_url, tuple(every[1:]))

    def resolved_endpoint(self) -> str | None:
        """--endpoint-url, else AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, else AWS_ENDPOINT_URL."""
        return (
            self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )

    def with_endpoint(self, endpoint_url: str | None) -> AwsTarget:
        return replace(self, endpoint_url=endpoint_url)

    def resolved_region(self) -> str | None:
        """The AWS CLI v2 order: --region, AWS_REGION, AWS_DEFAULT_REGION, then the profile's region.

        botocore itself reads only AWS_DEFAULT_REGION and the profile, so AWS_REGION is applied here;
        None means "ask the profile" (boto3's session does that).
        """
        for value in (self.region, os.environ.get("AWS_REGION"), os.environ.get("AWS_DEFAULT_REGION")):
            if value and value.strip():
                return value.strip()
        return None


_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/@\s\"']+)@")


def mask_secrets(text: str) -> str:
    """`scheme://user:password@host` → `scheme://***@host` (endpoint and proxy URLs in messages)."""
    return _URL_CREDENTIALS.sub(r"\1***@", text)


def _is_loopback(url: str | None) -> bool:
    if not url:
        return False
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


@dataclass(eq=False)
class LogsClient:
    """One boto3 `logs` client shared by every worker thread, with errors translated (see module doc).

    `client.filter_log_events(**params)` and any other boto3 operation by name (`client.start_query`)
    raise only eksaudit errors. `raw` is the boto3 client for callers that need the botocore object.
    `on_retry` (settable) hears about each retry botocore makes internally: "throttle", "server" or
    "connection", so the shared rate limiter also learns from throttles botocore absorbed
    (`TokenBucket.on_retry`). The botocore hook behind it is registered here and nowhere else;
    fetch and watch only set who hears it.
    """

    raw: Any
    target: AwsTarget
    region: str
    endpoint_url: str | None
    max_attempts: int = 3
    on_retry: Callable[[str], None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.raw.meta.events.register("needs-retry.logs", self._needs_retry_hook)
        self.raw.meta.events.register("before-parse.cloudwatch-logs", _check_complete_body)

    def _needs_retry_hook(self, response: Any = None, caught_exception: Any = None, attempts: int = 0, **_: Any) -> None:
        cb = self.on_retry
        if cb is None or attempts >= self.max_attempts:  # botocore will not retry this one; our layer sees it
            return None
        kind = None
        if caught_exception is not None:
            kind = "connection"
        elif response is not None:
            http, parsed = response
            code = (parsed or {}).get("Error", {}).get("Code", "")
            status = getattr(http, "status_code", 200)
            if code in _THROTTLE_CODES or status == 429:
                kind = "throttle"
            elif status >= 500:
                kind = "server"
        if kind is not None:
            with contextlib.suppress(Exception):  # a statistics callback must never break a request
                cb(kind)
        return None  # let botocore's retry handler decide

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Run one API call; translate every botocore failure into an eksaudit error."""
        fn = getattr(self.raw, operation)
        try:
            return fn(**params)
        except Exception as e:  # noqa: BLE001 - translated below, re-raised if unknown
            raise translate_error(e, self.target, operation, params, self.region) from e

    def filter_log_events(self, **params: Any) -> dict[str, Any]:
        return self.call("filter_log_events", **params)

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        raw = self.__dict__.get("raw")
        if name.startswith("_") or raw is None or not hasattr(raw, name):
            raise AttributeError(name)
        return lambda **params: self.call(name, **params)


def _check_complete_body(
    response_dict: Any = None, operation_model: Any = None, customized_response_dict: Any = None, **_: Any
) -> None:
    """Refuse a 200 response whose body was cut short, and parse FilterLogEvents pages fast.

    botocore parses an unreadable JSON body as an empty result, so a FilterLogEvents page cut in
    half would look like "no events, no nextToken": the end of the query, silently losing the rest.
    FilterLogEvents pages (up to 10,000 events, 1 MB) are decoded with orjson and handed to botocore
    ready-made: its per-event shape walk is the client's main CPU cost, and this output shape holds
    only JSON strings and integers, so the result is identical.
    """
    if not response_dict or response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)):
        return
    headers = response_dict.get("headers") or {}
    expected = headers.get("content-length") or headers.get("Content-Length")
    name = getattr(operation_model, "name", "request")
    if expected is not None and expected.isdigit() and int(expected) != len(body):
        raise TransientAwsError("connection", f"{name}: response cut short ({len(body)} of {expected} bytes)")
    if not body.rstrip().endswith(b"}"):
        raise TransientAwsError("connection", f"{name}: response cut short (incomplete JSON)")
    if name == "FilterLogEvents" and customized_response_dict is not None:
        import orjson

        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise TransientAwsError("connection", f"{name}: unreadable response ({e})") from e
        if isinstance(data, dict):
            customized_response_dict.update(data)
            response_dict["body"] = b"{}"


def make_client(
    target: AwsTarget,
    *,
    max_pool: int = 10,
    max_attempts: int = 3,  # total attempts botocore makes per request before our outer retry
    connect_timeout: float = 5.0,
    read_timeout: float = 60.0,
) -> LogsClient:
    """A `LogsClient` from the profile/region options and the standard AWS environment.

    botocore's retry mode is set to `standard` explicitly (this botocore still defaults to `legacy`);
    our own outer retry (retry.py) handles what survives it. Host-prefix injection is turned off when
    an endpoint is overridden (otherwise Live Tail would call http://stream-127.0.0.1:PORT/).
    """
    import boto3
    import botocore.exceptions
    from botocore.config import Config

    endpoint = target.resolved_endpoint()
    try:
        session = boto3.Session(profile_name=target.profile, region_name=target.resolved_region())
    except botocore.exceptions.ProfileNotFound as e:
        raise AwsError(f"AWS profile {target.profile!r} not found: check --profile/AWS_PROFILE and ~/.aws/config") from e
    region = session.region_name
    if not region:
        if endpoint:
            region = "us-east-1"  # any region signs requests for a local endpoint
        else:
            raise AwsError("no AWS region: use --region or set AWS_REGION (or a region in your AWS profile)")
    if not endpoint:
        known = set()
        for partition in session.get_available_partitions():
            known.update(session.get_available_regions("logs", partition_name=partition))
        if region not in known and not _REGION_RE.match(region):
            raise AwsError(f"unknown AWS region {region!r}: use --region with a region such as us-east-1")
    cfg = Config(
        retries={"mode": "standard", "total_max_attempts": max(1, max_attempts)},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_pool_connections=max(10, max_pool),
        tcp_keepalive=True,
        inject_host_prefix=not endpoint,
        user_agent_extra="eksaudit",
    )
    kwargs: dict[str, Any] = {"region_name": region, "config": cfg}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
        if _is_loopback(endpoint) and session.get_credentials() is None:
            # a local test endpoint (eksaudit demo, moto) accepts any credentials
            kwargs["aws_access_key_id"] = "testing"
            kwargs["aws_secret_access_key"] = "testing"
    try:
        raw = session.client("logs", **kwargs)
    except botocore.exceptions.BotoCoreError as e:
        raise translate_error(e, target, "create client", {}, region) from e
    except ValueError as e:  # e.g. a malformed endpoint URL
        raise AwsError(mask_secrets(f"cannot create the CloudWatch Logs client: {e}")) from e
    return LogsClient(raw, target, region, endpoint, max(1, max_attempts))


def access_denied_fix(operation: str) -> str:
    """The IAM actions to grant, for the 'access denied' line."""
    needed = PERMISSIONS_INSIGHTS if operation in ("start_query", "get_query_results", "stop_query") else PERMISSIONS_EVENTS
    return ", ".join(needed)


def translate_error(
    exc: BaseException, target: AwsTarget, operation: str, params: dict[str, Any], region: str | None
) -> BaseException:
    """Map a botocore/urllib3 exception to TransientAwsError, TokenExpiredError or a fatal AwsError.

    Credentials inside an endpoint or proxy URL never reach a message (`mask_secrets`).
    """
    out = _translate_error(exc, target, operation, params, region)
    if isinstance(out, AwsError) and out.args:
        masked = mask_secrets(str(out.args[0]))
        if masked != out.args[0]:
            out.args = (masked, *out.args[1:])
    return out


def _translate_error(
    exc: BaseException, target: AwsTarget, operation: str, params: dict[str, Any], region: str | None
) -> BaseException:
    import botocore.exceptions as bex

    if isinstance(exc, AwsError):
        return exc
    group = params.get("logGroupName") or target.log_group
    where = f"log group {group} in {region or 'the configured region'}"
    if isinstance(exc, bex.ClientError):
        return _translate_client_error(exc, operation, params, group, where)
    if isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError)):
        return AwsError(
            "no AWS credentials found: set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, bex.ProfileNotFound):
        return AwsError(f"AWS profile not found ({exc}): check --profile/AWS_PROFILE and ~/.aws/config")
    if isinstance(exc, bex.NoRegionError):
        return AwsError("no AWS region: use --region or set AWS_REGION")
    token_errors = tuple(
        getattr(bex, n) for n in ("SSOTokenLoadError", "TokenRetrievalError", "UnauthorizedSSOTokenError") if hasattr(bex, n)
    )
    if token_errors and isinstance(exc, token_errors):
        return AwsError(f"AWS credentials could not be loaded ({exc}): run aws sso login or check your profile")
    if isinstance(exc, bex.ParamValidationError):
        return AwsError(f"invalid {operation} request: {exc}")
    if isinstance(exc, bex.ProxyConnectionError):
        # the proxy itself does not answer: a configuration problem, said after a few attempts
        return TransientAwsError(
            "unreachable",
            f"{operation}: cannot connect to the proxy ({exc}): check HTTPS_PROXY/HTTP_PROXY and NO_PROXY",
        )
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError)):
        # nothing answered at all: a wrong region or endpoint, or no network, unless it passes
        return TransientAwsError("unreachable", f"{operation}: cannot connect: {exc}")
    connection_errors: tuple[type[BaseException], ...] = (
        bex.EndpointConnectionError,
        bex.ConnectionClosedError,
        bex.ReadTimeoutError,
        bex.ConnectTimeoutError,
        bex.ConnectionError,
        bex.HTTPClientError,
        bex.ResponseStreamingError,
        bex.IncompleteReadError,
        ConnectionError,
        TimeoutError,
    )
    if isinstance(exc, connection_errors):
        return TransientAwsError("connection", f"{operation}: connection problem: {exc}")
    try:
        import urllib3.exceptions

        if isinstance(exc, (urllib3.exceptions.HTTPError,)):
            return TransientAwsError("connection", f"{operation}: connection problem: {exc}")
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, bex.BotoCoreError):
        return AwsError(f"{operation}: {exc}")
    if isinstance(exc, ValueError) and "JSON" in str(exc):  # a body cut short mid-response
        return TransientAwsError("connection", f"{operation}: unreadable response: {exc}")
    return exc


def _translate_client_error(
    exc: Any, operation: str, params: dict[str, Any], group: str, where: str
) -> BaseException:
    """A service error reply (botocore ClientError): retry-worthy, a token to restart, or fatal with the fix."""
    err = exc.response.get("Error", {})
    code = str(err.get("Code", ""))
    msg = str(err.get("Message", "") or exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _THROTTLE_CODES or status == 429:
        return TransientAwsError("throttle", f"{operation}: {code or 'throttled'}: {msg}")
    if status >= 500 or code in _SERVER_CODES:
        return TransientAwsError("server", f"{operation}: HTTP {status} {code}: {msg}")
    if code == "AccessDeniedException" or code == "AccessDenied":
        return AwsError(
            f"access denied calling {operation} on {where}: grant {access_denied_fix(operation)} "
            f"on arn:aws:logs:*:*:log-group:{group}:* to the caller"
        )
    if code in _CREDENTIAL_CODES:
        return AwsError(
            f"AWS rejected the credentials ({code}): refresh them (aws sso login, new session token) "
            "or check --profile/AWS_PROFILE"
        )
    if code == "ResourceNotFoundException":
        return AwsError(
            f"{where} not found: check --cluster/--log-group and --region, and that the EKS "
            "cluster's audit logging is enabled (aws eks update-cluster-config --logging)"
        )
    if code == "InvalidParameterException" and params.get("nextToken") and "token" in msg.lower():
        return TokenExpiredError(f"{operation}: nextToken rejected: {msg}")
    if code == "MalformedQueryException":
        return AwsError(f"Logs Insights rejected the query: {msg}")
    return AwsError(f"{operation} failed on {where}: {code}: {msg}")
