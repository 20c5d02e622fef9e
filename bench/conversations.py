"""What the simulated ASN say: realistic intake conversations, as Telegram updates.

Every ASN sends /start, agrees to the privacy notice, tells a concern (varied Indonesian,
Javanese and some English; one in twelve is a crisis), confirms the category, answers the
three optional questions and writes three follow-ups. The same messages go to the app and
to both references.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

CONCERNS: tuple[tuple[str, str], ...] = (
    ("suami saya jarang pulang dan kami sering ribut soal uang", "keluarga"),
    ("saya dan istri sedang proses cerai, anak-anak jadi sering murung", "keluarga"),
    ("mertua selalu ikut campur urusan rumah tangga kami, saya capek", "keluarga"),
    ("aku dikejar penagih pinjol, iso dilaporke polisi ora", "hukum"),
    ("bagaimana prosedur hukum kalau saya digugat cerai oleh suami", "hukum"),
    ("saya dapat surat panggilan sidang disiplin, apa hak saya", "hukum"),
    ("sudah dua minggu cuma makan buah, tadi pagi hampir pingsan", "gizi"),
    ("saya diet ketat sekali sehari makan, sering pusing waktu apel pagi", "gizi"),
    ("berat badan turun 8 kg sebulan karena cuma minum jus", "gizi"),
    ("tiap malam tidak bisa tidur, pikiran kacau karena kerjaan", "kesehatan_jiwa"),
    ("akhir-akhir ini saya cemas terus dan sering menangis di kantor", "kesehatan_jiwa"),
    ("kula sampun sasi niki boten saged tilem, manah kula susah", "kesehatan_jiwa"),
    ("my boss keeps shouting at me and i feel anxious all the time", "kesehatan_jiwa"),
    ("rasanya lelah sekali, tidak semangat kerja dan malas ketemu orang", "kesehatan_jiwa"),
    ("bojoku seneng muni-muni, aku wis ora kuat omah-omahan", "keluarga"),
    ("saya sudah tidak kuat, rasanya ingin mengakhiri hidup saja", "kesehatan_jiwa"),
)
CRISIS_INDEX = 15  # one of the sixteen concerns above
FOLLOW_UPS = (
    "terima kasih, saya tunggu kabarnya",
    "kira-kira kapan saya bisa bicara dengan konselor?",
    "saya bisa dihubungi sore hari setelah jam kantor",
)
ANSWERS = ("q:gender:perempuan", "q:age:30-39", "q:employment:PNS")
ASN_BASE = 910_000_000
COUNSELLOR_BASE = 920_000_000


@dataclass(frozen=True)
class Step:
    """One update an ASN sends; `expects` is a button prefix its reply carries (None: any).

    Follow-ups are not `answered`: once a counsellor has claimed the case they go to the
    counsellor, not back to the ASN, so there is no reply of theirs to time.
    """

    kind: str  # "message" or "callback"
    value: str  # the text, or the callback data
    expects: str | None
    answered: bool = True


def concern_for(index: int) -> tuple[str, str]:
    """Twelve in a row are ordinary, every twelfth ASN is in crisis."""
    if index % 12 == 11:
        return CONCERNS[CRISIS_INDEX]
    return CONCERNS[index % CRISIS_INDEX]


def script(index: int) -> list[Step]:
    """The ten updates of ASN number `index`."""
    text, category = concern_for(index)
    steps = [
        Step("message", "/start", "consent:"),
        Step("callback", "consent:yes:id", None),
        Step("message", text, "cat:"),
        Step("callback", f"cat:{category}", "q:gender:"),
        Step("callback", ANSWERS[0], "q:age:"),
        Step("callback", ANSWERS[1], "q:employment:"),
        Step("callback", ANSWERS[2], None),
    ]
    steps += [Step("message", follow_up, None, answered=False) for follow_up in FOLLOW_UPS]
    return steps


def texts(clients: int) -> list[str]:
    """Every text message of a run, in order (what the stock Rasa assistant is sent)."""
    return [s.value for i in range(clients) for s in script(i) if s.kind == "message"]


class Updates:
    """Builds Telegram updates as the Bot API would post them to a webhook."""

    def __init__(self, bot_id: int, first: int = 1) -> None:
        self._update_ids = itertools.count(first)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._bot = {"id": bot_id, "is_bot": True, "first_name": "Sapa", "username": "sapa_bot"}

    def of(self, user_id: int, step: Step) -> dict[str, Any]:
        if step.kind == "message":
            return self.message(user_id, step.value)
        return self.callback(user_id, step.value)

    def message(self, user_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "ASN"},
            "from": _user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def callback(self, user_id: int, data: str) -> dict[str, Any]:
        shown = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "ASN"},
            "from": self._bot,
            "text": "...",
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": _user(user_id),
            "chat_instance": f"ci{user_id}",
            "data": data,
            "message": shown,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "ASN", "language_code": "id"}
