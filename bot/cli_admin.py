"""Admin commands: staff invites, keys, audit verification, retention purge, statistics."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.cli import app, audit_app, fail, keys_app, run, settings, staff_app
from bot.wiring import services
from core.model import Role


@staff_app.command("invite")
def staff_invite(
    role: Annotated[Role, typer.Option(help="counsellor, supervisor or admin")],
    queue: Annotated[list[str] | None, typer.Option(help="Queue code; repeat for more.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Print a single-use invite code (valid 72 hours) for the staff bot."""
    from core.usecases.staffing import create_invite

    async def go() -> None:
        async with services(settings()) as svc:
            issued = await create_invite(
                uow=svc.uow(), role=role, queue_codes=queue or [], clock=svc.clock
            )
        if fmt == "json":
            typer.echo(
                json.dumps(
                    {
                        "code": issued.code,
                        "role": issued.role.value,
                        "queues": list(issued.queue_codes),
                        "expires_at": issued.expires_at,
                    }
                )
            )
        else:
            typer.echo(f"{issued.code}  (role {issued.role.value}, expires {issued.expires_at})")

    run(go())


@staff_app.command("list")
def staff_list() -> None:
    """Staff members: display name, role, queues, duty and last activity (no case content)."""

    async def go() -> None:
        async with services(settings()) as svc, svc.uow() as uow:
            members = await uow.staff.all()
            queues = {q.id: q.code for q in await uow.partners.queues()}
        if not members:
            typer.echo("no staff members yet: create one with `sapa staff invite`")
        for s in members:
            codes = ",".join(queues.get(q, "?") for q in s.queue_ids) or "-"
            state = "active" if s.active else "revoked"
            duty = "on-duty" if s.on_duty else "off-duty"
            seen = s.last_active_at.isoformat() if s.last_active_at else "never"
            typer.echo(
                f"{s.id}  {s.display_name}  {s.role.value}  {codes}  {state}  {duty}  {seen}"
            )

    run(go())


@staff_app.command("revoke")
def staff_revoke(staff_id: str) -> None:
    """Disable a staff member at once."""
    from core.usecases.staffing import revoke_staff

    async def go() -> None:
        async with services(settings()) as svc:
            staff = await revoke_staff(uow=svc.uow(), staff_id=staff_id)
        typer.echo(f"revoked {staff.display_name}")

    run(go())


@keys_app.command("status")
def keys_status() -> None:
    """Key versions and how many data keys each still wraps."""
    from storage.rotation import key_status

    async def go() -> None:
        async with services(settings()) as svc:
            counts = await key_status(svc.sessions)
            for version in sorted(set(svc.keyring.keks) | set(counts)):
                mark = " (current)" if version == svc.keyring.current_version else ""
                typer.echo(f"KEK v{version}{mark}: {counts.get(version, 0)} data keys")

    run(go())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a KEK version and rewrap every data key; messages are not re-encrypted."""
    from storage.keys import save_keyring
    from storage.rotation import rotate

    cfg = settings()
    if cfg.master_key is not None:
        fail("rotation needs the key file form; unset SAPA_MASTER_KEY and use SAPA_KEY_FILE", 2)

    async def go() -> None:
        async with services(cfg) as svc:
            new = svc.keyring.with_new_version()
            save_keyring(new, cfg.key_file)  # saved first: a crash mid-way loses nothing
            await rotate(svc.sessions, new)
            typer.echo(f"rotated: KEK v{new.current_version} now wraps every data key")

    run(go())


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain; exit 1 and name the first bad event if it was tampered with."""
    from storage.audit import verify_chain

    async def go() -> bool:
        async with services(settings()) as svc:
            result = await verify_chain(svc.sessions, svc.keyring.audit_key)
        if result.ok:
            typer.echo("audit chain intact")
        else:
            typer.echo(
                f"audit chain BROKEN at event {result.first_bad_seq}: {result.reason}", err=True
            )
        return bool(result.ok)

    if not run(go()):
        raise typer.Exit(1)


@app.command("purge")
def purge_cmd() -> None:
    """Apply retention now: shred transcripts of cases closed longer ago than the limit."""
    from bot.setup_overrides import retention_days
    from storage.purge import purge

    async def go() -> None:
        cfg = settings()
        async with services(cfg) as svc:
            days = await retention_days(svc)  # the admin's setting, else SAPA_RETENTION_DAYS
            count = await purge(svc.sessions, svc.keyring, now=svc.clock.now(), retention_days=days)
        typer.echo(f"purged {count} cases")

    run(go())


def months_between(start: str | None, end: str | None, *, today: datetime) -> list[str]:
    last = _month(end) if end else (today.year, today.month)
    first = _month(start) if start else _shift(last, -11)
    if first > last:
        fail("--from must not be after --to", 2)
    months, current = [], first
    while current <= last:
        months.append(f"{current[0]:04d}-{current[1]:02d}")
        current = _shift(current, 1)
    return months


def _month(value: str) -> tuple[int, int]:
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError:
        fail(f"'{value}' is not a month like 2026-01", 2)
        raise
    return parsed.year, parsed.month


def _shift(month: tuple[int, int], by: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + by
    return index // 12, index % 12 + 1


@app.command("stats")
def stats_cmd(
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM")] = None,
) -> None:
    """Anonymised statistics: every cell below k is suppressed, totals included."""
    from core.stats import build_report
    from core.stats_format import render
    from storage.stats_source import load_case_facts

    if fmt not in ("table", "json", "csv"):
        fail("--format must be table, json or csv", 2)
    cfg = settings()
    months = months_between(start, end, today=datetime.now(UTC))
    first = datetime.strptime(months[0], "%Y-%m").replace(tzinfo=UTC)
    after = _shift(_month(months[-1]), 1)
    last = datetime(after[0], after[1], 1, tzinfo=UTC)

    async def go() -> str:
        async with services(cfg) as svc:
            facts = await load_case_facts(svc.sessions, start=first, end=last)
        report = build_report(facts, k=cfg.stats_k, months=months)
        return render(report, fmt=fmt, k=cfg.stats_k)  # type: ignore[arg-type]

    typer.echo(run(go()))
