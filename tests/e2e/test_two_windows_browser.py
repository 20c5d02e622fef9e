"""An ASN (web chat) and a counsellor (staff console) in two Chromium contexts, one service."""

from __future__ import annotations

import re

from playwright.async_api import expect as pw_expect

from core.model import Role
from core.usecases.staffing import add_staff
from storage.staff_auth import StaffAuth
from tests.e2e.test_web_chat_browser import SHOTS, Served, last_button, served  # noqa: F401

PASSWORD = "kata-sandi-demo-2026"
CRISIS = "Saya capek sekali. Kadang saya pengen bunuh diri aja."
XSS = "<img src=x onerror=alert(7)>"


async def test_asn_and_counsellor_talk_in_two_windows(served: Served) -> None:  # noqa: F811
    rt = served.rt
    staff = await add_staff(
        uow=rt.uow(),
        display_name="Dewi",
        role=Role.COUNSELLOR,
        queue_codes=["psikologi"],
        clock=rt.clock,
    )
    await StaffAuth(rt.svc.sessions, rt.svc.keyring).add_login(
        staff.id, "dewi", PASSWORD, rt.clock.now()
    )

    asn_context = await served.context()
    asn = await served.open(asn_context)
    await asn.goto(served.base + "/")
    await asn.get_by_role("button", name="Saya setuju").click()
    shown = asn.locator("#recovery-code")
    await pw_expect(shown).to_have_text(re.compile(r"^([A-Z0-9]{5}-){3}[A-Z0-9]{5}$"))
    recovery = await shown.text_content() or ""
    await asn.get_by_role("button", name="Sudah saya simpan").click()
    await asn.locator("#text").fill(CRISIS)
    await asn.keyboard.press("Enter")
    await pw_expect(asn.locator("#log li.them.urgent")).to_contain_text("119")
    await last_button(asn, "Ya, benar", "Sepertinya ini tentang")
    for question in ("jenis kelamin", "kelompok usia", "status kepegawaian"):
        await last_button(asn, "Lewati", question)
    await pw_expect(asn.locator("#case-code")).to_have_text(re.compile(r"^K-[A-Z0-9]{4}$"))
    code = await asn.locator("#case-code").text_content() or ""

    staff_context = await served.browser.new_context(viewport={"width": 1280, "height": 800})
    counsellor = await staff_context.new_page()
    counsellor.on("dialog", served._dialog)
    await counsellor.goto(served.base + "/staff")
    await counsellor.get_by_label("Nama pengguna").fill("dewi")
    await counsellor.get_by_label("Kata sandi").fill(PASSWORD)
    await counsellor.get_by_role("button", name="Masuk").click()
    row = counsellor.locator(f'tr[data-code="{code}"]')
    await pw_expect(row).to_contain_text("KRISIS", ignore_case=True)
    await row.get_by_role("button", name="Ambil").click()
    await pw_expect(asn.locator("#log")).to_contain_text("Konselor Dewi (Psikologi)")
    await counsellor.get_by_label("Tujuan membaca").select_option("safety")
    await counsellor.get_by_role("button", name="Baca percakapan").click()
    await pw_expect(counsellor.locator("ol.transcript")).to_contain_text(CRISIS)
    await counsellor.get_by_label("Balasan untuk klien").fill(f"Saya di sini. {XSS}")
    await counsellor.get_by_role("button", name="Kirim balasan").click()
    reply = asn.locator("#log li.them").filter(has_text="Saya di sini.").last
    await pw_expect(reply).to_contain_text(XSS)
    await counsellor.screenshot(path=SHOTS / "two-windows-counsellor.png", full_page=True)
    await asn.screenshot(path=SHOTS / "two-windows-asn.png", full_page=True)

    await asn.locator("#text").fill("Terima kasih sudah menjawab")
    await asn.keyboard.press("Enter")
    await counsellor.get_by_role("link", name=re.compile("Muat ulang percakapan")).click()
    await pw_expect(counsellor.locator("ol.transcript")).to_contain_text("sudah menjawab")

    # The ASN continues on a second device, then erases everything from there.
    other = await served.context()
    second = await served.open(other)
    await second.goto(served.base + "/")
    await second.locator("#resume summary").click()
    await second.locator("#resume-code").fill(recovery)
    await second.get_by_role("button", name="Lanjutkan").click()
    await pw_expect(second.locator("#log")).to_contain_text("Saya di sini.")
    await second.get_by_role("button", name="Hapus data saya").click()
    await second.get_by_role("button", name="Ya, hapus semua").click()
    await pw_expect(second.locator("#welcome-note")).to_contain_text("sudah kami hapus")
    await counsellor.goto(served.base + f"/staff/cases/{code}?purpose=respond")
    await pw_expect(counsellor.locator("body")).to_contain_text("tidak ditemukan")

    await asn.get_by_role("button", name="Keluar cepat").click()
    await asn.wait_for_url("https://www.google.com/")
    assert served.dialogs == []
    assert await asn.evaluate("localStorage.length") == 0
    for context in (asn_context, staff_context, other):
        await context.close()
