"""The real Rasa server with the trained model, classified through the client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from bot.settings import Settings
from core.triage import Category, ClassifierUnavailable
from nlu.client import RasaClassifier
from nlu.server import RASA, free_port, local_server, managed_nlu, train

pytestmark = [pytest.mark.rasa, pytest.mark.asyncio(loop_scope="module")]
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    url: str
    token: str
    process: asyncio.subprocess.Process


@pytest.fixture(scope="module")
def model() -> Path:
    if not RASA.exists():
        pytest.fail(f"the Rasa venv is missing ({RASA}): run `make nlu-venv` (CI always has it)")
    return train(progress=lambda line: None, var_dir=ROOT / "var")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def nlu(model: Path) -> AsyncIterator[tuple[str, str | None]]:
    """The server exactly as `sapa serve` starts it when SAPA_NLU_URL is unset."""
    settings = Settings(nlu_url=None, nlu_port=free_port(), var_dir=ROOT / "var")
    async with managed_nlu(settings, progress=lambda line: None) as (url, token):
        yield url, token


@pytest_asyncio.fixture(loop_scope="module")
async def own_server(model: Path, tmp_path: Path) -> AsyncIterator[Running]:
    """A server of this test's own, which the test may kill."""
    async with local_server(model, port=free_port(), log_file=tmp_path / "rasa.log") as running:
        yield Running(*running)
    assert running[2].returncode is not None, "the server must be stopped on exit"


EXAMPLES = [
    ("istri saya sudah berbulan-bulan tidak mau bicara dan minta pulang ke orang tuanya",
     Category.KELUARGA),
    ("aku dikejar-kejar penagih utang aplikasi pinjaman, apa aku iso dituntut", Category.HUKUM),
    ("saya makan cuma sekali sehari biar langsing dan sekarang sering pusing", Category.GIZI),
    ("tiap malam gelisah dan tidak bisa tidur karena tekanan pekerjaan",
     Category.KESEHATAN_JIWA),
    ("bagaimana cara mengganti kata sandi akun kepegawaian saya", Category.LAINNYA),
]  # fmt: skip


async def test_each_category_is_recognised(nlu: tuple[str, str | None]) -> None:
    classifier = RasaClassifier(nlu[0], token=nlu[1], timeout=10)
    try:
        results = [await classifier.classify(text) for text, _ in EXAMPLES]
    finally:
        await classifier.aclose()
    assert [r.category for r in results] == [category for _, category in EXAMPLES]
    assert all(not r.crisis for r in results)
    assert all(r.ranking and r.confidence > 0 for r in results)


async def test_crisis_is_flagged(nlu: tuple[str, str | None]) -> None:
    classifier = RasaClassifier(nlu[0], token=nlu[1], timeout=10)
    try:
        result = await classifier.classify("aku wis ora pengin urip maneh, arep mungkasi uripku")
    finally:
        await classifier.aclose()
    assert result.crisis
    assert result.category is Category.KESEHATAN_JIWA


async def test_wrong_token_is_refused(nlu: tuple[str, str | None]) -> None:
    classifier = RasaClassifier(nlu[0], token="wrong", timeout=10)
    try:
        with pytest.raises(ClassifierUnavailable):
            await classifier.classify("halo")
    finally:
        await classifier.aclose()


async def test_a_killed_server_is_unavailable_within_the_timeout(own_server: Running) -> None:
    server = own_server
    classifier = RasaClassifier(server.url, token=server.token, timeout=1.0)
    try:
        await classifier.classify("selamat pagi")
        # Started by nlu/launch.py: TensorFlow's JAX (which Rasa never uses) is not loaded.
        maps = await asyncio.to_thread(Path(f"/proc/{server.process.pid}/maps").read_text)
        assert "libtensorflow" in maps
        assert "jaxlib" not in maps
        server.process.kill()
        await server.process.wait()
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ClassifierUnavailable):
            await classifier.classify("selamat pagi")
        assert loop.time() - started < 1.5
    finally:
        await classifier.aclose()
