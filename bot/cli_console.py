"""Staff console accounts: `sapa staff add` and `sapa staff passwd`. No built-in passwords."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from bot.cli import fail, run, settings, staff_app
from bot.wiring import services
from core.model import Role

STDIN_HELP = "Read the password from the first line of standard input (for scripts)."


def read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Option(help="Login name for the staff console.")],
    role: Annotated[Role, typer.Option(help="counsellor, supervisor or admin")],
    queue: Annotated[list[str] | None, typer.Option(help="Queue code; repeat for more.")] = None,
    name: Annotated[str | None, typer.Option(help="Name shown to clients.")] = None,
    password_stdin: Annotated[bool, typer.Option(help=STDIN_HELP)] = False,
) -> None:
    """Create a staff member who logs in to the web console at /staff."""
    from core.usecases.staffing import add_staff
    from storage.staff_auth import LoginError, StaffAuth, check_password

    if role is not Role.ADMIN and not queue:
        fail("a counsellor or supervisor needs at least one --queue (e.g. --queue psikologi)")
    password = read_password(password_stdin)
    try:
        check_password(password)
    except LoginError as exc:
        fail(str(exc))

    async def go() -> str:
        async with services(settings()) as svc:
            auth = StaffAuth(svc.sessions, svc.keyring)
            if await auth.staff_id_for(username) is not None:
                fail(f"the username '{username}' is taken")
            member = await add_staff(
                uow=svc.uow(),
                display_name=name or username,
                role=role,
                queue_codes=queue or [],
                clock=svc.clock,
            )
            try:
                await auth.add_login(member.id, username, password, svc.clock.now())
            except LoginError as exc:
                fail(str(exc))
            return member.display_name

    shown = run(go())
    typer.echo(f"created {role.value} '{shown}' with login '{username}'; sign in at /staff")


@staff_app.command("passwd")
def staff_passwd(
    username: Annotated[str, typer.Option(help="Login name of the staff console account.")],
    password_stdin: Annotated[bool, typer.Option(help=STDIN_HELP)] = False,
) -> None:
    """Set a new console password: unlocks the account and ends its open sessions."""
    from storage.staff_auth import LoginError, StaffAuth, check_password

    password = read_password(password_stdin)
    try:
        check_password(password)
    except LoginError as exc:
        fail(str(exc))

    async def go() -> None:
        async with services(settings()) as svc:
            auth = StaffAuth(svc.sessions, svc.keyring)
            staff_id = await auth.staff_id_for(username)
            if staff_id is None:
                fail(f"no console login named '{username}'")
                return
            await auth.reset_password(staff_id, password, svc.clock.now())

    run(go())
    typer.echo(f"password of '{username}' changed; its open sessions were ended")
