"""HTTP plumbing of the staff console: security headers, small forms, rate limits."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_FORM_BYTES = 16 * 1024
PREFIX = "/staff"
HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


class Stop(Exception):
    """Ends a request early with this response (login redirect, 403, 413, 429)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status)


class ConsoleHeaders:
    """Every response under /staff carries the security headers, whoever produced it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() not in HEADERS
                ]
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                message["headers"] = kept + extra
            await send(message)

        await self.app(scope, receive, with_headers)


async def read_form(request: Request) -> dict[str, str]:
    """A urlencoded form of at most MAX_FORM_BYTES (413 beyond), first value of each field."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
        raise Stop(Response(status_code=413))
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Stop(Response(status_code=413))
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    return {name: values[0] for name, values in fields.items()}


def same_origin(request: Request, public_url: str | None) -> bool:
    """Refuse a POST a browser says came from another site (Sec-Fetch-Site or Origin).

    With Referrer-Policy no-referrer, Chromium sends `Origin: null` for our own forms, so
    null is no evidence either way: the CSRF token decides then.
    """
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    allowed = {request.headers.get("host", ""), urlparse(public_url or "").netloc}
    return urlparse(origin).netloc in allowed - {""}


@dataclass
class Buckets:
    """Token buckets in memory, one per key (an IP or a session): capacity, then a trickle."""

    capacity: float
    per_second: float
    _state: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str) -> bool:
        now = time.monotonic()
        tokens, since = self._state.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - since) * self.per_second)
        if len(self._state) > 10_000:
            self._state.clear()  # a flood of keys: forget rather than grow without end
        self._state[key] = (tokens - 1, now) if tokens >= 1 else (tokens, now)
        return tokens >= 1


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
