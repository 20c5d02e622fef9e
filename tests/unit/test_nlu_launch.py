"""nlu/launch.py: Rasa's command line with JAX kept out and freed memory given back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nlu import launch
from nlu.server import LAUNCH, RASA, _run_command


def test_the_server_is_started_through_the_launcher() -> None:
    command = _run_command(RASA, Path("model.tar.gz"), 5005, "t")
    assert command[:4] == [str(RASA.parent / "python"), str(LAUNCH), "run", "--enable-api"]


def test_glibc_malloc_trim_is_found_here() -> None:
    trim = launch._malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)


def test_the_trim_loop_trims_every_period(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        if len(calls) == 3:
            raise SystemExit
        return 1

    monkeypatch.setattr(launch.time, "sleep", sleeps.append)
    with pytest.raises(SystemExit):
        launch._trim_forever(trim, 7.0)
    assert calls == [0, 0, 0]
    assert sleeps == [7.0, 7.0, 7.0]


def test_jax_cannot_be_imported_in_the_launched_process(tmp_path: Path) -> None:
    # The launcher's main, with Rasa's entry point replaced by a probe of what Rasa would see.
    fake = tmp_path / "rasa"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(
        "import sys, threading\n"
        "def main():\n"
        "    try:\n"
        "        import jax\n"
        "    except ImportError:\n"
        "        print('no-jax')\n"
        "    print(sys.argv)\n"
        "    print(any(t.name == 'malloc-trim' for t in threading.enumerate()))\n"
    )
    done = subprocess.run(
        [sys.executable, str(LAUNCH), "run", "--enable-api"],
        capture_output=True, text=True, check=True, timeout=60, cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.stdout.splitlines() == ["no-jax", "['rasa', 'run', '--enable-api']", "True"]
