"""Train the Rasa NLU model when its inputs change, and run a local Rasa server for the app."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from bot.settings import Settings

PROJECT = Path(__file__).resolve().parent
RASA = PROJECT / ".venv" / "bin" / "rasa"
LAUNCH = PROJECT / "launch.py"  # `rasa ...` in a leaner process (see there)
CONFIG = PROJECT / "config.yml"
DATA = PROJECT / "data"
DEFAULT_VAR = Path("var")
READY_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 10.0


class NLUServerError(RuntimeError):
    """The local Rasa server could not be trained or started."""


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONWARNINGS="ignore",
        # Rasa must never try to fetch anything; there is nothing to fetch.
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    env.pop("LOG_LEVEL", None)
    return env


def require_rasa() -> Path:
    if not RASA.exists():
        raise NLUServerError(f"the Rasa venv is missing ({RASA}); run `make nlu-venv` first")
    return RASA


def inputs_hash() -> str:
    """A content hash of config.yml and every file under data/."""
    digest = hashlib.sha256()
    files = [CONFIG, *sorted(p for p in DATA.rglob("*") if p.is_file())]
    for path in files:
        digest.update(path.relative_to(PROJECT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def models_dir(var_dir: Path = DEFAULT_VAR) -> Path:
    return var_dir / "nlu" / "models"


def model_path(var_dir: Path = DEFAULT_VAR) -> Path:
    return models_dir(var_dir) / f"nlu-{inputs_hash()}.tar.gz"


def train(
    *, force: bool = False, progress: Callable[[str], object] = print, var_dir: Path = DEFAULT_VAR
) -> Path:
    """Train only when config.yml or data/ changed (or when forced); returns the model file."""
    target = model_path(var_dir).resolve()
    if target.exists() and not force:
        progress(f"NLU model is up to date: {target.name}")
        return target
    rasa = require_rasa()
    target.parent.mkdir(parents=True, exist_ok=True)
    progress(f"training the NLU model {target.name} (config or data changed)")
    command = [
        str(rasa), "train", "nlu", "--config", str(CONFIG), "--nlu", str(DATA),
        "--out", str(target.parent), "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    code = _stream(command, cwd=target.parent.parent, progress=progress)
    if code != 0 or not target.exists():
        raise NLUServerError(f"rasa train failed with exit code {code}; see the output above")
    _prune(target)
    progress(f"NLU model ready: {target}")
    return target


def _stream(command: list[str], *, cwd: Path, progress: Callable[[str], object]) -> int:
    """Run a command, passing each output line (and progress-bar update) to `progress`."""
    with subprocess.Popen(  # noqa: S603 (a fixed command: our Rasa, our paths)
        command, cwd=cwd, env=rasa_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as proc:
        assert proc.stdout is not None
        for line in _lines(proc.stdout):
            progress(line)
        return proc.wait()


def _lines(stream: IO[bytes]) -> Iterator[str]:
    buffer = b""
    while chunk := os.read(stream.fileno(), 4096):
        buffer += chunk
        *done, buffer = buffer.replace(b"\r", b"\n").split(b"\n")
        yield from (line.decode(errors="replace") for line in done if line.strip())
    if buffer.strip():
        yield buffer.decode(errors="replace")


def _prune(keep: Path) -> None:
    for old in keep.parent.glob("nlu-*.tar.gz"):
        if old != keep:
            old.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def managed_nlu(
    settings: Settings, *, progress: Callable[[str], object] = print
) -> AsyncIterator[tuple[str, str | None]]:
    """Yield (url, token): the configured server, or a local one started (and stopped) here."""
    if settings.nlu_url:
        token = settings.nlu_token.get_secret_value() if settings.nlu_token else None
        yield settings.nlu_url, token
        return
    model = await asyncio.to_thread(train, progress=progress, var_dir=settings.var_dir)
    async with local_server(
        model, port=settings.nlu_port or free_port(), log_file=settings.var_dir / "nlu" / "rasa.log"
    ) as (url, token, _):
        yield url, token


@contextlib.asynccontextmanager
async def local_server(
    model: Path,
    *,
    port: int,
    log_file: Path,
    ready_timeout: float = READY_TIMEOUT_SECONDS,
    token: str | None = None,
) -> AsyncIterator[tuple[str, str, asyncio.subprocess.Process]]:
    """Run `rasa run --enable-api` on 127.0.0.1 with a fresh (or the given) auth token."""
    rasa = require_rasa()
    token = token or secrets.token_hex(24)
    url = f"http://127.0.0.1:{port}"
    command = _run_command(rasa, model, port, token)
    with _open_log(log_file) as log:
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=log_file.parent, env=rasa_env(), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        )  # fmt: skip
    try:
        try:
            async with asyncio.timeout(ready_timeout):
                await _wait_ready(proc, url, token, log_file)
        except TimeoutError:
            raise NLUServerError(
                f"the Rasa server was not ready within {ready_timeout:.0f} s; see {log_file}"
            ) from None
        yield url, token, proc
    finally:
        await _stop(proc)


def _run_command(rasa: Path, model: Path, port: int, token: str) -> list[str]:
    # No --cors: only the app (server side) talks to Rasa. Default log level: Rasa logs
    # parse requests (with their text) at debug level only.
    return [
        str(rasa.parent / "python"), str(LAUNCH), "run", "--enable-api",
        "--model", str(model.resolve()), "-i", "127.0.0.1", "-p", str(port),
        f"--auth-token={token}",
    ]  # fmt: skip


def _open_log(log_file: Path) -> IO[bytes]:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    return log_file.open("ab")


async def _wait_ready(
    proc: asyncio.subprocess.Process, url: str, token: str, log_file: Path
) -> None:
    async with httpx.AsyncClient(timeout=2.0) as http:
        while proc.returncode is None:
            with contextlib.suppress(httpx.HTTPError, ValueError):
                status = await http.get(f"{url}/status", params={"token": token})
                if status.status_code == 200 and status.json().get("model_file"):
                    return
            await asyncio.sleep(0.5)
    raise NLUServerError(f"the Rasa server exited with code {proc.returncode}; see {log_file}")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_SECONDS)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


def _die_with_parent() -> None:
    """Linux: the Rasa server gets SIGTERM if the app dies without cleaning up (e.g. SIGKILL)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
