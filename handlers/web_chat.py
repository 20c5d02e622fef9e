"""The ASN web chat at `/` (to be built: issue 5)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from bot.settings import Settings


def mount(app: FastAPI, settings: Settings) -> None:
    """Add the web chat's routes to the app."""


def senders(rt: Any) -> dict[str, Any]:
    """The outbox senders of the web channel (channel name -> Sender)."""
    return {}
