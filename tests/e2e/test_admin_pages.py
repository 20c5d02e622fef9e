"""The admin pages of setup, staff, audit and operations, and /metrics, over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from bot.app import create_app
from core import catalogue
from core.model import Role
from storage.seed import seed_partners
from storage.tables import audit_events, outbox, queues
from tests.e2e.conftest import ROOT, SwitchableClassifier, e2e_settings
from tests.e2e.test_staff_console import CHANNEL, Console, Inbox, sign_in

TOKEN = "metrics-token-for-tests-0123456789"
CANARY = "KANARI-rahasia-7Q2"
PAGES = ("/admin/setup", "/admin/staff", "/admin/audit", "/admin/audit/export.csv", "/admin/ops")
POSTS = (
    ("/admin/setup/mapping", {"category": "keluarga", "queue": "hukum"}),
    ("/admin/setup/value", {"key": "retention_days", "value": "40"}),
    ("/admin/staff/invite", {"role": "counsellor", "queue_psikologi": "on"}),
    ("/admin/staff/create", {"display_name": "X", "username": "x", "role": "admin"}),
)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    from storage.migrate import upgrade

    fake_api = SimpleNamespace(base_url="http://127.0.0.1:9")
    settings = e2e_settings(tmp_path, fake_api).model_copy(  # type: ignore[arg-type]
        update={
            "telegram_client_token": None,
            "telegram_staff_token": None,
            "metrics_token": SecretStr(TOKEN),
            "telegram_staff_bot_username": "SapaPetugasBot",
        }
    )
    await upgrade(settings.database_url)
    inbox = Inbox()
    app = create_app(settings, classifier=SwitchableClassifier(), senders={CHANNEL: inbox})
    async with app.router.lifespan_context(app):
        yield Console(app, settings, inbox)


async def read_case(console: Console, web: httpx.AsyncClient, purpose: str) -> str:
    code = await console.open_case("asn-1", f"{CANARY} saya sulit tidur")
    csrf = await sign_in(web, "dewi")
    await web.post(f"/staff/cases/{code}/claim", data={"csrf": csrf})
    read = await web.get(f"/staff/cases/{code}", params={"purpose": purpose})
    assert CANARY in read.text
    return code


async def test_a_counsellor_gets_403_on_every_admin_page_and_changes_nothing(
    console: Console,
) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    async with console.browser() as web:
        for path in PAGES:
            assert (await web.get(path)).headers["location"] == "/staff/login", path
        csrf = await sign_in(web, "dewi")
        for path in PAGES:
            page = await web.get(path)
            assert page.status_code == 403 and "hanya untuk admin" in page.text, path
        for path, data in POSTS:
            refused = await web.post(path, data={"csrf": csrf, **data})
            assert refused.status_code == 403, path
        assert (await web.get("/metrics")).status_code == 403  # a session is no token
    async with console.rt.uow() as uow:
        hukum = await uow.partners.queue_by_code("hukum")
        assert hukum is not None and [c.value for c in hukum.categories] == ["hukum"]
        assert await uow.setup.all() == {}
        assert len(await uow.staff.all()) == 1
    assert await console.count(audit_events) == 0


async def test_an_admin_gets_403_on_transcript_urls_and_reads_nothing(console: Console) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    code = await console.open_case("asn-2", f"{CANARY} rahasia")
    async with console.browser() as web:
        csrf = await sign_in(web, "admin")
        for path in (f"/staff/cases/{code}", f"/staff/cases/{code}?purpose=supervision", "/staff"):
            page = await web.get(path)
            assert page.status_code == 403 and CANARY not in page.text, path
        claim = await web.post(f"/staff/cases/{code}/claim", data={"csrf": csrf})
        assert claim.status_code == 403
        for path in PAGES:
            page = await web.get(path)
            assert page.status_code == 200 and CANARY not in page.text, path
            csp = page.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
            assert page.headers["cache-control"] == "no-store", path
            assert page.headers["x-frame-options"] == "DENY", path
            assert "<script>" not in page.text and " style=" not in page.text, path
    assert await console.count(audit_events) == 0


async def test_the_audit_trail_names_reader_case_and_purpose_and_exports_csv(
    console: Console,
) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    dewi = await console.member("dewi", Role.COUNSELLOR, "psikologi")
    gita = await console.member("gita", Role.COUNSELLOR, "gizi", name="Gita")
    await console.member("sri", Role.SUPERVISOR, "psikologi", name="Sri")
    await console.member("hadi", Role.SUPERVISOR, "hukum", name="Hadi")
    async with console.browser() as counsellor:
        code = await read_case(console, counsellor, "review")
    async with console.browser() as web:
        await sign_in(web, "admin")
        page = await web.get("/admin/audit")
        assert page.status_code == 200 and "Rantai audit utuh (1 kejadian" in page.text
        assert code in page.text and "Dewi" in page.text
        assert "meninjau kasus sebelum menjawab" in page.text
        assert CANARY not in page.text
        assert code in (await web.get("/admin/audit", params={"staff": dewi})).text
        assert code not in (await web.get("/admin/audit", params={"staff": gita})).text
        exported = await web.get("/admin/audit/export.csv", params={"staff": dewi})
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.text)))
        assert rows[0] == ["at_utc", "staff", "action", "case_code", "purpose", "purpose_text"]
        label = "meninjau kasus sebelum menjawab"
        assert rows[1][1:] == ["Dewi", "transcript.read", code, "review", label]
        assert CANARY not in exported.text
    for supervisor, sees in (("sri", True), ("hadi", False)):
        async with console.browser() as web:
            await sign_in(web, supervisor)
            assert (code in (await web.get("/admin/audit")).text) is sees
            assert (await web.get("/admin/ops")).status_code == 403


async def test_a_formula_in_a_display_name_is_defused_in_the_csv(console: Console) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    await console.member("dewi", Role.COUNSELLOR, "psikologi", name="=HYPERLINK(1)")
    async with console.browser() as counsellor:
        await read_case(console, counsellor, "respond")
    async with console.browser() as web:
        await sign_in(web, "admin")
        rows = list(csv.reader(io.StringIO((await web.get("/admin/audit/export.csv")).text)))
        assert rows[1][1:5] == ["'=HYPERLINK(1)", "transcript.read", rows[1][3], "respond"]


async def test_metrics_need_the_token_parse_and_name_nobody(console: Console) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi", name=f"Dewi {CANARY}")
    async with console.browser() as counsellor:
        code = await read_case(console, counsellor, "respond")
    await console.open_case("asn-9", f"{CANARY} kedua", "gizi")
    async with console.browser() as web:
        assert (await web.get("/metrics")).status_code == 403
        wrong = await web.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        scraped = await web.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    text = scraped.text
    assert CANARY not in text and code not in text and "asn-" not in text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("sapa_queue_depth", (("queue", "gizi"),))] == 1
    assert samples[("sapa_queue_depth", (("queue", "psikologi"),))] == 0  # claimed
    assert samples[("sapa_messages", (("channel", CHANNEL), ("direction", "client")))] == 2
    assert samples[("sapa_nlu_up", ())] == 0  # no NLU server in this test
    assert ("sapa_outbox_dead", ()) in samples and ("sapa_outbox_pending", ()) in samples
    handled = samples[("sapa_request_seconds_count", (("surface", "staff"),))]
    assert handled >= 3
    labels = {k for (_, pairs) in samples for k, _ in pairs}
    assert labels <= {"channel", "direction", "queue", "surface", "le"}


async def test_staff_are_created_invited_reassigned_reset_and_disabled(console: Console) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    async with console.browser() as web:
        csrf = await sign_in(web, "admin")
        made = await web.post(
            "/admin/staff/create",
            data={
                "csrf": csrf,
                "display_name": "Rina",
                "username": "rina",
                "role": "counsellor",
                "queue_gizi": "on",
            },
        )
        assert made.status_code == 200 and "Kata sandi pertama untuk Rina" in made.text
        first = made.text.split('<code id="secret">')[1].split("<")[0]
        taken = await web.post(
            "/admin/staff/create",
            data={"csrf": csrf, "display_name": "Lain", "username": "RINA", "role": "admin"},
        )
        assert taken.status_code == 409 and "sudah dipakai" in taken.text
        invited = await web.post(
            "/admin/staff/invite", data={"csrf": csrf, "role": "counsellor", "queue_hukum": "on"}
        )
        code = invited.text.split('<code id="secret">')[1].split("<")[0]
        assert f"https://t.me/SapaPetugasBot?start={code}" in invited.text
        assert '<svg width="' in invited.text and "qrline" in invited.text
        async with console.rt.uow() as uow:
            rina = next(s for s in await uow.staff.all() if s.display_name == "Rina")
        moved = await web.post(
            f"/admin/staff/{rina.id}/queues", data={"csrf": csrf, "queue_psikologi": "on"}
        )
        assert moved.status_code == 303
        listing = (await web.get("/admin/staff")).text
        assert "Rina" in listing and "psikologi" in listing
        reset = await web.post(f"/admin/staff/{rina.id}/reset", data={"csrf": csrf})
        second = reset.text.split('<code id="secret">')[1].split("<")[0]
        assert second != first
    async with console.browser() as rina_web:
        assert (
            await rina_web.post("/staff/login", data={"username": "rina", "password": first})
        ).status_code == 401
        await sign_in(rina_web, "rina", second)
        assert (await rina_web.get("/staff")).status_code == 200
        async with console.browser() as web:
            csrf = await sign_in(web, "admin")
            seen = (await web.get("/admin/staff")).text
            assert "WIB" in seen  # Rina's last sign-in
            await web.post(f"/admin/staff/{rina.id}/disable", data={"csrf": csrf})
        assert (await rina_web.get("/staff")).status_code == 303  # her session ended
    async with console.rt.uow() as uow:
        actions = [e.action for e in await uow.audit.recent()]
    assert {
        "member.created",
        "member.invited",
        "member.queues",
        "member.password_reset",
        "member.disabled",
    } <= set(actions)


async def test_a_mapping_change_routes_new_cases_and_survives_a_restart(console: Console) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    await console.member("hadi", Role.COUNSELLOR, "hukum", name="Hadi")
    async with console.browser() as web:
        csrf = await sign_in(web, "admin")
        changed = await web.post(
            "/admin/setup/mapping", data={"csrf": csrf, "category": "keluarga", "queue": "hukum"}
        )
        assert changed.status_code == 303
        page = (await web.get(changed.headers["location"])).text
        assert "Perubahan tersimpan" in page
    await seed_partners(console.rt.svc.sessions, ROOT / "config" / "partners.yaml")
    async with console.rt.svc.sessions() as session:
        mapped = dict((await session.execute(select(queues.c.code, queues.c.categories))).all())
    assert mapped["hukum"] == "hukum,keluarga" and "keluarga" not in mapped["psikologi"]
    code = await console.open_case("asn-7", "Masalah rumah tangga", "keluarga")
    async with console.browser() as hadi:
        await sign_in(hadi, "hadi")
        assert code in (await hadi.get("/staff")).text
    async with console.rt.uow() as uow:
        [event] = await uow.audit.recent()
    assert (event.action, event.purpose) == ("setup.changed", "mapping keluarga -> hukum")


async def test_setup_values_are_checked_saved_and_applied(console: Console) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    async with console.browser() as web:
        csrf = await sign_in(web, "admin")
        bad = await web.post(
            "/admin/setup/value", data={"csrf": csrf, "key": "retention_days", "value": "7"}
        )
        assert bad.status_code == 400 and "tidak ada yang diubah" in bad.text
        late = await web.post(
            "/admin/setup/value", data={"csrf": csrf, "key": "opens", "value": "17:00"}
        )
        assert late.status_code == 400  # would open after closing
        for key, value in (
            ("retention_days", "90"),
            ("closes", "15.30"),
            ("holidays", "2026-12-25, 2026-12-24"),
            ("emergency_contacts", "119 ext 8\n112\n"),
        ):
            saved = await web.post(
                "/admin/setup/value", data={"csrf": csrf, "key": key, "value": value}
            )
            assert saved.status_code == 303, (key, saved.text)
        page = (await web.get("/admin/setup")).text
        assert 'value="90"' in page and "2026-12-24 2026-12-25" in page
    policy = console.rt.policy
    assert (f"{policy.closes:%H:%M}", policy.emergency_contacts) == ("15:30", ("119 ext 8", "112"))
    assert "2026-12-25" in policy.holidays
    async with console.rt.uow() as uow:
        assert (await uow.setup.all())["retention_days"] == 90
        events = [e.purpose for e in await uow.audit.recent()]
    assert "retention_days = 90" in events and "emergency_contacts" in events
    promised = catalogue.text(
        "client.privacy", "id", version=console.settings.consent_version, days=90
    )
    assert promised in await console.rt.privacy_notice("id")  # the ASN is told the new period


async def test_the_ops_page_shows_backlog_dead_letters_and_keys_without_payloads(
    console: Console,
) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    store = console.rt.outbox
    await store.enqueue_direct(channel="nowhere", address="628123", payload={"text": CANARY})
    async with console.rt.svc.sessions() as session:
        found = await session.execute(select(outbox.c.id).where(outbox.c.channel == "nowhere"))
        [item] = found.scalars().all()
    await store.mark_dead(item, "TelegramForbiddenError")
    async with console.browser() as web:
        await sign_in(web, "admin")
        page = (await web.get("/admin/ops")).text
    assert item[:8] in page and "TelegramForbiddenError" in page and "nowhere" in page
    assert CANARY not in page and "628123" not in page
    assert "v1 (aktif)" in page and "Server NLU tidak dikonfigurasi" in page


async def test_a_telegram_only_member_has_no_password_to_reset(console: Console) -> None:
    from core.usecases.staffing import create_invite, redeem_invite

    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    rt = console.rt
    issued = await create_invite(
        uow=rt.uow(), role=Role.COUNSELLOR, queue_codes=["gizi"], clock=rt.clock
    )
    member = await redeem_invite(
        uow=rt.uow(),
        code=issued.code,
        telegram_id="9001",
        telegram_chat="9001",
        display_name="Tono",
        clock=rt.clock,
    )
    async with console.browser() as web:
        csrf = await sign_in(web, "admin")
        refused = await web.post(f"/admin/staff/{member.id}/reset", data={"csrf": csrf})
        assert refused.status_code == 409 and "belum punya login konsol" in refused.text
        unknown = await web.post("/admin/staff/no-such-member/queues", data={"csrf": csrf})
        assert unknown.status_code == 404
    assert await console.count(audit_events) == 0
