"""Real `sapa serve` processes (one with --workers 2) on one PostgreSQL and one Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from nlu.server import free_port
from tests.e2e.cluster import (
    CLIENT_TOKEN,
    STAFF_TOKEN,
    Server,
    Webhooks,
    cluster_env,
    sapa,
)
from tests.e2e.cluster_flows import consent, open_case, register_counsellor
from tests.e2e.fake_bot_api import FakeBotApi
from tests.integration.conftest import fresh_postgres

pytestmark = pytest.mark.postgres
REDIS_URL = os.environ.get("SAPA_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")
ASN, RINA, SARI = 700100201, 800300401, 800300402
SECRET = "KANARI-SKALA-5521 saya sulit tidur"
AGAIN = "KANARI-ULANG-7730 saya mau cerita lagi"
DEAD_NLU = "http://127.0.0.1:9"


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Webhooks]:
    url, drop = await fresh_postgres()
    async with FakeBotApi() as api:
        env = cluster_env(
            database_url=url,
            redis_url=REDIS_URL,
            key_file=tmp_path / "keys.json",
            api=api,
            nlu_url=DEAD_NLU,
        )
        code, _, err = await sapa(env, "db", "upgrade")
        assert code == 0, err
        # `sapa serve --workers 2` (two uvicorn workers under a supervisor) and a plain one
        servers = [
            Server(env, free_port(), tmp_path / f"worker{i}.log", workers=2 - i) for i in range(2)
        ]
        hooks = Webhooks(api, servers)
        try:
            await asyncio.gather(*(s.start() for s in servers))
            yield hooks
        finally:
            await asyncio.gather(*(s.stop() for s in servers))
            await hooks.aclose()
            await drop()


def sends(api: FakeBotApi) -> list[tuple[str, object, str]]:
    return [
        (c["token"], c["params"].get("chat_id"), str(c["params"].get("text")))
        for c in api.sent()
        if c["method"] in ("sendMessage", "sendDocument")
    ]


async def test_two_processes_claim_once_send_once_and_dedup_a_replay(
    cluster: Webhooks, tmp_path: Path
) -> None:
    api, env = cluster.api, cluster.servers[0].env
    await register_counsellor(cluster, env, RINA)
    await register_counsellor(cluster, env, SARI)
    await consent(cluster, ASN)
    code = await open_case(cluster, ASN, SECRET)
    for counsellor in (RINA, SARI):
        await api.wait_for_sent(STAFF_TOKEN, chat_id=counsellor, contains=f"Kasus baru {code}")

    # Both counsellors claim at once, each through a different process.
    api.push_message(STAFF_TOKEN, user_id=RINA, text=f"/ambil {code}")
    api.push_message(STAFF_TOKEN, user_id=SARI, text=f"/ambil {code}")
    rina, sari = api.take_updates(STAFF_TOKEN)
    first, second = cluster.servers
    await asyncio.gather(cluster.post("staff", rina, first), cluster.post("staff", sari, second))
    outcomes = {}
    for counsellor in (RINA, SARI):
        got = await api.wait_for_sent(STAFF_TOKEN, chat_id=counsellor, contains=code, count=2)
        outcomes[counsellor] = got[-1]["params"]["text"]
    won = [c for c, text in outcomes.items() if "sekarang Anda tangani" in text]
    lost = [c for c, text in outcomes.items() if "sudah diambil" in text]
    assert len(won) == 1 and len(lost) == 1, outcomes

    # One update delivered twice to each process at once: one effect.
    api.push_message(CLIENT_TOKEN, user_id=ASN, text=AGAIN)
    (update,) = api.take_updates(CLIENT_TOKEN)
    posts = [cluster.post("client", update, server) for server in cluster.servers * 2]
    assert await asyncio.gather(*posts) == [200] * 4
    await api.wait_for_sent(STAFF_TOKEN, chat_id=won[0], contains="KANARI-ULANG")
    await asyncio.sleep(3)  # a second relay, if there were one, would have gone by now
    assert len([s for s in sends(api) if "KANARI-ULANG" in s[2]]) == 1

    sent = sends(api)
    assert len(sent) == len(set(sent)), "a message was sent twice"
    logs = _logs(tmp_path)
    assert b"sapa serve ready" in logs
    stored = await _redis_contents()
    assert b"sapa:fsm:" in stored  # conversation state went to Redis (rate keys expire in ~1 s)
    for canary in ("KANARI", str(ASN), str(RINA), str(SARI)):
        assert canary.encode() not in logs
        assert canary.encode() not in stored


async def _redis_contents() -> bytes:
    """Every sapa key in the test's Redis database, with its value when it is a string."""
    redis = Redis.from_url(REDIS_URL)
    try:
        found = []
        async for key in redis.scan_iter(match="sapa:*"):
            value = await redis.get(key) if await redis.type(key) == b"string" else b""
            found.append(key + b"=" + (value or b""))
        return b"\n".join(found)
    finally:
        await redis.aclose()


def _logs(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("worker*.log")))


async def test_several_workers_need_postgresql_redis_and_webhooks(tmp_path: Path) -> None:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SAPA_")}
    env = {**keep, "SAPA_KEY_FILE": str(tmp_path / "keys.json")}
    sqlite = {**env, "SAPA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}"}
    code, _, err = await sapa(sqlite, "serve", "--workers", "2")
    assert code != 0 and "SQLite serves one worker only" in err, err
    postgres = {**env, "SAPA_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/none"}
    code, _, err = await sapa(postgres, "serve", "--workers", "2")
    assert code != 0 and "needs SAPA_REDIS_URL" in err, err
    polling = {**postgres, "SAPA_REDIS_URL": REDIS_URL, "SAPA_TELEGRAM_CLIENT_TOKEN": "1:x"}
    code, _, err = await sapa(polling, "serve", "--workers", "2")
    assert code != 0 and "set SAPA_PUBLIC_URL" in err, err
