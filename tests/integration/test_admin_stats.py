"""The admin dashboard over HTTP on SQLite and PostgreSQL: who sees what, and never content."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.tables import audit_events, clients
from tests.integration.admin_world import CANARY, PASSWORD, World, sign_in, world

PERIODS = ("this_month", "last_3_months", "last_12_months", "year_2026")
STATS_URLS = ("/admin", "/admin/print", "/admin/export.csv", "/api/stats/summary")


@pytest.fixture
async def served(tmp_path: Path, db_url: str) -> AsyncIterator[World]:
    async with world(tmp_path, db_url) as found:
        yield found


async def pseudonyms(w: World) -> list[str]:
    async with w.rt.svc.sessions() as session:
        return list(await session.scalars(select(clients.c.pseudonym)))


async def test_an_admin_sees_every_partner_and_never_a_case(served: World) -> None:
    async with served.client() as http:
        assert (await sign_in(http, "admin")).status_code == 303
        summary = (await http.get("/api/stats/summary", params={"period": "this_month"})).json()
        shown = [(await http.get(url, params={"period": p})) for url in STATS_URLS for p in PERIODS]
    assert summary["scope"] is None
    assert summary["open_by_queue"]["counts"] == {
        "gizi": 5,
        "hukum": "<5",
        "psikologi": "<5",
        "umum": 0,
    }
    month = summary["cases_by_month_category"]["rows"][0]["counts"]
    assert month["kesehatan_jiwa"] == 8 and month["keluarga"] == "<5" and month["hukum"] == "<5"
    assert summary["ratings"]["counts"]["5"] == 6 and summary["gender"]["counts"]["perempuan"] == 6
    assert summary["response_times"]["first_response"]["target_minutes"] == 240.0
    secrets = [CANARY, *served.codes, *await pseudonyms(served), "asn-1"]
    for response in shown:
        assert response.status_code == 200, response.url
        assert not [s for s in secrets if s in response.text], response.url
    assert "&lt;5" in shown[0].text and "<5" in shown[8].text  # the page and the CSV


async def test_a_supervisor_sees_only_the_own_partner(served: World) -> None:
    async with served.client() as http:
        await sign_in(http, "sari")
        summary = (await http.get("/api/stats/summary", params={"period": "this_month"})).json()
        page = await http.get("/admin", params={"period": "this_month"})
        exported = await http.get("/admin/export.csv", params={"period": "this_month"})
    assert summary["scope"] == "psikologi"
    assert summary["open_by_queue"]["counts"] == {"psikologi": "<5"}
    assert set(summary["cases_by_queue"]["counts"]) == {"psikologi", "none"}
    month = summary["cases_by_month_category"]["rows"][0]
    assert month["counts"]["gizi"] == 0 and month["counts"]["hukum"] == 0
    # The 6 rated cases are all psikologi's; of the 10 unrated (admin view) only 4 are.
    assert summary["ratings"]["counts"] == {
        "1": 0,
        "2": 0,
        "3": 0,
        "4": 0,
        "5": 6,
        "not_given": "<5",
    }
    assert page.status_code == 200 and "antrean: psikologi" in page.text
    assert "gizi," not in exported.text.split("# open_by_queue")[1]


async def test_a_counsellor_and_a_stranger_are_refused(served: World) -> None:
    async with served.client() as http:
        stranger = [await http.get(url) for url in STATS_URLS]
        wrong = await http.post("/admin/login", data={"username": "admin", "password": "salah"})
        assert wrong.status_code == 401 and "kata sandi salah" in wrong.text
        assert 'value="admin"' in wrong.text  # the username typed is kept
        await sign_in(http, "rina")
        counsellor = [await http.get(url) for url in (*STATS_URLS, "/api/stats/periods")]
    assert [r.status_code for r in stranger] == [303, 303, 303, 401]
    assert stranger[3].json() == {"detail": "Silakan masuk terlebih dahulu."}
    assert [r.status_code for r in counsellor] == [403] * 5
    assert "hanya untuk admin BKPSDM dan supervisor" in counsellor[0].text
    assert "hanya untuk admin BKPSDM" in counsellor[3].json()["detail"]
    assert not [r for r in stranger + counsellor if CANARY in r.text or "data-count" in r.text]


async def count_audits(w: World) -> int:
    async with w.rt.svc.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(audit_events)) or 0)


async def test_an_admin_opens_no_transcript_url(served: World) -> None:
    code, before = served.codes[0], await count_audits(served)
    async with served.client() as http:
        await sign_in(http, "admin")  # the one staff session: an admin reads no case
        dashboard_only = await http.get(f"/staff/cases/{code}", params={"purpose": "audit"})
        login = await http.post("/staff/login", data={"username": "admin", "password": PASSWORD})
        assert login.status_code == 303
        page = await http.get("/staff/login", follow_redirects=True)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        reads = [
            await http.get(path, params={"purpose": "audit"})
            for path in ("/staff", "/staff/queue/rows", f"/staff/cases/{code}")
        ]
        writes = [
            await http.post(
                f"/staff/cases/{code}/{action}",
                data={"csrf": csrf.group(1), "text": "x", "queue": "umum", "reason": "x"},
            )
            for action in ("claim", "reply", "note", "transfer", "resolve")
        ]
    assert dashboard_only.status_code == 403
    assert [r.status_code for r in reads + writes] == [403] * 8
    assert not [r for r in [dashboard_only, *reads, *writes] if CANARY in r.text]
    assert await count_audits(served) == before  # nothing was read


async def test_strict_headers_fixed_periods_and_sign_out(served: World) -> None:
    async with served.client() as http:
        await sign_in(http, "admin")
        page = await http.get("/admin", params={"period": "2026-01-01..2026-01-02"})
        bogus = await http.get("/api/stats/summary", params={"period": "2026-01"})
        css = await http.get("/admin/static/admin.css")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        out = await http.post("/admin/logout", data={"csrf": csrf.group(1)})
        after = await http.get("/api/stats/summary")
    assert page.status_code == 200 and 'value="last_12_months" selected' in page.text
    assert bogus.status_code == 422
    for response in (page, bogus, css):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
    assert (
        "<script" not in page.text
        and "style=" not in page.text
        and not re.search(r"(src|href)=\"(https?:)?//", page.text)
    )
    assert out.status_code == 303 and after.status_code == 401


async def test_the_selector_offers_fixed_periods_only(served: World) -> None:
    async with served.client() as http:
        await sign_in(http, "admin")
        page = (await http.get("/admin")).text
        periods = (await http.get("/api/stats/periods")).json()["periods"]
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options == periods and options[:3] == ["this_month", "last_3_months", "last_12_months"]
    assert all(re.fullmatch(r"year_20\d\d", o) for o in options[3:])
    assert 'type="date"' not in page and 'name="from"' not in page
