"""Pipeline benchmark: simulated ASN and counsellors through the real stack, against two peers.

`python -m bench.pipeline [--clients N] [--quick] [--sqlite-only] [--no-refs]`

One real Rasa NLU server, the local fake Bot API (in this process), and `sapa serve` as its
own process in webhook mode, on SQLite, on PostgreSQL, and on PostgreSQL with two workers
sharing state and send limits through Redis (fresh databases).
Then the references on the same fake and the same messages: a bare aiogram echo bot and
the stock Rasa 3.6 assistant. Prints one JSON line per configuration, then the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import functools
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import checks, reference
from bench.conversations import ASN_BASE, Updates, script
from bench.drive import Counsellors, Pace, Record, ReplyWatch, Webhook, run_clients, sends
from bench.stack import (
    CLIENT_TOKEN,
    ECHO_TOKEN,
    STAFF_TOKEN,
    Process,
    app_env,
    fresh_database,
    invite,
    sapa,
    start_app,
    start_echo,
)
from bench.stats import correlate, latency_summary, ms_per_update, ratios
from nlu.server import free_port, local_server, model_path, models_dir
from tests.e2e.fake_bot_api import FakeBotApi

QUEUES = ["psikologi", "gizi", "hukum", "umum"]
MB = 1024 * 1024
INGEST_OFFSET = 50_000  # the second group of ASN (ingest phase) use other chats


def summary(name: str, record: Record, elapsed: float, clients: int) -> dict[str, Any]:
    return {
        "bench": "pipeline",
        "config": name,
        "clients": clients,
        "updates": record.updates,
        "failed_updates": record.failed,
        "redelivered_updates": record.redelivered,
        "elapsed_s": round(elapsed, 2),
        "updates_per_s": round(record.updates / elapsed, 1) if elapsed else None,
        **latency_summary(record.round_trips, "webhook"),
    }


def connector() -> aiohttp.TCPConnector:
    return aiohttp.TCPConnector(limit=0, force_close=False)


async def run_app(kind: str, api: FakeBotApi, nlu: Any, args: argparse.Namespace, base: int,
                  workdir: Path) -> dict[str, Any]:  # fmt: skip
    """`kind`: sqlite, postgresql, or postgresql_2w (`--workers 2`, state and limits in Redis)."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    database, workers = ("postgresql", 2) if kind == "postgresql_2w" else (kind, 1)
    async with fresh_database(database, workdir) as url:
        port = free_port()
        env = app_env(database_url=url, workdir=workdir, api_base=api.base_url, nlu=nlu[:2],
                      port=port)  # fmt: skip
        if workers > 1:
            env["SAPA_REDIS_URL"] = args.redis_url
        sapa(env, "db", "upgrade")
        invites = [invite(env, queue) for queue in QUEUES]
        app = await start_app(env, workdir, workers=workers)
        try:
            result = await _drive_app(kind, api, app, invites, args, base, url, nlu[2])
        finally:
            await app.stop()
    return {**result, "workers": workers, **send_checks(api, result)}


def send_checks(api: FakeBotApi, result: dict[str, Any]) -> dict[str, Any]:
    """What the fake Bot API saw of the ASN bot: sends beyond the outbox rows sent (duplicates),
    the most sends in any one second (Telegram: 30 per bot) and the shortest gap between two
    sends to one chat (Telegram: about 1 s), held across workers."""
    calls = sorted(
        (c["at"], c["params"]["chat_id"]) for c in api.sent(CLIENT_TOKEN, method="sendMessage")
    )
    times = [at for at, _ in calls]
    busiest = max((bisect.bisect_right(times, t + 1.0) - i for i, t in enumerate(times)), default=0)
    last: dict[Any, float] = {}
    gaps = []
    for at, chat in calls:
        if chat in last:
            gaps.append(at - last[chat])
        last[chat] = at
    rows_sent = result.get("outbox", {}).get("telegram_sent", 0)
    return {
        "asn_send_calls": len(calls),
        "asn_sends_beyond_rows_sent": len(calls) - rows_sent,
        "asn_max_sends_in_1s": busiest,
        "asn_min_chat_gap_ms": round(min(gaps) * 1000, 1) if gaps else None,
    }


async def _drive_app(kind: str, api: FakeBotApi, app: Process, invites: list[str],
                     args: argparse.Namespace, base: int, url: str,
                     rasa: Process) -> dict[str, Any]:  # fmt: skip
    hook = {t: api.webhook(t) or {} for t in (CLIENT_TOKEN, STAFF_TOKEN)}
    async with aiohttp.ClientSession(connector=connector()) as http:
        client, staff = (
            Webhook(http, hook[t]["url"], hook[t]["secret_token"],
                    functools.partial(api.webhook_answered, t))
            for t in (CLIENT_TOKEN, STAFF_TOKEN)
        )  # fmt: skip
        counsellors = Counsellors(api, staff, STAFF_TOKEN, QUEUES)
        await counsellors.register(invites)
        app.peak_rss = rasa.peak_rss = 0
        app.start_sampling()
        rasa.start_sampling()
        stop = asyncio.Event()
        working = asyncio.create_task(counsellors.work(stop))
        paced, paced_s = await _paced(api, client, args, base)
        cpu_before, rasa_before = app.cpu_seconds(), rasa.cpu_seconds()
        ingest, elapsed = await _ingest(client, args, base + INGEST_OFFSET)
        cpu_ingest = app.cpu_seconds() - cpu_before
        drain = await checks.wait_drained(url, timeout=args.drain_timeout)
        cpu = app.cpu_seconds() - cpu_before
        rasa_cpu = rasa.cpu_seconds() - rasa_before
        stop.set()
        await working
        await checks.wait_drained(url, timeout=args.drain_timeout)
        rasa.stop_sampling()
    result = summary(f"app_{kind}", ingest, elapsed, args.clients)
    result.update(
        # CPU spent per ingested update until the outbox drained (app, and the Rasa server)
        app_cpu_ms_per_update=ms_per_update(cpu, ingest.updates),
        # the same until the last webhook answered: the handling, with the sends of that time
        app_cpu_ms_per_update_ingest=ms_per_update(cpu_ingest, ingest.updates),
        rasa_cpu_ms_per_update=ms_per_update(rasa_cpu, ingest.updates),
        drain_after_last_update_s=round(drain, 2),
        **_paced_figures(api, paced, paced_s, base, args.clients),
        staff_updates=counsellors.record.updates,
        cases_claimed=len(counsellors.claimed),
        asn_texts_sent=2 * args.clients * sum(1 for s in script(0) if s.kind == "message"
                                              and not s.value.startswith("/")),
        **await checks.figures(url),
        app_rss_peak_mb=round(app.peak_rss / MB, 1),
        rasa_rss_mb=round(rasa.sample() / MB, 1),
        rasa_rss_peak_mb=round(rasa.peak_rss / MB, 1),
    )  # fmt: skip
    # both peaks, during the run (Rasa's start-up, before it first gives memory back, is not)
    result["stack_rss_mb"] = round(result["app_rss_peak_mb"] + result["rasa_rss_peak_mb"], 1)
    return result


async def _ingest(client: Webhook, args: argparse.Namespace, base: int) -> tuple[Record, float]:
    """ASN who post the next update as soon as the webhook answered: the most it can take."""
    record = Record()
    updates = Updates(bot_id=1111, first=10**6)
    elapsed = await run_clients(client, updates, clients=args.clients, base=base, record=record)
    return record, elapsed


def _paced_figures(
    api: FakeBotApi, paced: Record, elapsed: float, base: int, clients: int
) -> dict[str, Any]:
    replies = [s for s in sends(api, CLIENT_TOKEN) if base <= s.chat < base + clients]
    delivered = correlate(paced.posted, replies)
    return {
        "paced_updates": paced.updates,
        "paced_updates_per_s": round(paced.updates / elapsed, 1),
        **latency_summary(delivered, "paced_reply"),
        "paced_unanswered": len(paced.posted) - len(delivered),
    }


async def _paced(
    api: FakeBotApi, client: Webhook, args: argparse.Namespace, base: int
) -> tuple[Record, float]:
    """ASN who read each reply and think before answering, at about `--paced-rate` updates/s."""
    watch = ReplyWatch(api, CLIENT_TOKEN)
    watching = asyncio.create_task(watch.run())
    record = Record()
    think = max(1.0, args.clients / args.paced_rate)
    try:
        elapsed = await run_clients(
            client, Updates(bot_id=1111), clients=args.clients, base=base, record=record,
            pace=Pace(watch, think),
        )  # fmt: skip
    finally:
        watching.cancel()
    return record, elapsed


async def run_echo(api: FakeBotApi, args: argparse.Namespace, base: int,
                   workdir: Path) -> dict[str, Any]:  # fmt: skip
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    echo, secret = await start_echo(api.base_url, workdir)
    try:
        echo.start_sampling()
        cpu_before = echo.cpu_seconds()
        async with aiohttp.ClientSession(connector=connector()) as http:
            hook = Webhook(http, echo.url + "/webhook", secret)
            record = Record()
            elapsed = await run_clients(
                hook, Updates(bot_id=3333), clients=args.clients, base=base, record=record
            )
        cpu = echo.cpu_seconds() - cpu_before
    finally:
        await echo.stop()
    result = summary("ref_echo", record, elapsed, args.clients)
    replies = [s for s in sends(api, ECHO_TOKEN) if base <= s.chat < base + args.clients]
    result.update(
        replies_handed=len(replies),
        rss_peak_mb=round(echo.peak_rss / MB, 1),
        cpu_ms_per_update=ms_per_update(cpu, record.updates),
    )
    return result


async def run_rasa(api: FakeBotApi, args: argparse.Namespace, base: int,
                   workdir: Path) -> dict[str, Any]:  # fmt: skip
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    model = await asyncio.to_thread(reference.train, Path("var"))
    async with reference.serve(model, workdir) as rasa:
        rasa.start_sampling()
        cpu_before = rasa.cpu_seconds()
        forward = f"{api.base_url}/bot4444:bench-rasa-ref/sendMessage"
        async with aiohttp.ClientSession(connector=connector()) as http:
            record = Record()
            elapsed = await reference.run_clients(
                http, rasa.url, forward, clients=args.clients, base=base, record=record
            )
        result = summary("ref_rasa", record, elapsed, args.clients)
        result["rss_peak_mb"] = round(rasa.peak_rss / MB, 1)
        result["cpu_ms_per_update"] = ms_per_update(rasa.cpu_seconds() - cpu_before,
                                                    record.updates)  # fmt: skip
    return result


async def main(args: argparse.Namespace) -> None:
    root = Path("var") / "bench" / time.strftime("pipeline-%Y%m%d-%H%M%S")
    model = await asyncio.to_thread(nlu_model, root)
    results: dict[str, dict[str, Any]] = {}
    log = root / "nlu.log"
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    async with local_server(model, port=free_port(), log_file=log) as (url, token, proc):
        rasa = Process(proc, url, log)
        kinds = ["sqlite"] if args.sqlite_only else ["sqlite", "postgresql"]
        kinds += [] if args.sqlite_only or args.no_scale_out else ["postgresql_2w"]
        kinds = args.configs.split(",") if args.configs else kinds
        for offset, kind in enumerate(kinds):  # a fresh fake Bot API for each configuration
            async with FakeBotApi() as api:
                base = ASN_BASE + offset * 100_000
                results[f"app_{kind}"] = await run_app(
                    kind, api, (url, token, rasa), args, base, root / kind
                )
            print(json.dumps(results[f"app_{kind}"]), flush=True)
        if not args.no_refs:
            async with FakeBotApi() as api:
                results["ref_echo"] = await run_echo(api, args, ASN_BASE, root / "echo")
            print(json.dumps(results["ref_echo"]), flush=True)
            async with FakeBotApi() as api:
                results["ref_rasa"] = await run_rasa(api, args, ASN_BASE, root / "rasa")
            print(json.dumps(results["ref_rasa"]), flush=True)
    model.unlink(missing_ok=True)
    print(json.dumps({"bench": "pipeline", "config": "ratios", **ratios(results)}), flush=True)


def nlu_model(root: Path) -> Path:
    """The trained model, copied: never trained here (the models directory may be shared)."""
    wanted = model_path()
    found = wanted if wanted.exists() else max(models_dir().glob("nlu-*.tar.gz"), default=None)
    if found is None:
        raise SystemExit("no trained NLU model under var/nlu/models: run `make nlu-train` first")
    if found != wanted:
        print(f"note: using {found.name}, not {wanted.name} (data changed?)", file=sys.stderr)
    root.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(found, root / found.name))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--clients", type=int, default=None, help="simulated ASN (default 200)")
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: 20 ASN")
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-refs", action="store_true", help="skip the two references")
    parser.add_argument(
        "--no-scale-out", action="store_true", help="skip PostgreSQL with 2 workers and Redis"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--configs", default="", help="only these, e.g. postgresql_2w (sqlite,postgresql,...)"
    )
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument(
        "--paced-rate", type=float, default=20.0,
        help="updates/s offered by the paced ASN (under Telegram's 30 messages/s per bot)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.clients is None:
        args.clients = 20 if args.quick else 200
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
