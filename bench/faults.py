"""Fault injection against real `sapa serve` processes on PostgreSQL + Redis. Prints JSON lines.

    uv run python -m bench.faults [--scenarios kill,flaky,replay,pgrestart] [--conversations K]

Each scenario runs K ASN conversations (consent, story, category, three questions, case opened)
through webhooks spread over two server processes, injects its fault, and counts: updates
posted and acknowledged, inbox rows, conversations completed, sends and duplicate sends.
Bounded: every wait has a deadline; the run stops by itself. `pgrestart` restarts the shared
PostgreSQL cluster (other users see ~2 s of outage): run it rarely.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from nlu.server import free_port
from tests.e2e.cluster import Server, Webhooks, cluster_env, sapa
from tests.e2e.cluster_flows import consent, open_case
from tests.e2e.fake_bot_api import FakeBotApi
from tests.integration.conftest import fresh_postgres

REDIS_URL = "redis://127.0.0.1:6379/13"
STEP_TIMEOUT = 120.0
SPREAD_SECONDS = 30.0
REPLIES = 7  # a conversation: notice, invitation, topics, three questions, case code


class ResilientWebhooks(Webhooks):
    """Like Telegram: an update not acknowledged with 200 is sent again, to any server."""

    posted = 0
    acknowledged = 0

    async def post(self, kind: str, update: dict[str, Any], server: Any = None) -> int:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            target = server or self.servers[random.randrange(len(self.servers))]
            self.posted += 1
            with contextlib.suppress(httpx.HTTPError):
                if await super().post(kind, update, target) == 200:
                    self.acknowledged += 1
                    return 200
            await asyncio.sleep(0.3)
        return 0


@dataclass
class Cluster:
    api: FakeBotApi
    hooks: ResilientWebhooks
    servers: list[Server]
    database_url: str


@contextlib.asynccontextmanager
async def cluster(
    folder: Path, nlu_url: str = "http://127.0.0.1:9", nlu_token: str = ""
) -> AsyncIterator[Cluster]:
    url, drop = await fresh_postgres()
    async with FakeBotApi() as api:
        env = cluster_env(database_url=url, redis_url=REDIS_URL, key_file=folder / "keys.json",
                          api=api, nlu_url=nlu_url)  # fmt: skip
        env["SAPA_NLU_TOKEN"] = nlu_token
        code, _, err = await sapa(env, "db", "upgrade")
        assert code == 0, err
        servers = [Server(env, free_port(), folder / f"worker{i}.log") for i in range(2)]
        hooks = ResilientWebhooks(api, servers)
        try:
            await asyncio.gather(*(s.start(ready_seconds=180) for s in servers))
            yield Cluster(api, hooks, servers, url)
        finally:
            await asyncio.gather(*(s.stop() for s in servers))
            await hooks.aclose()
            await drop()


async def conversation(c: Cluster, asn: int) -> bool:
    await asyncio.sleep(random.uniform(0, SPREAD_SECONDS))  # arrivals spread over the run
    try:
        await consent(c.hooks, asn, timeout=STEP_TIMEOUT)
        await open_case(c.hooks, asn, f"saya sulit tidur {asn}", timeout=STEP_TIMEOUT)
    except AssertionError:
        return False
    return True


async def load(
    c: Cluster, conversations: int, fault: Callable[[], Awaitable[Any]]
) -> dict[str, Any]:
    first = 700_000_000 + random.randrange(1_000_000) * 100
    started = time.monotonic()
    runs = asyncio.gather(*(conversation(c, first + i) for i in range(conversations)))
    injected = asyncio.create_task(fault())
    done = await runs
    await injected
    seconds = round(time.monotonic() - started, 1)
    await drained(c)
    result = {**await counts(c), "conversations": conversations, "completed": sum(done)}
    unique = result["sends"] - result["duplicate_sends"]
    return {**result, "missing_sends": REPLIES * conversations - unique, "seconds": seconds}


async def drained(c: Cluster, seconds: float = 90.0) -> None:
    """Until the outbox has nothing left to send (a killed worker's lease runs out first)."""
    for _ in range(int(seconds)):
        if not (await outbox(c)).keys() & {"pending", "sending"}:
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(2)  # late duplicates, if any, arrive now


async def outbox(c: Cluster) -> dict[str, int]:
    rows = await query(c, "SELECT status, count(*) FROM outbox GROUP BY status")
    return {str(r[0]): int(r[1]) for r in rows}


async def query(c: Cluster, sql: str) -> list[Any]:
    url = make_url(c.database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def counts(c: Cluster) -> dict[str, Any]:
    sends = [(k["token"], k["params"].get("chat_id"), str(k["params"].get("text")))
             for k in c.api.sent() if k["method"] in ("sendMessage", "sendDocument")]  # fmt: skip
    duplicates = sum(n - 1 for n in Counter(sends).values())
    inbox = (await query(c, "SELECT count(*) FROM inbox"))[0][0]
    statuses = Counter(k["status"] for k in c.api.calls if k["method"] == "sendMessage")
    return {"posted": c.hooks.posted, "acknowledged": c.hooks.acknowledged, "inbox_rows": inbox,
            "sends": len(sends), "duplicate_sends": duplicates,
            "duplicate_rate": round(duplicates / max(1, len(sends)), 5),
            "bot_api_status": dict(sorted(statuses.items())),
            "outbox": await outbox(c)}  # fmt: skip


def kill_randomly(c: Cluster, kills: int, log: dict[str, int]) -> Callable[[], Awaitable[Any]]:
    async def fault() -> None:
        for _ in range(kills):
            await asyncio.sleep(random.uniform(1.0, 6.0))
            victim = random.choice(c.servers)
            victim.kill()
            log["kills"] = log.get("kills", 0) + 1
            await victim.proc.wait()  # type: ignore[union-attr]
            await victim.start(ready_seconds=180)  # as systemd's Restart=always would

    return fault


def restart_postgres() -> Callable[[], Awaitable[Any]]:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]

    async def fault() -> None:
        await asyncio.sleep(random.uniform(3.0, 6.0))
        await asyncio.to_thread(
            subprocess.run, ["pg_ctlcluster", version, "main", "restart"], check=True
        )

    return fault


async def nothing() -> None:
    return None


async def scenario(name: str, conversations: int, folder: Path) -> dict[str, Any]:
    async with cluster(folder) as c:
        fault: Callable[[], Awaitable[Any]] = nothing
        extra: dict[str, int] = {}
        if name == "kill":
            fault = kill_randomly(c, kills=5, log=extra)
        elif name == "flaky":
            c.api.fail_randomly(0.2, seed=8, retry_after=1)
        elif name == "replay":
            c.hooks.copies = 3
        elif name == "pgrestart":
            fault = restart_postgres()
        result = {"scenario": name, **await load(c, conversations, fault), **extra}
        return {**result, "early_retries": early_retries(c.api)}


def early_retries(api: FakeBotApi) -> int:
    """Sends tried again sooner than the retry_after of their 429."""
    tries: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for call in api.calls:
        if call["method"] == "sendMessage":
            p = call["params"]
            tries.setdefault((call["token"], p.get("chat_id"), str(p.get("text"))), []).append(call)
    return sum(
        1
        for calls in tries.values()
        for a, b in itertools.pairwise(calls)
        if a["status"] == 429 and b["at"] < a["at"] + 1.0
    )


async def main_async(names: list[str], conversations: int) -> None:
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"sapa-faults-{name}-") as folder:
            if name == "rasa":
                from bench.faults_rasa import rasa_scenario

                result = await rasa_scenario(conversations, Path(folder))
            else:
                result = await scenario(name, conversations, Path(folder))
            print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="kill,flaky,replay")
    parser.add_argument("--conversations", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main_async(args.scenarios.split(","), args.conversations))


if __name__ == "__main__":
    main()
