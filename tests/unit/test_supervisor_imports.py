"""The supervisor of `sapa serve --workers N` stays small: only the workers build the app."""

from __future__ import annotations

import subprocess
import sys


def test_the_supervisor_does_not_import_the_app_or_aiogram() -> None:
    probe = (
        "import sys, bot.cli, bot.serve, bot.serve_workers; "
        "print(sorted(m for m in ('aiogram', 'bot.app', 'fastapi', 'redis') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
