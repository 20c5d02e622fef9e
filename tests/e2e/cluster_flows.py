"""Conversation steps against a cluster of `sapa serve` processes, each update sent by webhook."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.cluster import CLIENT_TOKEN, STAFF_TOKEN, Webhooks, sapa


async def say(hooks: Webhooks, user_id: int, text: str, kind: str = "client") -> None:
    token = CLIENT_TOKEN if kind == "client" else STAFF_TOKEN
    hooks.api.push_message(token, user_id=user_id, text=text, first_name="Rina")
    await hooks.deliver(kind)


async def tap(hooks: Webhooks, user_id: int, data: str, kind: str = "client") -> None:
    token = CLIENT_TOKEN if kind == "client" else STAFF_TOKEN
    hooks.api.push_callback(token, user_id=user_id, data=data)
    await hooks.deliver(kind)


async def register_counsellor(hooks: Webhooks, env: dict[str, str], user_id: int) -> None:
    code, out, err = await sapa(
        env, "staff", "invite", "--role", "counsellor", "--queue", "psikologi", "--format", "json"
    )
    assert code == 0, err
    await say(hooks, user_id, f"/start {json.loads(out)['code']}", "staff")
    await hooks.api.wait_for_sent(STAFF_TOKEN, chat_id=user_id, contains="Selamat bergabung")
    await say(hooks, user_id, "/bertugas", "staff")
    await hooks.api.wait_for_sent(STAFF_TOKEN, chat_id=user_id, contains="sekarang bertugas")


async def consent(hooks: Webhooks, user_id: int, timeout: float = 30.0) -> None:  # noqa: ASYNC109
    api = hooks.api
    await say(hooks, user_id, "/start")
    await api.wait_for_sent(
        CLIENT_TOKEN, chat_id=user_id, contains="Pemberitahuan", timeout=timeout
    )
    await tap(hooks, user_id, "consent:yes:id")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=user_id, contains="ceritakan", timeout=timeout)


async def open_case(
    hooks: Webhooks,
    user_id: int,
    text: str,
    timeout: float = 30.0,  # noqa: ASYNC109
) -> str:
    """With the NLU down the ASN is asked for the category; returns the case code."""
    api = hooks.api
    await say(hooks, user_id, text)
    await api.wait_for_sent(
        CLIENT_TOKEN, chat_id=user_id, contains="mohon pilih topik", timeout=timeout
    )
    await tap(hooks, user_id, "cat:kesehatan_jiwa")
    await api.wait_for_sent(
        CLIENT_TOKEN, chat_id=user_id, contains="jenis kelamin", timeout=timeout
    )
    for data in ("q:gender:perempuan", "q:age:30-39", "q:employment:PNS"):
        await tap(hooks, user_id, data)
        await asyncio.sleep(0.05)
    opened = await api.wait_for_sent(
        CLIENT_TOKEN, chat_id=user_id, contains="tercatat dengan kode", timeout=timeout
    )
    return str(opened[-1]["params"]["text"]).split("kode ")[1].split(".")[0]
