"""The JSON behind the admin dashboard, documented in the app's OpenAPI schema.

Authentication is the dashboard's session cookie; 401 without a session, 403 for a
counsellor. The period is an enum: there are no free dates to subtract views with.
A suppressed count is the string "<k" (e.g. "<5"); every other count is an integer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from core import catalogue
from core.dashboard import Period, offered, to_document
from handlers.admin_access import Viewer, load_dashboard, viewer
from handlers.staff_console_web import Stop

Count = int | str
COUNT_NOTE = 'A count, or the suppression marker "<k" (e.g. "<5").'


class Problem(BaseModel):
    detail: str


class CountTable(BaseModel):
    counts: dict[str, Count] = Field(description=COUNT_NOTE)
    total: Count


class MonthRow(BaseModel):
    month: str = Field(description="YYYY-MM")
    counts: dict[str, Count]
    total: Count


class CasesTable(BaseModel):
    columns: list[str]
    rows: list[MonthRow]
    column_totals: dict[str, Count]
    total: Count


class Duration(BaseModel):
    median_minutes: float | str = Field(description='Minutes, or "<k" when too few cases')
    p90_minutes: float | str
    target_minutes: float


class ResponseTimes(BaseModel):
    first_response: Duration
    resolution: Duration


class Summary(BaseModel):
    period: Period
    scope: str | None = Field(description="A supervisor's queues; null for all partners")
    k: int
    suppressed_marker: str
    months: list[str]
    cases_by_month_category: CasesTable
    crisis_by_month: CountTable
    open_by_queue: CountTable
    cases_by_queue: CountTable
    ratings: CountTable
    gender: CountTable
    age_band: CountTable
    employment: CountTable
    response_times: ResponseTimes


class PeriodList(BaseModel):
    periods: list[Period]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "Neither an admin nor a supervisor"},
}
router = APIRouter(prefix="/api/stats", tags=["statistics"], responses=ERRORS)


def _problem(key: str, status: int) -> Stop:
    return Stop(JSONResponse({"detail": catalogue.text(key, "id")}, status_code=status))


async def _allowed(request: Request) -> Viewer:
    who = await viewer(request)
    if who is None:
        raise _problem("console.stats_sign_in_first", 401)
    if not who.allowed:
        raise _problem("console.stats_forbidden", 403)
    return who


@router.get("/summary", response_model=Summary)
async def summary(request: Request, period: Period = Period.LAST_12_MONTHS) -> dict[str, Any]:
    """Every suppressed statistic of one fixed period (a supervisor: own partner only)."""
    return to_document(await load_dashboard(await _allowed(request), period))


@router.get("/periods", response_model=PeriodList)
async def periods(request: Request) -> PeriodList:
    """The periods a view may be asked for."""
    who = await _allowed(request)
    return PeriodList(periods=list(offered(who.rt.clock.now().date())))
