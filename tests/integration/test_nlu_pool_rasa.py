"""Two real Rasa servers and a dead URL behind the round-robin classifier; one killed, restarted."""

from __future__ import annotations

import asyncio
import secrets
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from core.triage import Category
from nlu.pool import RoundRobinClassifier
from nlu.server import free_port, local_server, models_dir

pytestmark = pytest.mark.rasa
ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    ("istri saya minta cerai dan membawa anak-anak ke rumah orang tuanya", Category.KELUARGA),
    ("saya makan cuma sekali sehari biar langsing dan sekarang sering pusing", Category.GIZI),
]


def trained_model() -> Path:
    """The model `make nlu-train` made (never trained here: it is shared read-only)."""
    models = sorted(models_dir(ROOT / "var").glob("nlu-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained NLU model under var/nlu/models: run `make nlu-train`")
    return models[-1]


async def classify_all(pool: RoundRobinClassifier, rounds: int) -> list[Category]:
    return [(await pool.classify(text)).category for _ in range(rounds) for text, _ in TEXTS]


async def test_round_robin_survives_a_dead_url_and_a_killed_server(tmp_path: Path) -> None:
    model, token = trained_model(), secrets.token_hex(16)
    ports = [free_port(), free_port()]

    def server(port: int):  # type: ignore[no-untyped-def]
        log = tmp_path / f"rasa-{port}.log"
        return local_server(model, port=port, log_file=log, token=token, ready_timeout=900)

    expected = [category for _, category in TEXTS]
    async with AsyncExitStack() as stack:
        first, second = await asyncio.gather(*(stack.enter_async_context(server(p)) for p in ports))
        dead = f"http://127.0.0.1:{free_port()}"
        pool = RoundRobinClassifier(
            [first[0], dead, second[0]], token=token, timeout=10, recheck_seconds=1
        )
        stack.push_async_callback(pool.aclose)
        assert await classify_all(pool, 3) == expected * 3
        served = [m.served for m in pool.members]
        assert served[0] > 0 and served[2] > 0 and served[1] == 0, served
        assert dead not in pool.healthy()

        first[2].kill()
        await first[2].wait()
        assert await classify_all(pool, 2) == expected * 2, "no request lost to the killed server"
        assert first[0] not in pool.healthy()

        async with server(ports[0]):
            await asyncio.sleep(1.1)  # its re-check is due
            before = pool.members[0].served
            assert await classify_all(pool, 2) == expected * 2
            assert pool.members[0].served > before, "the restarted server is used again"
