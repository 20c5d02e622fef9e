"""Partners and queues on /admin/setup, over HTTP: add, rename, refuse removing a busy queue."""

from __future__ import annotations

from sqlalchemy import select

from core.model import Role
from storage.tables import audit_events, cases, queues
from tests.e2e.test_admin_pages import console  # noqa: F401 (the fixture)
from tests.e2e.test_staff_console import Console, sign_in


async def test_an_admin_adds_renames_and_may_not_remove_a_busy_queue(
    console: Console,  # noqa: F811
) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    async with console.browser() as web:
        csrf = await sign_in(web, "admin")
        page = await web.get("/admin/setup")
        assert "Tambah mitra" in page.text and "Tambah antrean" in page.text
        added = await web.post(
            "/admin/setup/partners",
            data={"csrf": csrf, "code": "ump", "name": "Universitas Muhammadiyah Purworejo"},
        )
        assert (added.status_code, added.headers["location"]) == (303, "/admin/setup?done=1")
        queue = {"code": "konseling-ump", "name": "Konseling UMP", "partner": "ump"}
        made = await web.post(
            "/admin/setup/queues", data={"csrf": csrf, **queue, "cat_keluarga": "on"}
        )
        assert made.status_code == 303
        twice = await web.post("/admin/setup/queues", data={"csrf": csrf, **queue})
        assert twice.status_code == 400 and "sudah dipakai" in twice.text

        code = await console.open_case("asn-1", "Saya ada masalah keluarga", "keluarga")
        async with console.rt.svc.sessions() as session:
            held = await session.scalar(
                select(queues.c.code)
                .join(cases, cases.c.queue_id == queues.c.id)
                .where(cases.c.code == code)
            )
        assert held == "konseling-ump"  # the new queue took the topic

        refused = await web.post("/admin/setup/queues/konseling-ump/remove", data={"csrf": csrf})
        assert refused.status_code == 400 and "masih memiliki 1 kasus" in refused.text
        renamed = await web.post(
            "/admin/setup/queues/konseling-ump/rename",
            data={"csrf": csrf, "name": "Konseling Keluarga UMP"},
        )
        assert renamed.status_code == 303
        page = await web.get("/admin/setup")
        assert "Konseling Keluarga UMP (konseling-ump)" in page.text
        assert "Universitas Muhammadiyah Purworejo" in page.text
        bad = await web.post(
            "/admin/setup/partners", data={"csrf": csrf, "code": "A B", "name": "X"}
        )
        assert bad.status_code == 400 and "huruf kecil" in bad.text
        forged = await web.post("/admin/setup/partners", data={"code": "lain", "name": "X"})
        assert forged.status_code == 403

    async with console.browser() as web:
        csrf = await sign_in(web, "dewi")
        nope = await web.post(
            "/admin/setup/queues/konseling-ump/rename", data={"csrf": csrf, "name": "X"}
        )
        assert nope.status_code == 403
    async with console.rt.svc.sessions() as session:
        events = (await session.scalars(select(audit_events.c.purpose))).all()
    assert [e for e in events if e and e.split()[0] in ("partner", "queue")] == [
        "partner added ump",
        "queue added konseling-ump (ump) [keluarga]",
        "queue renamed konseling-ump",
    ]
