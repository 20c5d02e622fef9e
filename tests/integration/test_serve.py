"""`sapa serve` as a process: health, readiness, a clean stop, and no content in its logs."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.integration.test_cli import SAPA, _env, sapa


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[str], seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_serve_answers_health_and_readiness_and_stops_cleanly(db_url: str, tmp_path: Path) -> None:
    env = _env(db_url, tmp_path)
    env["SAPA_NLU_URL"] = "http://127.0.0.1:9"  # an external NLU server that is down
    assert sapa(env, "db", "upgrade").returncode == 0
    port = _free_port()
    process = subprocess.Popen(
        [*SAPA, "serve", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        assert health.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert (ready.status_code, ready.json()["status"]) == (200, "ready")
        assert httpx.get(f"http://127.0.0.1:{port}/nope", timeout=5).status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status says why.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    assert "Traceback" not in stderr
    assert "sapa serve ready" in stderr
