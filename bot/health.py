"""Is the NLU server answering? One short request to Rasa's root path; no text is sent."""

from __future__ import annotations

import httpx

from bot.settings import Settings


async def nlu_up(settings: Settings, *, seconds: float = 1.0) -> bool | None:
    """True when it answers, False when it does not, None when no NLU server is configured."""
    if not settings.nlu_url:
        return None
    try:
        async with httpx.AsyncClient(timeout=seconds) as http:
            response = await http.get(settings.nlu_url.rstrip("/") + "/")
    except httpx.HTTPError:
        return False
    return response.status_code == 200
