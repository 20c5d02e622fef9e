"""Service policy: emergency contacts, service hours and the honest expected wait."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from core import catalogue

WIB = timezone(timedelta(hours=7), "WIB")

DEFAULT_EMERGENCY_CONTACTS: tuple[str, ...] = (
    "119 ext 8 (SEJIWA, layanan kesehatan jiwa)",
    "112 (darurat)",
    "129 / WhatsApp 08111-129-129 (SAPA KemenPPPA, kekerasan terhadap perempuan dan anak)",
    "IGD RSUD Dr. Tjitrowardoyo, Purworejo",
    "IGD RSUD R.A.A. Tjokronegoro, Purworejo",
)


@dataclass(frozen=True)
class ServicePolicy:
    emergency_contacts: tuple[str, ...] = DEFAULT_EMERGENCY_CONTACTS
    open_days: frozenset[int] = frozenset(range(5))  # Monday..Friday
    opens: time = time(8, 0)
    closes: time = time(16, 0)
    minutes_per_case_ahead: int = 30
    holidays: frozenset[str] = field(default_factory=frozenset)  # "YYYY-MM-DD"

    def hours_text(self, locale: str = catalogue.DEFAULT_LOCALE) -> str:
        return catalogue.text(
            "service.hours", locale, opens=f"{self.opens:%H.%M}", closes=f"{self.closes:%H.%M}"
        )

    def contacts_text(self, locale: str = catalogue.DEFAULT_LOCALE) -> str:
        """The emergency contacts as a list. The defaults are said in the ASN's language; a
        list the admin wrote (/admin/setup) is given as written."""
        if self.emergency_contacts == DEFAULT_EMERGENCY_CONTACTS:
            return catalogue.text("crisis.default_contacts", locale)
        return "\n".join(f"- {line}" for line in self.emergency_contacts)

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(WIB)
        if local.weekday() not in self.open_days or f"{local:%Y-%m-%d}" in self.holidays:
            return False
        return self.opens <= local.time() < self.closes

    def expected_wait(self, *, position: int, at: datetime, locale: str) -> str:
        """An honest estimate: ahead-of-you times a typical handling time, within hours."""
        if position < 1:
            return catalogue.text("wait.unknown", locale)
        minutes = position * self.minutes_per_case_ahead
        if not self.is_open(at) or not self.is_open(at + timedelta(minutes=minutes)):
            return catalogue.text("wait.next_day", locale)
        if minutes < 90:
            return catalogue.text("wait.minutes", locale, minutes=minutes)
        return catalogue.text("wait.hours", locale, hours=math.ceil(minutes / 60))

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Minutes of service hours between two moments (the SLA clock stops after hours)."""
        total, day = 0.0, start.astimezone(WIB).date()
        last = end.astimezone(WIB).date()
        while day <= last:
            opens = datetime.combine(day, self.opens, WIB)
            closes = datetime.combine(day, self.closes, WIB)
            if day.weekday() in self.open_days and f"{day:%Y-%m-%d}" not in self.holidays:
                span = min(closes, end) - max(opens, start)
                total += max(span.total_seconds(), 0.0) / 60
            day += timedelta(days=1)
        return total
