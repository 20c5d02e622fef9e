"""Where each role lands after signing in, over HTTP (the Location header only)."""

from __future__ import annotations

from core.model import Role
from tests.e2e.test_admin_pages import console  # noqa: F401 (the fixture)
from tests.e2e.test_staff_console import PASSWORD, Console


async def test_an_admin_lands_on_admin_and_staff_on_the_queue(
    console: Console,  # noqa: F811
) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    await console.member("sri", Role.SUPERVISOR, "psikologi", name="Sri")
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    for username, landing in (("admin", "/admin"), ("sri", "/staff"), ("dewi", "/staff")):
        async with console.browser() as web:
            signed = await web.post(
                "/staff/login", data={"username": username, "password": PASSWORD}
            )
            assert (signed.status_code, signed.headers["location"]) == (303, landing), username
            again = await web.get("/staff/login")  # already signed in
            assert (again.status_code, again.headers["location"]) == (303, landing), username


async def test_a_wrong_password_lands_nowhere(console: Console) -> None:  # noqa: F811
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    async with console.browser() as web:
        refused = await web.post("/staff/login", data={"username": "admin", "password": "salah"})
        assert refused.status_code == 401 and "location" not in refused.headers
