"""bench.faults scenario `rasa`: the NLU server killed mid-run and restarted.

Half of the ASN write a crisis message (the safety message must come, Rasa or not), half a
story (classified while Rasa is up, the ASN asked for the category while it is down).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench.faults import STEP_TIMEOUT, Cluster, cluster
from nlu.server import free_port, local_server, models_dir
from tests.e2e.cluster import CLIENT_TOKEN
from tests.e2e.cluster_flows import consent, say

ROOT = Path(__file__).resolve().parents[1]
CRISIS = "saya sudah tidak kuat, pengen bunuh diri aja"
STORY = "istri saya minta cerai dan membawa anak-anak ke rumah orang tuanya"
OUTCOMES = {"Keselamatan": "safety", "Sepertinya ini tentang": "classified",
            "mohon pilih topik": "asked_category"}  # fmt: skip


async def outcome(c: Cluster, asn: int) -> str:
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        for call in c.api.sent(CLIENT_TOKEN, chat_id=asn):
            for needle, name in OUTCOMES.items():
                if needle in str(call["params"].get("text")):
                    return name
        await asyncio.sleep(0.2)
    return "nothing"


async def triage(c: Cluster, asn: int, crisis: bool, consented: asyncio.Barrier) -> str:
    try:
        await consent(c.hooks, asn, timeout=STEP_TIMEOUT)
    except AssertionError:
        return "no_consent_reply"
    finally:
        await consented.wait()
    await say(c.hooks, asn, CRISIS if crisis else STORY)
    return await outcome(c, asn)


async def batch(c: Cluster, conversations: int, *, before_stories: Any = None) -> dict[str, int]:
    """Each ASN consents; once all have, `before_stories` runs, then each tells its concern."""
    first = 710_000_000 + random.randrange(1_000_000) * 100
    consented = asyncio.Barrier(conversations + 1)

    async def then() -> None:
        await consented.wait()
        if before_stories is not None:
            await before_stories()

    results, _ = await asyncio.gather(
        asyncio.gather(
            *(triage(c, first + i, crisis=i % 2 == 0, consented=consented)
              for i in range(conversations))
        ),
        then(),
    )  # fmt: skip
    counts = {name: results.count(name) for name in sorted(set(results))}
    return {"crisis_sent": (conversations + 1) // 2, **counts}


async def rasa_scenario(conversations: int, folder: Path) -> dict[str, Any]:
    model = sorted(models_dir(ROOT / "var").glob("nlu-*.tar.gz"))[-1]
    token, port = secrets.token_hex(16), free_port()

    def rasa() -> Any:
        return local_server(model, port=port, log_file=folder / "rasa.log", token=token,
                            ready_timeout=900)  # fmt: skip

    async with AsyncExitStack() as stack:
        url, _, proc = await stack.enter_async_context(rasa())
        c = await stack.enter_async_context(cluster(folder, nlu_url=url, nlu_token=token))
        before = await batch(c, conversations)

        async def kill_rasa() -> None:  # after the consents, before the concerns
            proc.kill()
            await proc.wait()

        during = await batch(c, conversations, before_stories=kill_rasa)
        restarted = time.monotonic()
        await stack.enter_async_context(rasa())
        seconds = round(time.monotonic() - restarted, 1)
        await asyncio.sleep(32)  # the client circuit breaker half-opens after 30 s
        after = await batch(c, conversations)
    return {"scenario": "rasa", "rasa_up": before, "rasa_killed": during,
            "rasa_restart_seconds": seconds, "after_restart": after}  # fmt: skip
