"""The ASN web chat in real headless Chromium (Debian's, driven by Playwright), served by uvicorn.

Screenshots at phone width go to var/screenshots/ (not committed).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Dialog, Page, Route, async_playwright
from playwright.async_api import expect as pw_expect

from bot.app import create_app
from bot.runtime import Runtime
from core.usecases.casework import claim_case, reply_to_client
from tests.e2e.conftest import ROOT, SwitchableClassifier, needs_chromium
from tests.e2e.web_conftest import Web, counsellor, web_settings

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "var" / "screenshots"
SECRET = "KANARI-PERAMBAN-3318 saya lelah dengan diet ekstrem"
XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>")
PHONE = {"width": 390, "height": 844}

pytestmark = needs_chromium


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    base: str
    web: Web
    browser: Browser
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)
    page_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def rt(self) -> Runtime:
        return self.web.rt

    async def context(self) -> BrowserContext:
        context = await self.browser.new_context(viewport=PHONE, locale="id-ID")
        # The quick exit leaves for a neutral page: answered here, nothing leaves the machine.
        await context.route(
            "https://www.google.com/**",
            lambda route: route.fulfill(body="<p>neutral</p>", content_type="text/html"),
        )
        context.on("request", lambda request: self.hosts.add(urlparse(request.url).netloc))
        return context

    async def open(self, context: BrowserContext) -> Page:
        page = await context.new_page()
        page.on("dialog", self._dialog)
        page.on("response", self._sized)
        page.on(
            "console",
            lambda m: self.console_errors.append(m.text) if m.type == "error" else None,
        )
        return page

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def _sized(self, response: object) -> None:
        url = urlparse(getattr(response, "url", ""))
        if url.path == "/" or url.path.startswith("/static/chat."):
            self.page_bytes[url.path] = len(await response.body())  # type: ignore[attr-defined]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    from storage.migrate import upgrade

    settings = web_settings(tmp_path)
    await upgrade(settings.database_url)
    classifier = SwitchableClassifier()
    app = create_app(settings, classifier=classifier)
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
    app.state.web_chat.poll_seconds = 0.3
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
            web = Web(app, settings, classifier, http=None)  # type: ignore[arg-type]
            try:
                yield Served(f"http://127.0.0.1:{port}", web, browser)
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await task


async def last_button(page: Page, label: str, question: str) -> None:
    """Press `label` on the newest message, once it asks `question`."""
    newest = page.locator("#log li.them").last
    await pw_expect(newest).to_contain_text(question)
    await newest.get_by_role("button", name=label, exact=True).click()


async def consent_and_open_a_case(served: Served, page: Page) -> str:
    await page.get_by_role("button", name="Saya setuju").click()
    recovery = page.locator("#recovery-code")
    await pw_expect(recovery).to_have_text(re.compile(r"^([A-Z0-9]{5}-){3}[A-Z0-9]{5}$"))
    code = await recovery.text_content() or ""
    assert await page.evaluate("localStorage.getItem('sapa.code')") == code
    await page.screenshot(path=SHOTS / "1-recovery-code.png")
    await page.get_by_role("button", name="Sudah saya simpan").click()
    await pw_expect(page.locator("#log")).to_contain_text("Silakan ceritakan")
    await page.locator("#text").fill(SECRET)
    await page.get_by_role("button", name="Kirim").click()
    await last_button(page, "Ya, benar", "Sepertinya ini tentang")
    await last_button(page, "Lewati", "jenis kelamin")
    await last_button(page, "Lewati", "kelompok usia")
    await last_button(page, "Lewati", "status kepegawaian")
    await pw_expect(page.locator("#log")).to_contain_text("tercatat dengan kode")
    await pw_expect(page.locator("#case-code")).to_have_text(re.compile(r"^K-[A-Z0-9]{4}$"))
    return code


async def test_an_asn_chats_with_a_counsellor_in_chromium(served: Served) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = await served.context()
    page = await served.open(context)
    first = await page.goto(served.base + "/")
    assert first is not None
    assert "script-src 'self'" in (await first.all_headers())["content-security-policy"]
    await pw_expect(page.locator("#notice")).to_contain_text("Pemberitahuan privasi")
    await page.screenshot(path=SHOTS / "0-privacy-notice.png")

    code = await consent_and_open_a_case(served, page)
    case_code = await page.locator("#case-code").text_content() or ""
    await page.screenshot(path=SHOTS / "2-case-opened.png")

    staff = await counsellor(served.web)
    rt = served.rt
    await claim_case(uow=rt.uow(), staff_id=staff.id, case_code=case_code, clock=rt.clock)
    await reply_to_client(
        uow=rt.uow(), staff_id=staff.id, case_code=case_code, text=XSS[1], clock=rt.clock
    )
    rt.kick()
    # Live: the page is not reloaded; the reply arrives over the event stream.
    reply = page.locator("#log li.them").filter(has_text="Konselor Rina (Psikologi)").last
    await pw_expect(reply).to_contain_text(XSS[1])

    for payload in XSS:
        await page.locator("#text").fill(payload)
        await page.keyboard.press("Enter")
        await pw_expect(page.locator("#log li.mine").last).to_have_text(payload)
    await pw_expect(page.locator("#log li.mine.pending")).to_have_count(0)
    assert await page.locator("#log img, #log script").count() == 0
    await page.screenshot(path=SHOTS / "3-conversation.png", full_page=True)

    # Recovery on a second device, then erasure from there.
    other = await served.context()
    second = await served.open(other)
    await second.goto(served.base + "/")
    await second.locator("#resume summary").click()
    await second.locator("#resume-code").fill(code.lower().replace("-", " "))
    await second.get_by_role("button", name="Lanjutkan").click()
    await pw_expect(second.locator("#log")).to_contain_text(SECRET)
    await pw_expect(second.locator("#case-code")).to_have_text(case_code)

    await page.get_by_role("button", name="Selesai").click()
    await last_button(page, "5", "Bagaimana penilaian")
    await pw_expect(page.locator("#log li.them").last).to_contain_text("Terima kasih atas")
    await pw_expect(page.locator("#case")).to_be_hidden()

    async with second.expect_download() as download_info:
        await second.get_by_role("button", name="Unduh percakapan").click()
    download = await download_info.value
    assert download.suggested_filename == "sapa-asn-data.json"
    held = json.loads(await asyncio.to_thread(Path.read_text, await download.path(), "utf-8"))
    assert held["cases"][0]["messages"][0]["text"] == SECRET
    assert held["cases"][0]["ratings"] == [5]

    # Quick exit: the code is gone from the browser and the tab is on a neutral page.
    await page.get_by_role("button", name="Keluar cepat").click()
    await page.wait_for_url("https://www.google.com/")
    assert await page.evaluate("localStorage.length") == 0
    check = await served.open(context)
    await check.goto(served.base + "/")
    assert await check.evaluate("localStorage.getItem('sapa.code')") is None
    await pw_expect(check.get_by_role("button", name="Saya setuju")).to_be_visible()

    await second.get_by_role("button", name="Hapus data saya").click()
    await second.get_by_role("button", name="Ya, hapus semua").click()
    await pw_expect(second.locator("#welcome-note")).to_contain_text("sudah kami hapus")
    assert await second.evaluate("localStorage.getItem('sapa.code')") is None

    assert served.dialogs == []
    assert not [e for e in served.console_errors if "Content Security Policy" in e]
    assert served.hosts - {"www.google.com"} == {f"127.0.0.1:{served.base.rsplit(':', 1)[1]}"}
    total = sum(served.page_bytes.values())
    print(f"web chat page: {served.page_bytes} = {total} bytes")
    assert total < 50_000
    await context.close()
    await other.close()


async def test_the_english_switch_and_refusal_store_nothing(served: Served) -> None:
    context = await served.context()
    page = await served.open(context)
    await page.goto(served.base + "/")
    await page.get_by_role("button", name="English").click()
    await pw_expect(page.locator("#notice")).to_contain_text("Privacy notice")
    await page.get_by_role("button", name="I do not agree").click()
    await pw_expect(page.locator("#welcome-note")).to_contain_text("Nothing has been stored")
    assert await page.evaluate("localStorage.length") == 0
    await context.close()


async def consented(served: Served) -> tuple[BrowserContext, Page]:
    """A new visitor who agreed to the notice and keeps the code: the chat is open."""
    context = await served.context()
    page = await served.open(context)
    await page.goto(served.base + "/")
    await page.get_by_role("button", name="Saya setuju").click()
    await page.get_by_role("button", name="Sudah saya simpan").click()
    return context, page


async def test_a_crisis_message_shows_the_safety_message_first(served: Served) -> None:
    context, page = await consented(served)
    await page.locator("#text").fill("saya sudah tidak kuat, pengen bunuh diri aja")
    await page.keyboard.press("Enter")
    safety = page.locator("#log li.them.urgent")
    await pw_expect(safety).to_contain_text("119")
    replies = await page.locator("#log li.them").all_text_contents()
    assert "Keselamatan" in replies[1], replies
    await page.screenshot(path=SHOTS / "4-crisis.png", full_page=True)
    await context.close()


async def test_typing_while_a_message_is_on_its_way_loses_nothing(served: Served) -> None:
    context, page = await consented(served)
    await pw_expect(page.locator("#log")).to_contain_text("Silakan ceritakan")
    release = asyncio.Event()
    held: list[str] = []

    async def hold(route: Route) -> None:  # a slow mobile network, for this message only
        held.append(route.request.url)
        await release.wait()
        await route.continue_()

    await page.route("**/api/chat/message", hold)
    await page.locator("#text").fill("pesan pertama tentang keluarga saya")
    await page.keyboard.press("Enter")
    await pw_expect(page.locator("#log li.mine.pending")).to_have_count(1)
    await pw_expect(page.locator("#text")).to_have_value("")  # cleared as it was sent
    await page.locator("#text").fill("yang sedang saya ketik")  # typed while it is on its way
    release.set()
    await pw_expect(page.locator("#log li.mine.pending")).to_have_count(0)
    await pw_expect(page.locator("#text")).to_have_value("yang sedang saya ketik")
    assert len(held) == 1

    # Refused by the server: the bubble goes and the text comes back to be sent again.
    async def refuse(route: Route) -> None:
        await route.fulfill(status=503, json={"detail": "Layanan sedang sibuk."})

    await page.unroute("**/api/chat/message")
    await page.route("**/api/chat/message", refuse)
    await page.locator("#text").fill("pesan yang ditolak")
    await page.keyboard.press("Enter")
    await pw_expect(page.locator("#text")).to_have_value("pesan yang ditolak")
    await pw_expect(page.locator("#log li.mine")).to_have_count(1)
    await context.close()
