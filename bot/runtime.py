"""What the channel handlers are handed: use-case dependencies and a way to reply."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.outbox_worker import OutboxWorker
from bot.wiring import Services
from core import catalogue
from core.model import Button
from core.policy import ServicePolicy
from core.triage import Classifier, CrisisScreener
from storage.outbox import OutboxStore
from storage.uow import SqlUnitOfWork


@dataclass
class Runtime:
    svc: Services
    screener: CrisisScreener
    classifier: Classifier
    outbox: OutboxStore
    workers: list[OutboxWorker] = field(default_factory=list)

    def uow(self) -> SqlUnitOfWork:
        return self.svc.uow()

    @property
    def clock(self) -> Any:
        return self.svc.clock

    @property
    def policy(self) -> ServicePolicy:
        return self.svc.policy

    def kick(self) -> None:
        for worker in self.workers:
            worker.kick()

    async def reply(
        self,
        *,
        channel: str,
        address: str,
        text: str,
        buttons: Sequence[Button] = (),
        document: tuple[str, bytes] | None = None,
        urgent: bool = False,
    ) -> None:
        """A reply through the outbox (rate limits, retries), sealed, its key shredded once sent.

        An urgent one (the emergency contacts) goes before anything else waiting for the chat."""
        payload: dict[str, Any] = {
            "text": text,
            "buttons": [[b.label, b.data] for b in buttons],
            "urgent": urgent,
        }
        if document is not None:
            name, content = document
            payload["text"] = ""  # the text goes as the file's caption
            payload["document"] = {
                "filename": name,
                "content_b64": base64.b64encode(content).decode("ascii"),
                "caption": text,
            }
        await self.outbox.enqueue_direct(
            channel=channel, address=address, payload=payload, urgent=urgent
        )
        self.kick()

    async def privacy_notice(self, lang: str, *, key: str = "client.privacy") -> str:
        """The welcome and the privacy notice, promising the retention the admin set."""
        from bot.setup_overrides import retention_days

        version, days = self.svc.settings.consent_version, await retention_days(self.svc)
        return "\n\n".join(
            [
                catalogue.text("client.welcome", lang),
                catalogue.text(key, lang, version=version, days=days),
            ]
        )

    def consent_buttons(self, lang: str) -> tuple[Button, ...]:
        """Agree or refuse; the language rides along, as nothing is stored before consent."""
        return (
            Button(catalogue.text("client.button_agree", lang), f"consent:yes:{lang}"),
            Button(catalogue.text("client.button_refuse", lang), f"consent:no:{lang}"),
        )
