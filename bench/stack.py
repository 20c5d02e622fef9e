"""Processes under test: a fresh database, `sapa serve` (webhooks) and the bare aiogram echo bot.

Each runs as its own OS process, like in production, so its RSS is measured alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import psutil
from sqlalchemy.engine import make_url

from nlu.server import free_port

ROOT = Path(__file__).resolve().parents[1]
SAPA = ROOT / ".venv" / "bin" / "sapa"
CLIENT_TOKEN = "1111:bench-asn-bot"  # noqa: S105 (the fake Bot API only)
STAFF_TOKEN = "2222:bench-staff-bot"  # noqa: S105 (the fake Bot API only)
ECHO_TOKEN = "3333:bench-echo-bot"  # noqa: S105 (the fake Bot API only)
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@contextlib.asynccontextmanager
async def fresh_database(kind: str, workdir: Path) -> AsyncIterator[str]:
    """A new SQLite file, or a new PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'sapa.db'}"
        return
    base = os.environ.get("SAPA_TEST_POSTGRES_URL", DEFAULT_PG)
    admin_url = make_url(base).set(drivername="postgresql").render_as_string(False)
    name = f"sapa_bench_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(admin_url, timeout=5)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(admin_url, timeout=5)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class Process:
    """A child process with its address, log file and RSS samples (peak kept)."""

    proc: asyncio.subprocess.Process
    url: str
    log: Path
    peak_rss: int = 0
    _sampler: asyncio.Task[None] | None = field(default=None, repr=False)

    def _tree(self) -> list[psutil.Process]:
        """The process and its children (`sapa serve --workers N` runs N worker processes)."""
        with contextlib.suppress(psutil.Error):
            parent = psutil.Process(self.proc.pid)
            return [parent, *parent.children(recursive=True)]
        return []

    def sample(self) -> int:
        rss = 0
        for process in self._tree():
            with contextlib.suppress(psutil.Error):
                rss += int(process.memory_info().rss)
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def cpu_seconds(self) -> float:
        """User + system CPU time so far: a cost per update that a busy machine barely skews."""
        total = 0.0
        for process in self._tree():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += float(times.user + times.system)
        return total

    def start_sampling(self, every: float = 0.25) -> None:
        async def loop() -> None:
            while True:
                self.sample()
                await asyncio.sleep(every)

        self._sampler = asyncio.create_task(loop())

    def stop_sampling(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None

    async def stop(self) -> None:
        self.stop_sampling()
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def app_env(*, database_url: str, workdir: Path, api_base: str, nlu: tuple[str, str | None],
            port: int) -> dict[str, str]:  # fmt: skip
    env = dict(os.environ)
    env.update(
        SAPA_DATABASE_URL=database_url,
        SAPA_KEY_FILE=str(workdir / "keys.json"),
        SAPA_VAR_DIR=str(workdir),
        SAPA_PARTNERS_FILE=str(ROOT / "config" / "partners.yaml"),
        SAPA_NLU_URL=nlu[0],
        SAPA_NLU_TOKEN=nlu[1] or "",
        SAPA_TELEGRAM_CLIENT_TOKEN=CLIENT_TOKEN,
        SAPA_TELEGRAM_STAFF_TOKEN=STAFF_TOKEN,
        SAPA_TELEGRAM_API_BASE=api_base,
        SAPA_PUBLIC_URL=f"http://127.0.0.1:{port}",
        SAPA_LOG_LEVEL="WARNING",
    )
    return env


def sapa(env: dict[str, str], *args: str) -> str:
    """Run a `sapa` CLI command to completion; returns its standard output."""
    done = subprocess.run(
        [str(SAPA), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"sapa {args[0]} failed: {done.stderr[-2000:]}")
    return done.stdout


def invite(env: dict[str, str], queue: str) -> str:
    out = sapa(env, "staff", "invite", "--role", "counsellor", "--queue", queue, "--format", "json")
    return str(json.loads(out)["code"])


async def spawn(
    command: list[str], *, env: dict[str, str], log: Path, url: str, cwd: Path = ROOT
) -> Process:
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Process(proc, url, log)


async def wait_http(process: Process, path: str, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while process.proc.returncode is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(process.url + path) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{process.log.name}: exited with {process.proc.returncode}")


async def start_app(env: dict[str, str], workdir: Path, workers: int = 1) -> Process:
    port = int(env["SAPA_PUBLIC_URL"].rsplit(":", 1)[1])
    command = [str(SAPA), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)] if workers > 1 else []
    process = await spawn(command, env=env, log=workdir / "app.log", url=f"http://127.0.0.1:{port}")
    await wait_http(process, "/readyz")
    return process


async def start_echo(api_base: str, workdir: Path) -> tuple[Process, str]:
    port, secret = free_port(), secrets.token_hex(16)
    env = dict(os.environ, ECHO_TOKEN=ECHO_TOKEN, ECHO_API=api_base, ECHO_SECRET=secret)
    command = [sys.executable, "-m", "bench.echo_bot", "--port", str(port)]
    process = await spawn(
        command, env=env, log=workdir / "echo.log", url=f"http://127.0.0.1:{port}"
    )
    await wait_http(process, "/healthz")
    return process, secret
