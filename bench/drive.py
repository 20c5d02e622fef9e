"""Drives a webhook like Telegram does: simulated ASN, simulated counsellors, and the records.

Each simulated ASN posts its next update as soon as the webhook has answered the previous
one (a closed loop: the offered load is as high as the service can take). The webhook of
`sapa serve` answers after the handler ran (the reply is in the outbox); delivery to the
Bot API happens in the outbox worker and is timed from the fake Bot API's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.conversations import COUNSELLOR_BASE, Updates, script
from bench.stats import Posted, Sent, buttons_of
from bot.telegram import SECRET_HEADER
from tests.e2e.fake_bot_api import FakeBotApi

CODE = re.compile(r"/ambil (K-[A-Z0-9]{4})")


@dataclass
class Record:
    posted: list[Posted] = field(default_factory=list)  # ASN updates that expect a reply
    round_trips: list[float] = field(default_factory=list)  # webhook POST -> answer
    updates: int = 0
    failed: int = 0
    redelivered: int = 0  # posts sent again after the connection dropped


class Webhook:
    """Posts updates to one webhook URL with its secret; times every round trip."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        secret: str,
        answered: Callable[[bytes], Awaitable[None]] | None = None,
    ) -> None:
        """`answered` gets each 200 answer's body: the fake Bot API runs a method in it, as
        Telegram does (a button press's answerCallbackQuery)."""
        self._http, self._url, self._secret, self._answered = http, url, secret, answered

    async def post(self, update: dict[str, Any], record: Record) -> bool:
        body = json.dumps(update).encode()
        headers = {SECRET_HEADER: self._secret, "Content-Type": "application/json"}
        started = time.monotonic()
        for attempt in range(3):
            try:
                async with self._http.post(self._url, data=body, headers=headers) as response:
                    answer = await response.read()
                    ok = response.status == 200
                break
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                # A kept-alive connection the server had just closed: deliver again, as
                # Telegram does (the inbox makes a repeated update a no-op).
                record.redelivered += 1
                if attempt == 2:
                    raise
        record.round_trips.append(time.monotonic() - started)
        if ok and self._answered is not None:
            await self._answered(answer)
        record.updates += 1
        record.failed += not ok
        return ok


class ReplyWatch:
    """Tells a paced ASN when the reply it waits for reached the fake Bot API."""

    def __init__(self, api: FakeBotApi, token: str) -> None:
        self._api, self._token, self._seen = api, token, 0
        self._waiting: dict[int, list[tuple[str | None, asyncio.Future[None]]]] = {}

    def expect(self, chat: int, prefix: str | None) -> asyncio.Future[None]:
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(chat, []).append((prefix, future))
        return future

    async def run(self) -> None:
        while True:
            calls, self._seen = self._api.calls[self._seen :], len(self._api.calls)
            for call in calls:
                if call["token"] == self._token and call["method"] == "sendMessage":
                    params = call["params"]
                    self._arrived(int(params["chat_id"]), buttons_of(params.get("reply_markup")))
            await asyncio.sleep(0.01)

    def _arrived(self, chat: int, buttons: tuple[str, ...]) -> None:
        waiting = self._waiting.get(chat, [])
        waiting[:] = [(prefix, future) for prefix, future in waiting if not future.done()]
        for index, (prefix, future) in enumerate(waiting):
            if prefix is None or any(b.startswith(prefix) for b in buttons):
                del waiting[index]
                future.set_result(None)
                return


@dataclass(frozen=True)
class Pace:
    """Human pacing: each ASN arrives at a random moment of the first `think` seconds, waits
    for the reply (at most `patience` s), then reads and thinks for 1 to 1.4 times `think`
    seconds (at least one second: Telegram's pace for one chat)."""

    watch: ReplyWatch
    think: float
    patience: float = 10.0


async def run_clients(
    webhook: Webhook,
    updates: Updates,
    *,
    clients: int,
    base: int,
    record: Record,
    pace: Pace | None = None,
) -> float:
    """Every ASN's whole conversation, all ASN at once; returns the elapsed seconds."""

    async def one(index: int) -> None:
        chat = base + index
        think = random.Random(index)
        if pace is not None:  # people arrive over time, not all in the same millisecond
            await asyncio.sleep(pace.think * think.uniform(0.0, 1.0))
        for step in script(index):
            replied = pace.watch.expect(chat, step.expects) if pace and step.answered else None
            at = time.monotonic()
            await webhook.post(updates.of(chat, step), record)
            if step.answered:
                record.posted.append(Posted(chat, at, step.expects))
            if pace is not None:
                if replied is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(replied, pace.patience)
                await asyncio.sleep(pace.think * think.uniform(1.0, 1.4))

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(clients)))
    return time.monotonic() - started


def sends(api: FakeBotApi, token: str) -> list[Sent]:
    return [
        Sent(int(c["params"]["chat_id"]), c["at"], buttons_of(c["params"].get("reply_markup")))
        for c in api.sent(token, method="sendMessage")
    ]


class Counsellors:
    """One counsellor per queue on the staff bot: claims every new case and answers it."""

    ANSWER = "Selamat siang, saya konselor yang menangani. Silakan cerita kapan saja."
    ROUND_SECONDS = 2.0  # each counsellor takes at most one new case per round

    def __init__(self, api: FakeBotApi, webhook: Webhook, token: str, queues: list[str]) -> None:
        self.api, self.webhook, self.token, self.queues = api, webhook, token, queues
        self.record = Record()
        self.chats = [COUNSELLOR_BASE + i for i in range(len(queues))]
        self.claimed: set[str] = set()
        self._updates = Updates(bot_id=2222)

    async def register(self, invites: list[str]) -> None:
        for chat, code in zip(self.chats, invites, strict=True):
            await self._say(chat, f"/start {code}")
            await self.api.wait_for_sent(self.token, chat_id=chat, contains="Selamat bergabung")
            await self._say(chat, "/bertugas")
            await self.api.wait_for_sent(self.token, chat_id=chat, contains="bertugas")

    async def work(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            busy: set[int] = set()
            for chat, code in self._new_cases():
                if chat in busy:
                    continue  # a human pace: one case per counsellor per round
                busy.add(chat)
                self.claimed.add(code)
                await self._say(chat, f"/ambil {code}")
                await self._say(chat, f"/balas {code} {self.ANSWER}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.ROUND_SECONDS)

    def _new_cases(self) -> list[tuple[int, str]]:
        found = []
        for call in self.api.sent(self.token, method="sendMessage"):
            chat = call["params"]["chat_id"]
            match = CODE.search(str(call["params"].get("text") or ""))
            if chat in self.chats and match and match.group(1) not in self.claimed:
                found.append((chat, match.group(1)))
        return [(chat, code) for code, chat in {code: chat for chat, code in found}.items()]

    async def _say(self, chat: int, text: str) -> None:
        await self.webhook.post(self._updates.message(chat, text), self.record)
