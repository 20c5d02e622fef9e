"""Reference (b): the stock Rasa 3.6 assistant (NLU + rules, REST channel, SQL tracker store).

The project is bench/rasa_ref/ with the service's NLU data (nlu/data). It is trained once
into var/bench/rasa_ref/ under a content hash, like nlu/server.py does, and only here, in
the benchmark: never in tests. `python -m bench.reference` just trains it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from bench.conversations import Step, script
from bench.drive import Record
from bench.stack import Process, spawn
from nlu.server import DATA, free_port, rasa_env, require_rasa

PROJECT = Path(__file__).resolve().parent / "rasa_ref"
INPUTS = ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml", "data/rules.yml")
BUTTONS = {"consent": "/consent", "cat": "/choose_category", "q": "/answer"}


def inputs_hash() -> str:
    digest = hashlib.sha256()
    files = [PROJECT / name for name in INPUTS] + sorted(p for p in DATA.rglob("*") if p.is_file())
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def train(var_dir: Path) -> Path:
    """Train when the inputs changed; the output goes to var/bench/rasa_ref/train.log."""
    out = (var_dir / "bench" / "rasa_ref").resolve()
    model = out / f"ref-{inputs_hash()}.tar.gz"
    if model.exists():
        return model
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(require_rasa()), "train", "--config", str(PROJECT / "config.yml"),
        "--domain", str(PROJECT / "domain.yml"), "--data", str(DATA), str(PROJECT / "data"),
        "--out", str(out), "--fixed-model-name", model.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    with (out / "train.log").open("ab") as log:
        done = subprocess.run(
            command, cwd=out, env=rasa_env(), stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0 or not model.exists():
        raise RuntimeError(f"training the Rasa reference failed; see {out / 'train.log'}")
    return model


@contextlib.asynccontextmanager
async def serve(model: Path, workdir: Path) -> AsyncIterator[Process]:
    """`rasa run --enable-api` with the REST channel and a fresh SQLite tracker store."""
    port = free_port()
    command = [
        str(require_rasa()), "run", "--enable-api", "--model", str(model),
        "--credentials", str(PROJECT / "credentials.yml"),
        "--endpoints", str(PROJECT / "endpoints.yml"), "-i", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    process = await spawn(
        command,
        env=rasa_env(),
        log=workdir / "rasa_ref.log",
        url=f"http://127.0.0.1:{port}",
        cwd=workdir,
    )
    try:
        await _ready(process)
        yield process
    finally:
        await process.stop()


async def _ready(process: Process, timeout: float = 300.0) -> None:  # noqa: ASYNC109
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while process.proc.returncode is None:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(process.url + "/status") as response:
                    if response.status == 200 and (await response.json()).get("model_file"):
                        return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"the Rasa reference exited; see {process.log}")


def as_message(step: Step) -> str:
    """What the stock assistant is sent for a step: the text, or a button's intent payload."""
    if step.kind == "message":
        return step.value
    return BUTTONS[step.value.split(":", 1)[0]]


async def run_clients(
    http: aiohttp.ClientSession, rasa_url: str, forward: str, *, clients: int, base: int,
    record: Record,
) -> float:  # fmt: skip
    """Each ASN's ten messages through the REST channel; replies forwarded to the fake API."""

    async def one(index: int) -> None:
        chat = base + index
        for step in script(index):
            started = time.monotonic()
            replies = await _post(http, rasa_url, chat, as_message(step))
            for reply in replies:
                await _post_json(http, forward, {"chat_id": chat, "text": reply.get("text", "")})
            record.round_trips.append(time.monotonic() - started)
            record.updates += 1
            record.failed += not replies

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(clients)))
    return time.monotonic() - started


async def _post(
    http: aiohttp.ClientSession, rasa_url: str, chat: int, text: str
) -> list[dict[str, Any]]:
    body = {"sender": str(chat), "message": text}
    replies = await _post_json(http, rasa_url + "/webhooks/rest/webhook", body)
    return replies if isinstance(replies, list) else []


async def _post_json(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with http.post(url, json=body) as response:
        return await response.json(content_type=None)


if __name__ == "__main__":
    print(train(Path("var")))
