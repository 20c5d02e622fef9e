"""Settings that would harm the running service are refused at start, with the variable named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


@pytest.mark.parametrize("seconds", [0, -5])
def test_a_setup_refresh_of_zero_or_less_is_refused(seconds: float) -> None:
    with pytest.raises(ValidationError, match="SAPA_SETUP_REFRESH_SECONDS must be more than 0"):
        Settings(_env_file=None, setup_refresh_seconds=seconds)


def test_the_default_refresh_is_thirty_seconds() -> None:
    assert Settings(_env_file=None).setup_refresh_seconds == 30.0
