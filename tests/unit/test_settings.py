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


def test_sapa_names_the_wrong_setting_and_never_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.setenv("SAPA_SETUP_REFRESH_SECONDS", "0")
    monkeypatch.setenv("SAPA_HTTP_PORT", "kanari-7731")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    said = result.output
    assert "SAPA_SETUP_REFRESH_SECONDS: Value error, " in said and "more than 0" in said
    assert "SAPA_HTTP_PORT: Input should be a valid integer" in said
    assert "kanari-7731" not in said
