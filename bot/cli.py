"""The `sapa` command. User-caused errors print one clear sentence and exit non-zero."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer

from bot.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="Sapa ASN: confidential counselling intake for ASN.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts and invites.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(staff_app, name="staff")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:  # say which setting is wrong, never its value (a token)
        wrong = "; ".join(
            f"SAPA_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        fail(f"invalid configuration: {wrong}", 2)
        raise
    except Exception as exc:  # pydantic-settings' own errors (a malformed value it parses)
        fail(f"invalid configuration: {str(exc).splitlines()[0]}", 2)
        raise


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine, turning the errors a user can cause into one sentence."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from core.errors import DomainError
    from storage.crypto import CryptoError
    from storage.keys import KeyFileError
    from storage.seed import PartnersFileError

    try:
        return asyncio.run(coro)
    except (KeyFileError, PartnersFileError) as exc:
        fail(str(exc), 2)
    except CryptoError:
        fail("the key file does not match this database (a data key cannot be unwrapped)", 2)
    except DomainError as exc:
        fail(_domain_sentence(exc))
    except (OperationalError, DBAPIError, OSError) as exc:
        fail(
            f"cannot reach the database ({type(exc).__name__}); check SAPA_DATABASE_URL "
            "and run `sapa db upgrade`"
        )
    raise AssertionError("unreachable")


def _domain_sentence(exc: Exception) -> str:
    from core import catalogue

    message = str(exc)
    try:
        return catalogue.text(message, "en", **getattr(exc, "values", {}))
    except (KeyError, IndexError):
        return message


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (SAPA_HTTP_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (SAPA_HTTP_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (SAPA_WORKERS); >1 needs PostgreSQL+Redis.")
    ] = None,
) -> None:
    """Run the service: HTTP app, outbox worker, daily purge."""
    from bot.serve import serve as run_serve

    cfg = settings()
    host, port = host or cfg.http_host, port or cfg.http_port
    run(run_serve(cfg, host=host, port=port, workers=workers or cfg.workers))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every database migration."""
    from bot.wiring import keyring_from
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade
    from storage.seed import seed_partners

    cfg = settings()

    async def go() -> None:
        keyring_from(cfg)  # the key file is made on first start, with its loud warning
        await upgrade(cfg.database_url)
        engine = create_engine(cfg.database_url)
        try:
            await seed_partners(session_factory(engine), cfg.partners_file)
        finally:
            await engine.dispose()

    run(go())
    typer.echo("database is up to date; partners and queues loaded from " + str(cfg.partners_file))


import bot.cli_console  # noqa: E402, F401  (registers staff add/passwd)
from bot import cli_admin  # noqa: E402  (registers staff/keys/audit/stats/purge commands)

try:
    from bot.cli_nlu import nlu_app

    app.add_typer(nlu_app, name="nlu")
except ImportError:  # pragma: no cover - the NLU commands ship with the nlu package
    pass

__all__ = ["app", "cli_admin", "main"]


def main() -> None:
    from bot.logs import configure

    configure("WARNING")
    app(prog_name="sapa")


if __name__ == "__main__":
    sys.exit(main())
