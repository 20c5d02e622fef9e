"""The admin dashboard in real headless Chromium (Debian's, driven by Playwright), over uvicorn.

Screenshots go to var/screenshots/ (not committed).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright
from playwright.async_api import expect as pw_expect

from tests.e2e.conftest import needs_chromium
from tests.e2e.test_staff_console_browser import CHROMIUM, DESKTOP, SHOTS, free_port
from tests.integration.admin_world import CANARY, PASSWORD, World, world

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CHARTS = (
    "cases",
    "crisis_by_month",
    "open_by_queue",
    "cases_by_queue",
    "times",
    "ratings",
    "gender",
    "age_band",
    "employment",
)

pytestmark = needs_chromium


@dataclass
class Served:
    base: str
    world: World
    browser: Browser
    errors: list[str] = field(default_factory=list)

    def _console(self, message: ConsoleMessage) -> None:
        # A 404 favicon is no fault; a CSP violation or a script error is.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    async def page(self) -> Page:
        context = await self.browser.new_context(
            viewport=DESKTOP, locale="id-ID", accept_downloads=True
        )
        page = await context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    url = os.environ.get("SAPA_E2E_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}"
    async with world(tmp_path, url) as found:
        port = free_port()
        config = uvicorn.Config(
            found.app, host="127.0.0.1", port=port, log_config=None, access_log=False,
            ws="none", lifespan="off", timeout_graceful_shutdown=2,
        )  # fmt: skip
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                try:
                    yield Served(f"http://127.0.0.1:{port}", found, browser)
                finally:
                    await browser.close()
        finally:
            server.should_exit = True
            await task


async def log_in(served: Served, page: Page, username: str) -> None:
    await page.goto(served.base + "/admin")
    await pw_expect(page).to_have_url(served.base + "/admin/login")
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(PASSWORD)
    await page.get_by_role("button", name="Masuk").click()


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"admin_{name}.png"), full_page=True)


async def test_an_admin_sees_every_chart_exports_csv_and_prints(served: Served) -> None:
    page = await served.page()
    await log_in(served, page, "admin")
    await pw_expect(page).to_have_url(served.base + "/admin")
    await page.locator("select[name=period]").select_option("this_month")
    await page.get_by_role("button", name="Tampilkan").click()
    await pw_expect(page).to_have_url(served.base + "/admin?period=this_month")
    for chart in CHARTS:
        bars = page.locator(f"svg#chart-{chart} rect.bar")
        assert await bars.count() >= 1, chart
        assert await page.locator(f"svg#chart-{chart} title").first.text_content()
    cases = page.locator("svg#chart-cases")
    await pw_expect(cases.locator("text.count.hidden").first).to_have_text("<5")
    await pw_expect(page.locator("#stat-cases td[data-count]").first).to_have_text("<5")
    box = await cases.locator("rect.bar.suppressed").first.bounding_box()
    assert box is not None and box["height"] > 0  # drawn, at its fixed placeholder size
    await shot(page, "dashboard")

    async with page.expect_download() as info:
        await page.get_by_role("link", name="Unduh CSV").click()
    download = await info.value
    exported = (await asyncio.to_thread(Path(await download.path()).read_bytes)).decode("utf-8")
    assert download.suggested_filename == "sapa-statistik-this_month.csv"
    assert "# cases_by_month_category" in exported and ",<5," in exported
    assert "kesehatan_jiwa" in exported and CANARY not in exported

    await page.get_by_role("link", name="Tampilan cetak / PDF").click()
    await pw_expect(page).to_have_url(served.base + "/admin/print?period=this_month")
    await page.emulate_media(media="print")
    await pw_expect(page.locator(".noprint")).to_be_hidden()
    assert await page.locator("svg#chart-cases rect.bar").count() >= 1
    await pw_expect(page.locator("#stat-gender td[data-count]").first).to_have_text("6")
    await shot(page, "print")
    assert CANARY not in await page.content()
    assert served.errors == []  # no CSP violation, no script error


async def test_a_counsellor_cannot_open_the_dashboard(served: Served) -> None:
    page = await served.page()
    await log_in(served, page, "rina")
    await pw_expect(page.get_by_role("alert")).to_contain_text("hanya untuk admin BKPSDM")
    refused = await page.goto(served.base + "/admin/export.csv")
    assert refused is not None and refused.status == 403
    assert await page.locator("svg.chart").count() == 0
    await shot(page, "counsellor_refused")
