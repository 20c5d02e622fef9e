"""The admin pages in real headless Chromium: invite, mapping, audit trail, operations.

Screenshots at desktop width go to var/screenshots/ (not committed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import uvicorn
from playwright.async_api import Page, async_playwright
from playwright.async_api import expect as pw_expect

from bot.app import create_app
from core.model import Role
from tests.e2e.conftest import SwitchableClassifier, e2e_settings, needs_chromium
from tests.e2e.test_staff_console import CHANNEL, PASSWORD, Console, Inbox
from tests.e2e.test_staff_console_browser import CHROMIUM, SHOTS, Served, free_port

CANARY = "KANARI-BROWSER-4471"
pytestmark = needs_chromium


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    from storage.migrate import upgrade

    fake_api = SimpleNamespace(base_url="http://127.0.0.1:9")
    settings = e2e_settings(tmp_path, fake_api).model_copy(  # type: ignore[arg-type]
        update={
            "telegram_client_token": None,
            "telegram_staff_token": None,
            "telegram_staff_bot_username": "SapaPetugasBot",
        }
    )
    await upgrade(settings.database_url)
    inbox = Inbox()
    app = create_app(settings, classifier=SwitchableClassifier(), senders={CHANNEL: inbox})
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            try:
                yield Served(f"http://127.0.0.1:{port}", Console(app, settings, inbox), browser)
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await task


async def log_in(served: Served, username: str) -> Page:
    page = await served.page()
    await page.goto(served.base + "/staff/login")
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()
    await page.wait_for_url(served.base + ("/admin" if username == "admin" else "/staff"))
    return page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"admin_{name}.png"), full_page=True)


async def counsellor_reads(served: Served, code: str) -> Page:
    page = await log_in(served, "dewi")
    await page.locator(f'tr[data-code="{code}"]').get_by_role("button", name="Ambil").click()
    await page.get_by_label("Tujuan membaca").select_option("review")
    await page.get_by_role("button", name="Baca percakapan").click()
    await pw_expect(page.locator("ol.transcript")).to_contain_text(CANARY)
    return page


async def test_an_admin_invites_remaps_reads_the_trail_and_sees_operations(
    served: Served,
) -> None:
    console = served.console
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    await console.member("hadi", Role.COUNSELLOR, "hukum", name="Hadi")
    code = await console.open_case("asn-b1", f"{CANARY} saya cemas")
    dewi = await counsellor_reads(served, code)

    admin = await log_in(served, "admin")
    await admin.goto(served.base + "/admin/staff")
    invite = admin.locator('form[action="/admin/staff/invite"]')
    await invite.get_by_label("Peran").select_option("counsellor")
    await invite.get_by_label("Psikologi").check()
    await invite.get_by_role("button", name="Buat undangan").click()
    shown = admin.locator("#shown-once")
    invite_code = (await shown.locator("#secret").inner_text()).strip()
    assert len(invite_code) == 12
    link = admin.locator("#invite-link")
    await pw_expect(link).to_have_attribute(
        "href", f"https://t.me/SapaPetugasBot?start={invite_code}"
    )
    await pw_expect(shown.locator("figure.qr svg")).to_be_visible()
    await shot(admin, "invite")

    await admin.get_by_role("link", name="Pengaturan").click()
    await admin.get_by_label("Topik").select_option("keluarga")
    await admin.locator('select[name="queue"]').select_option("hukum")
    await admin.get_by_role("button", name="Arahkan topik ke antrean ini").click()
    await pw_expect(admin.locator(".flash")).to_contain_text("Perubahan tersimpan")
    await shot(admin, "setup")
    family = await console.open_case("asn-b2", "Masalah rumah tangga", "keluarga")
    hadi = await log_in(served, "hadi")
    await pw_expect(hadi.locator(f'tr[data-code="{family}"]')).to_be_visible()

    await admin.get_by_role("link", name="Jejak audit").click()
    await pw_expect(admin.locator("#chain-status")).to_contain_text("Rantai audit utuh")
    await admin.get_by_label("Saring menurut petugas").select_option(label="Dewi")
    await admin.get_by_role("button", name="Tampilkan").click()
    row = admin.locator("tbody tr", has_text=code)
    await pw_expect(row).to_contain_text("Dewi")
    await pw_expect(row).to_contain_text("meninjau kasus sebelum menjawab")
    await pw_expect(admin.locator("main")).not_to_contain_text("mapping keluarga")  # Dewi only
    await shot(admin, "audit")

    await admin.get_by_role("link", name="Operasional").click()
    await pw_expect(admin.locator("#outbox")).to_contain_text("pesan menunggu dikirim")
    await pw_expect(admin.locator("main")).to_contain_text("v1 (aktif)")
    await shot(admin, "ops")
    for page in (admin, hadi):
        assert CANARY not in await page.content()

    await admin.goto(served.base + f"/staff/cases/{code}?purpose=supervision")
    await pw_expect(admin.locator(".error")).to_contain_text("tidak dapat melihat isi kasus")
    assert CANARY not in await admin.content()
    for path in ("/admin/audit", "/admin/staff", "/admin/setup", "/admin/ops"):
        answer = await dewi.goto(served.base + path)
        assert answer is not None and answer.status == 403, path
        await pw_expect(dewi.locator(".error")).to_contain_text("hanya untuk admin")
    assert served.errors == []  # no CSP violation, no script error
