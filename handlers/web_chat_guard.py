"""The web chat's gate: recovery codes as credentials, rate limits, body limits, kind errors."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from bot.runtime import Runtime
from core import catalogue
from core.errors import ConsentRequired, DomainError
from core.model import CODE_ALPHABET, Client
from core.usecases.common import Sender
from storage.crypto import blind_index

CHANNEL = "web"
CODE_GROUPS, GROUP_SIZE = 4, 5  # 20 symbols of 24: about 92 bits
NO_STORE = {"Cache-Control": "no-store"}


def new_recovery_code() -> str:
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * GROUP_SIZE))
    return "-".join(symbols[i : i + GROUP_SIZE] for i in range(0, len(symbols), GROUP_SIZE))


def normalise_code(raw: str) -> str | None:
    """The canonical code, or None: case, spaces and dashes as typed do not matter."""
    symbols = "".join(ch for ch in raw.upper() if ch not in " -\t")
    if len(symbols) != CODE_GROUPS * GROUP_SIZE or any(ch not in CODE_ALPHABET for ch in symbols):
        return None
    return "-".join(symbols[i : i + GROUP_SIZE] for i in range(0, len(symbols), GROUP_SIZE))


class ApiError(Exception):
    """A mistake the user can cause: one kind sentence from the catalogue, and a status."""

    def __init__(self, status: int, error: str, key: str, /, **values: object) -> None:
        super().__init__(error)
        self.status, self.error, self.key, self.values = status, error, key, values


@dataclass
class TokenBucket:
    """At most `burst` at once, refilled at `per_second`; in memory, per worker process."""

    burst: float
    per_second: float
    _tokens: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str) -> bool:
        now = time.monotonic()
        tokens, last = self._tokens.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_second)
        allowed = tokens >= 1.0
        self._tokens[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._tokens) > 50_000:  # forget idle keys rather than grow without end
            self._tokens = {k: v for k, v in self._tokens.items() if now - v[1] < 600}
        return allowed


@dataclass
class WebChatConfig:
    max_body_bytes: int = 32 * 1024
    per_session: TokenBucket = field(default_factory=lambda: TokenBucket(20, 0.5))
    per_ip: TokenBucket = field(default_factory=lambda: TokenBucket(300, 5.0))
    poll_seconds: float = 1.0
    keepalive_seconds: float = 15.0
    stream_seconds: float = 55.0


def config_of(request: Request) -> WebChatConfig:
    config: WebChatConfig = request.app.state.web_chat
    return config


def runtime_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def lang_of(request: Request) -> str:
    lang = request.query_params.get("locale") or getattr(request.state, "web_lang", None)
    return lang if lang in catalogue.LOCALES else catalogue.DEFAULT_LOCALE


def limit_ip(request: Request) -> None:
    ip = request.client.host if request.client else "-"
    if not config_of(request).per_ip.take(ip):
        raise ApiError(429, "rate_limited", "web.rate_limited")


@dataclass
class WebSession:
    """One request of one ASN: the code (never logged or kept raw), the client once consented."""

    rt: Runtime
    code: str
    client: Client | None

    @property
    def sender(self) -> Sender:
        return Sender(CHANNEL, self.code)

    @property
    def lang(self) -> str:
        return self.client.locale if self.client else catalogue.DEFAULT_LOCALE

    @property
    def key(self) -> str:
        """A blind index of the code: names the session in rate limits and the inbox."""
        return blind_index(self.code, key=self.rt.svc.keyring.blind_index_key, namespace="web")

    def consented(self) -> Client:
        if self.client is None:
            raise ConsentRequired("error.consent_required")
        return self.client


async def find_client(rt: Runtime, code: str) -> Client | None:
    async with rt.uow() as uow:
        return await uow.clients.find(channel=CHANNEL, external_id=code)


async def web_session(request: Request) -> WebSession:
    limit_ip(request)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    code = normalise_code(given) if scheme.lower() == "bearer" else None
    if code is None:
        raise ApiError(401, "code_invalid", "web.code_invalid")
    rt = runtime_of(request)
    session = WebSession(rt, code, await find_client(rt, code))
    request.state.web_lang = session.lang
    if request.method == "POST" and not config_of(request).per_session.take(session.key):
        raise ApiError(429, "rate_limited", "web.rate_limited")
    return session


Session = Annotated[WebSession, Depends(web_session)]


async def read_json(request: Request) -> dict[str, Any]:
    """The JSON object of the body, read no further than the size limit."""
    limit = config_of(request).max_body_bytes
    declared = request.headers.get("Content-Length", "0")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", "web.too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "too_large", "web.too_large")
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_request", "web.bad_request") from None
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "web.bad_request")
    return data


def error_response(status: int, error: str, message: str) -> JSONResponse:
    headers = {**NO_STORE, "Retry-After": "2"} if status == 429 else NO_STORE
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


def refusal(request: Request, exc: ApiError | DomainError) -> JSONResponse:
    """A refused request or use case (empty or huge text, no consent yet, no case): its sentence."""
    lang = lang_of(request)
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.error, catalogue.text(exc.key, lang, **exc.values))
    if isinstance(exc, ConsentRequired):
        text = catalogue.text("error.consent_required", lang)
        return error_response(401, "consent_required", text)
    try:
        text = catalogue.text(str(exc), lang, **exc.values)
    except (KeyError, IndexError):
        text = catalogue.text("web.bad_request", lang)
    error = str(exc).rsplit(".", 1)[-1] or "bad_request"
    return error_response(404 if error == "not_found" else 400, error, text)


class WebRoute(APIRoute):
    """The web chat's routes answer refusals themselves, leaving the app's handlers alone."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (ApiError, DomainError) as exc:
                return refusal(request, exc)

        return guarded
