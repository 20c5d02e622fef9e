"""The staff console over HTTP, against the real app with no Telegram token at all."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from core.model import Role
from core.usecases.common import Sender
from core.usecases.intake import confirm_category, give_consent, receive_client_message
from core.usecases.staffing import add_staff
from storage.staff_auth import StaffAuth
from storage.tables import audit_events, messages, outbox, staff_sessions
from tests.e2e.conftest import SwitchableClassifier, e2e_settings

PASSWORD = "kata-sandi-konsol-1"
XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
CHANNEL = "consoletest"


@dataclass
class Inbox:
    """Stands in for the ASN's channel: what the outbox delivered to whom."""

    got: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        self.got.append((address, payload.get("text", "")))

    async def wait_for(self, fragment: str) -> str:
        for _ in range(100):
            found = [text for _, text in self.got if fragment in text]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"the client never got {fragment!r}: {self.got}")


@dataclass
class Console:
    app: FastAPI
    settings: Settings
    inbox: Inbox

    @property
    def rt(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def browser(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def member(self, username: str, role: Role, *queues: str, name: str = "Dewi") -> str:
        rt = self.rt
        staff = await add_staff(
            uow=rt.uow(), display_name=name, role=role, queue_codes=queues, clock=rt.clock
        )
        auth = StaffAuth(rt.svc.sessions, rt.svc.keyring)
        await auth.add_login(staff.id, username, PASSWORD, rt.clock.now())
        return staff.id

    async def open_case(self, who: str, text: str, category: str = "kesehatan_jiwa") -> str:
        rt, sender = self.rt, Sender(CHANNEL, who)
        consent = {"reply_address": who, "locale": "id", "version": "v1"}
        await give_consent(uow=rt.uow(), sender=sender, clock=rt.clock, **consent)
        got = await receive_client_message(
            uow=rt.uow(),
            sender=sender,
            text=text,
            screener=rt.screener,
            classifier=rt.classifier,
            clock=rt.clock,
            policy=rt.policy,
        )
        await confirm_category(
            uow=rt.uow(), sender=sender, category=category, clock=rt.clock, policy=rt.policy
        )
        return got.case_code

    async def count(self, table: Any) -> int:
        async with self.rt.svc.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    from storage.migrate import upgrade

    fake_api = SimpleNamespace(base_url="http://127.0.0.1:9")
    settings = e2e_settings(tmp_path, fake_api).model_copy(  # type: ignore[arg-type]
        update={"telegram_client_token": None, "telegram_staff_token": None}
    )
    await upgrade(settings.database_url)
    inbox = Inbox()
    app = create_app(settings, classifier=SwitchableClassifier(), senders={CHANNEL: inbox})
    async with app.router.lifespan_context(app):
        yield Console(app, settings, inbox)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Log in; return the CSRF token the pages carry."""
    response = await client.post("/staff/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.text
    landing = response.headers["location"]
    page = await client.get("/admin/audit" if landing == "/admin" else landing)
    return csrf_of(page.text)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def test_a_counsellor_handles_a_case_from_queue_to_resolution(console: Console) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    code = await console.open_case("asn-1", "Saya sulit tidur dan cemas terus")
    async with console.browser() as web:
        assert (await web.get("/staff")).headers["location"] == "/staff/login"
        csrf = await sign_in(web, "Dewi")
        queue = await web.get("/staff")
        assert queue.status_code == 200 and code in queue.text
        assert "Saya sulit tidur" not in queue.text  # no content before an audited read
        # The client's channel (this test's own, unknown to the catalogue, shows as it is).
        assert '<th scope="col">Saluran</th>' in queue.text and f"<td>{CHANNEL}</td>" in queue.text

        claimed = await web.post(f"/staff/cases/{code}/claim", data={"csrf": csrf})
        assert claimed.status_code == 303
        assert "Dewi (Psikologi)" in await console.inbox.wait_for("sekarang menemani")

        asked = await web.get(f"/staff/cases/{code}")
        assert "Tujuan membaca" in asked.text and "Saya sulit tidur" not in asked.text
        assert f"Saluran: {CHANNEL}" in asked.text
        audits = await console.count(audit_events)
        read = await web.get(f"/staff/cases/{code}", params={"purpose": "review"})
        assert "Saya sulit tidur dan cemas terus" in read.text
        assert await console.count(audit_events) == audits + 1
        async with console.rt.uow() as uow:
            events = await uow.audit.for_case(code)
        assert [(e.action, e.purpose) for e in events][-1] == ("transcript.read", "review")

        sent = await web.post(
            f"/staff/cases/{code}/reply",
            data={"csrf": csrf, "text": "Halo, saya Dewi.", "purpose": "review"},
        )
        assert sent.status_code == 303
        assert "purpose=review" in sent.headers["location"]
        reply = await console.inbox.wait_for("Halo, saya Dewi.")
        assert reply.startswith("Konselor Dewi (Psikologi):")

        noted = await web.post(
            f"/staff/cases/{code}/note", data={"csrf": csrf, "text": "Perlu tindak lanjut"}
        )
        assert noted.status_code == 303
        page = await web.get(f"/staff/cases/{code}", params={"purpose": "respond"})
        assert "Perlu tindak lanjut" in page.text and "catatan internal" in page.text
        assert not any("Perlu tindak lanjut" in text for _, text in console.inbox.got)

        done = await web.post(f"/staff/cases/{code}/resolve", data={"csrf": csrf})
        assert done.status_code == 303
        assert code not in (await web.get("/staff")).text
        await console.inbox.wait_for(code)


async def test_transfer_and_duty(console: Console) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    await console.member("gita", Role.COUNSELLOR, "gizi", name="Gita")
    code = await console.open_case("asn-2", "Masalah di rumah")
    async with console.browser() as dewi, console.browser() as gita:
        csrf = await sign_in(dewi, "dewi")
        await dewi.post(f"/staff/cases/{code}/claim", data={"csrf": csrf})
        moved = await dewi.post(
            f"/staff/cases/{code}/transfer",
            data={"csrf": csrf, "queue": "gizi", "reason": "soal pola makan"},
        )
        assert moved.status_code == 303
        assert "dipindahkan ke antrean gizi" in (await dewi.get(moved.headers["location"])).text
        assert code not in (await dewi.get("/staff")).text
        await sign_in(gita, "gita")
        assert code in (await gita.get("/staff")).text

        assert "sedang istirahat" in (await dewi.get("/staff")).text
        on = await dewi.post("/staff/duty", data={"csrf": csrf, "on_duty": "True"})
        assert "sedang bertugas" in (await dewi.get(on.headers["location"])).text
        await dewi.post("/staff/duty", data={"csrf": csrf, "on_duty": "False"})
        assert "sedang istirahat" in (await dewi.get("/staff")).text


async def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(
    console: Console,
) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    code = await console.open_case("asn-3", "Saya butuh teman bicara")
    async with console.browser() as web:
        csrf = await sign_in(web, "dewi")
        refused = await web.post(f"/staff/cases/{code}/claim", data={})
        assert refused.status_code == 403 and "tidak ada yang disimpan" in refused.text
        wrong = await web.post(f"/staff/cases/{code}/claim", data={"csrf": csrf + "x"})
        assert wrong.status_code == 403
        assert (
            code in (await web.get("/staff")).text
            and "oleh Anda" not in (await web.get("/staff")).text
        )
        await web.post(f"/staff/cases/{code}/claim", data={"csrf": csrf})
        before = await console.count(messages), await console.count(outbox)
        for path, data in (
            ("reply", {"text": "tanpa token"}),
            ("note", {"text": "tanpa token"}),
            ("resolve", {}),
        ):
            answer = await web.post(f"/staff/cases/{code}/{path}", data=data)
            assert answer.status_code == 403
        foreign = await web.post(
            f"/staff/cases/{code}/reply",
            data={"csrf": csrf, "text": "dari situs lain"},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
        assert (await console.count(messages), await console.count(outbox)) == before
        assert (await web.post("/staff/logout", data={})).status_code == 403
        assert (await web.get("/staff")).status_code == 200


async def test_a_counsellor_of_another_queue_neither_sees_nor_claims(console: Console) -> None:
    await console.member("gita", Role.COUNSELLOR, "gizi", name="Gita")
    code = await console.open_case("asn-4", "Saya cemas")
    async with console.browser() as web:
        csrf = await sign_in(web, "gita")
        assert code not in (await web.get("/staff")).text
        refused = await web.post(f"/staff/cases/{code}/claim", data={"csrf": csrf})
        assert refused.status_code == 403 and "tidak berwenang" in refused.text
        read = await web.get(f"/staff/cases/{code}", params={"purpose": "respond"})
        assert read.status_code == 403 and "Saya cemas" not in read.text
    assert "Gita" not in str(console.inbox.got)


async def test_an_admin_gets_no_case_content_anywhere(console: Console) -> None:
    await console.member("admin", Role.ADMIN, name="Admin BKPSDM")
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    code = await console.open_case("asn-5", "Rahasia saya")
    audits = await console.count(audit_events)
    async with console.browser() as web:
        csrf = await sign_in(web, "admin")
        for path in ("/staff", "/staff/queue/rows", f"/staff/cases/{code}"):
            page = await web.get(path, params={"purpose": "supervision"})
            assert page.status_code == 403, path
            assert "tidak dapat melihat isi kasus" in page.text and code not in page.text
        for action in ("claim", "reply", "note", "transfer", "resolve"):
            page = await web.post(
                f"/staff/cases/{code}/{action}",
                data={"csrf": csrf, "text": "x", "queue": "umum", "reason": "x"},
            )
            assert page.status_code == 403, action
            assert "Rahasia" not in page.text
    assert await console.count(audit_events) == audits


async def test_the_xss_payloads_show_as_text(console: Console) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi", name="<b>Dewi</b>")
    code = await console.open_case("asn-6", XSS[0])
    async with console.browser() as web:
        csrf = await sign_in(web, "dewi")
        await web.post(f"/staff/cases/{code}/claim", data={"csrf": csrf})
        await web.post(f"/staff/cases/{code}/note", data={"csrf": csrf, "text": XSS[1]})
        page = await web.get(f"/staff/cases/{code}", params={"purpose": "respond"})
        odd = await web.get(f"/staff/cases/{code}", params={"purpose": '"><script>x</script>'})
    assert page.status_code == 200
    assert odd.status_code == 400 and "pilih tujuan membaca" in odd.text
    assert "<script>x" not in odd.text and XSS[0] not in odd.text
    for payload in XSS:
        assert payload not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "&lt;b&gt;Dewi&lt;/b&gt;" in page.text and "<script>x" not in page.text


async def test_every_response_carries_the_security_headers(console: Console) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    async with console.browser() as web:
        responses = [await web.get("/staff/login"), await web.get("/staff")]
        responses.append(await web.post("/staff/login", data={"username": "x", "password": "y"}))
        await sign_in(web, "dewi")
        responses += [await web.get("/staff"), await web.get("/staff/static/staff.js")]
        responses.append(await web.get("/staff/cases/K-XXXX", params={"purpose": "respond"}))
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text and " style=" not in response.text


async def test_login_cookie_lockout_logout_and_rate_limit(console: Console) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    async with console.browser() as web:
        wrong = await web.post("/staff/login", data={"username": "dewi", "password": "salah"})
        assert wrong.status_code == 401 and "kata sandi salah" in wrong.text
        ok = await web.post("/staff/login", data={"username": "dewi", "password": PASSWORD})
        cookie = ok.headers["set-cookie"].lower()
        assert "sapa_staff=" in cookie and "httponly" in cookie
        assert "samesite=strict" in cookie and "path=/;" in cookie  # /staff and /admin
        assert "secure" not in cookie  # plain http on localhost
        csrf = csrf_of((await web.get("/staff")).text)
        assert await console.count(staff_sessions) == 1
        out = await web.post("/staff/logout", data={"csrf": csrf})
        assert out.headers["location"] == "/staff/login"
        assert await console.count(staff_sessions) == 0
        assert (await web.get("/staff")).status_code == 303

        for _ in range(5):  # five failures in a row: the account locks
            await web.post("/staff/login", data={"username": "dewi", "password": "salah"})
        locked = await web.post("/staff/login", data={"username": "dewi", "password": PASSWORD})
        assert locked.status_code == 401
        statuses = [
            (await web.post("/staff/login", data={"username": "a", "password": "b"})).status_code
            for _ in range(5)
        ]
        assert statuses[-1] == 429  # ten tries per address, then a pause


async def test_a_huge_form_is_refused(console: Console) -> None:
    async with console.browser() as web:
        huge = await web.post("/staff/login", data={"username": "x" * 20_000, "password": "y"})
    assert huge.status_code == 413


async def test_sapa_staff_add_creates_a_console_login(console: Console, tmp_path: Path) -> None:
    sapa = Path(sys.executable).with_name("sapa")
    env = {
        "PATH": str(sapa.parent),
        "SAPA_DATABASE_URL": console.settings.database_url,
        "SAPA_KEY_FILE": str(console.settings.key_file),
        "SAPA_PARTNERS_FILE": str(console.settings.partners_file),
    }
    argv = [str(sapa), "staff", "add", "--username", "demo", "--role", "counsellor"]
    argv += ["--queue", "psikologi", "--name", "Demo Konselor", "--password-stdin"]
    made = await asyncio.to_thread(
        subprocess.run, argv, input=PASSWORD + "\n", env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    again = await asyncio.to_thread(
        subprocess.run, argv, input=PASSWORD + "\n", env=env, capture_output=True, text=True
    )
    assert again.returncode == 1 and "taken" in again.stderr
    code = await console.open_case("asn-7", "Halo")
    async with console.browser() as web:
        await sign_in(web, "demo")
        page = await web.get("/staff")
    assert "Demo Konselor" in page.text and code in page.text


async def test_crisis_comes_first_and_a_supervisor_sees_the_partner(console: Console) -> None:
    await console.member("sari", Role.SUPERVISOR, "psikologi", name="Sari")
    calm = await console.open_case("asn-8", "Saya sedang banyak pikiran")
    food = await console.open_case("asn-9", "Diet saya berlebihan", "gizi")
    crisis = await console.open_case("asn-10", "Saya ingin bunuh diri saja")
    async with console.browser() as web:
        csrf = await sign_in(web, "sari")
        queue = (await web.get("/staff")).text
        assert crisis in queue and calm in queue and food not in queue
        assert queue.index(crisis) < queue.index(calm)
        assert 'class="crisis"' in queue and "KRISIS" in queue
        audits = await console.count(audit_events)
        read = await web.get(f"/staff/cases/{calm}", params={"purpose": "supervision"})
        assert read.status_code == 200 and "banyak pikiran" in read.text
        assert await console.count(audit_events) == audits + 1
        assert "Kirim balasan" not in read.text  # not hers: she reads, the assignee replies
        refused = await web.post(f"/staff/cases/{calm}/reply", data={"csrf": csrf, "text": "x"})
        assert refused.status_code == 403
        hidden = await web.get(f"/staff/cases/{food}", params={"purpose": "supervision"})
        assert hidden.status_code == 403 and "Diet" not in hidden.text


async def test_the_cookie_is_secure_behind_an_https_public_url(console: Console) -> None:
    await console.member("dewi", Role.COUNSELLOR, "psikologi")
    console.app.state.staff_console.settings = console.settings.model_copy(
        update={"public_url": "https://sapa.example"}
    )
    async with console.browser() as web:
        ok = await web.post("/staff/login", data={"username": "dewi", "password": PASSWORD})
        cookie = ok.headers["set-cookie"]
        assert "secure" in cookie.lower()
        # The TLS proxy would carry it; plain-http httpx keeps a Secure cookie to itself.
        web.cookies.set("sapa_staff", cookie.split(";")[0].split("=", 1)[1])
        csrf = csrf_of((await web.get("/staff")).text)
        proxied = await web.post(
            "/staff/duty",
            data={"csrf": csrf, "on_duty": "True"},
            headers={"Origin": "https://sapa.example"},
        )
        assert proxied.status_code == 303
        across = await web.post(
            "/staff/duty",
            data={"csrf": csrf, "on_duty": "False"},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert across.status_code == 403
