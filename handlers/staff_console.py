"""The staff console at `/staff` (to be built: issue 5)."""

from __future__ import annotations

from fastapi import FastAPI

from bot.settings import Settings


def mount(app: FastAPI, settings: Settings) -> None:
    """Add the staff console's routes to the app."""
