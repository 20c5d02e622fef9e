"""`sapa nlu ...`: train the Rasa model, run its server, evaluate the triage path."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Annotated

import typer

from bot.cli import fail, settings

nlu_app = typer.Typer(help="The Rasa NLU triage model.", no_args_is_help=True)


@nlu_app.command("train")
def train(
    force: Annotated[bool, typer.Option("--force", help="Train even if nothing changed.")] = False,
) -> None:
    """Train the NLU model when config.yml or data/ changed."""
    from nlu.server import NLUServerError
    from nlu.server import train as run_train

    cfg = settings()
    try:
        run_train(force=force, progress=typer.echo, var_dir=cfg.var_dir)
    except NLUServerError as exc:
        fail(str(exc))


@nlu_app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option(help="Port (SAPA_NLU_PORT).")] = None,
) -> None:
    """Run the Rasa NLU server in the foreground on 127.0.0.1 with an auth token."""
    from nlu.server import NLUServerError, managed_nlu

    cfg = settings().model_copy(update={"nlu_url": None})
    if port:
        cfg = cfg.model_copy(update={"nlu_port": port})

    async def foreground() -> None:
        async with managed_nlu(cfg, progress=typer.echo) as (url, token):
            typer.echo(f"NLU server ready on {url} (auth token: {token}); Ctrl-C stops it")
            typer.echo(f"its log: {cfg.var_dir / 'nlu' / 'rasa.log'}")
            stop = asyncio.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(signum, stop.set)
            await stop.wait()
        typer.echo("NLU server stopped")

    try:
        asyncio.run(foreground())
    except NLUServerError as exc:
        fail(str(exc))


@nlu_app.command("evaluate")
def evaluate(
    file: Annotated[Path, typer.Argument(help="CSV with header text,category,crisis.")],
    min_macro_f1: Annotated[float | None, typer.Option(help="Fail below this macro-F1.")] = None,
    min_crisis_recall: Annotated[
        float | None, typer.Option(help="Fail below this crisis recall.")
    ] = None,
    min_crisis_precision: Annotated[
        float | None, typer.Option(help="Fail below this crisis precision.")
    ] = None,
) -> None:
    """Run the bot's triage path on a labelled file and print one JSON object of metrics."""
    from nlu.evaluate import DatasetError, evaluate_file, stderr, unmet
    from nlu.server import NLUServerError

    cfg = settings()
    try:
        report = asyncio.run(evaluate_file(file, cfg, progress=stderr))
    except (DatasetError, NLUServerError) as exc:
        fail(str(exc), 2)
        return
    typer.echo(json.dumps(report, ensure_ascii=False))
    missed = unmet(
        report,
        min_macro_f1=min_macro_f1,
        min_crisis_recall=min_crisis_recall,
        min_crisis_precision=min_crisis_precision,
    )
    for sentence in missed:
        typer.echo(f"threshold not met: {sentence}", err=True)
    if report["unavailable"]:
        typer.echo(f"warning: the NLU server failed on {report['unavailable']} rows", err=True)
    if missed:
        raise typer.Exit(1)
