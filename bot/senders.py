"""The Sender port the outbox worker delivers through, and its failure signals."""

from __future__ import annotations

from typing import Any, Protocol


class RetryLater(Exception):
    """The channel asked us to wait (Telegram 429 retry_after, WhatsApp rate limits)."""

    def __init__(self, seconds: float, code: str = "rate_limited") -> None:
        super().__init__(code)
        self.seconds = seconds
        self.code = code


class DeliveryFailed(Exception):
    """Delivery failed; `permanent` failures go straight to the dead letters."""

    def __init__(self, code: str, *, permanent: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, *, address: str, payload: dict[str, Any]) -> str | None: ...
