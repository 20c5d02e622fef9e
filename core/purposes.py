"""Why a staff member reads a transcript: a fixed list of codes, never free text.

A typed purpose could carry case content to the admin's audit page; a code cannot.
Labels live in the catalogues under `purpose.<code>`.
"""

from __future__ import annotations

from core.errors import InvalidInput

READ_PURPOSES = ("respond", "review", "supervision", "transfer", "client_request", "safety")
UNSPECIFIED = "unspecified"  # reads recorded before purposes were codes
READ_ACTION = "transcript.read"


def read_purpose(raw: str | None) -> str:
    """The purpose code chosen; anything else is refused before it can be stored."""
    code = (raw or "").strip().lower()
    if code not in READ_PURPOSES:
        raise InvalidInput("error.bad_purpose")
    return code


def shown_purpose(action: str, purpose: str | None) -> str | None:
    """What an audit reader may see: a known code for reads (old free text hidden)."""
    if action != READ_ACTION:
        return purpose
    return purpose if purpose in READ_PURPOSES else UNSPECIFIED


def purpose_label_key(code: str) -> str:
    return f"purpose.{code if code in READ_PURPOSES else UNSPECIFIED}"
