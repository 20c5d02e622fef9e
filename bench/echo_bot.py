"""Reference (a): a bare aiogram 3 echo bot behind a webhook, the framework's ceiling here.

Same delivery as `sapa serve`: Telegram (the fake) posts to a webhook with a secret token,
the update is handled before the webhook answers, and the reply is a sendMessage to the
Bot API. No database, no NLU, no encryption, no outbox. Run by bench/pipeline.py:
`python -m bench.echo_bot --port P` with ECHO_TOKEN, ECHO_API and ECHO_SECRET set.
"""

from __future__ import annotations

import argparse
import os

from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

dispatcher = Dispatcher()


@dispatcher.message(F.text)
async def echo(message: Message) -> None:
    await message.answer(message.text or "-")


@dispatcher.callback_query()
async def echo_button(query: CallbackQuery, bot: Bot) -> None:
    assert query.message is not None
    await bot.send_message(query.message.chat.id, query.data or "-")


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["ECHO_API"]))
    bot = Bot(os.environ["ECHO_TOKEN"], session=session)
    app = web.Application()
    handler = SimpleRequestHandler(
        dispatcher, bot, secret_token=os.environ["ECHO_SECRET"], handle_in_background=False
    )
    handler.register(app, path="/webhook")
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
