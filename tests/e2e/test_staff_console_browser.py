"""The staff console in real headless Chromium (Debian's, driven by Playwright), over uvicorn.

Screenshots at desktop width go to var/screenshots/ (not committed).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest
import uvicorn
from playwright.async_api import Browser, ConsoleMessage, Dialog, Page, async_playwright
from playwright.async_api import expect as pw_expect

from bot.app import create_app
from core.model import Role
from tests.e2e.conftest import ROOT, SwitchableClassifier, e2e_settings, needs_chromium
from tests.e2e.test_staff_console import CHANNEL, PASSWORD, XSS, Console, Inbox

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}

pytestmark = needs_chromium


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    base: str
    console: Console
    browser: Browser
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def page(self) -> Page:
        context = await self.browser.new_context(viewport=DESKTOP, locale="id-ID")
        page = await context.new_page()
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        # A 404 favicon is no fault; a CSP violation or a script error is.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    from storage.migrate import upgrade

    fake_api = SimpleNamespace(base_url="http://127.0.0.1:9")
    settings = e2e_settings(tmp_path, fake_api).model_copy(  # type: ignore[arg-type]
        update={"telegram_client_token": None, "telegram_staff_token": None}
    )
    await upgrade(settings.database_url)
    inbox = Inbox()
    app = create_app(settings, classifier=SwitchableClassifier(), senders={CHANNEL: inbox})
    app.state.staff_console.refresh_seconds = 1.0
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=2,
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


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"staff_{name}.png"), full_page=True)


async def test_a_counsellor_claims_reads_and_replies_in_chromium(served: Served) -> None:
    console = served.console
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    code = await console.open_case("asn-b1", f"{XSS[0]} saya cemas sekali")
    page = await served.page()

    await page.goto(served.base + "/staff")
    await pw_expect(page).to_have_url(served.base + "/staff/login")
    await page.get_by_label("Nama pengguna").fill("dewi")
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await shot(page, "login")
    await page.get_by_role("button", name="Masuk").click()
    await pw_expect(page).to_have_url(served.base + "/staff")
    row = page.locator(f'tr[data-code="{code}"]')
    await pw_expect(row).to_contain_text("Kesehatan jiwa")

    later = await console.open_case("asn-b2", "Saya butuh bantuan soal keluarga", "keluarga")
    await pw_expect(page.locator(f'tr[data-code="{later}"]')).to_be_visible(timeout=10_000)
    await shot(page, "queue")

    await row.get_by_role("button", name="Ambil").click()
    await pw_expect(page.locator(".flash")).to_contain_text(f"Kasus {code} sekarang Anda tangani")
    await page.get_by_label("Tujuan membaca").select_option("review")
    await page.get_by_role("button", name="Baca percakapan").click()
    await pw_expect(page.locator("h2")).to_contain_text("tujuan: meninjau kasus sebelum menjawab")
    transcript = page.locator("ol.transcript")
    await pw_expect(transcript).to_contain_text(f"{XSS[0]} saya cemas sekali")

    await page.get_by_label("Catatan internal").fill(XSS[1])
    await page.get_by_role("button", name="Simpan catatan").click()
    await pw_expect(transcript).to_contain_text(XSS[1])
    await page.get_by_label("Balasan untuk klien").fill("Halo, saya Dewi. Ceritakan pelan-pelan.")
    await page.get_by_role("button", name="Kirim balasan").click()
    await pw_expect(page.locator(".flash")).to_contain_text(f"Terkirim ke klien kasus {code}")
    await shot(page, "case")
    reply = await console.inbox.wait_for("Ceritakan pelan-pelan.")
    assert reply.startswith("Konselor Dewi (Psikologi):")

    assert await page.locator("ol.transcript img").count() == 0
    assert await page.evaluate("document.cookie") == ""  # HttpOnly: no script can read it
    cookies = await page.context.cookies()
    session = next(c for c in cookies if c["name"] == "sapa_staff")
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/"
    assert served.dialogs == []
    assert served.errors == []  # no CSP violation, no script error
