"""NLU benchmark: parse latency and throughput through the client against the real Rasa server.

Prints one JSON line. Uses SAPA_NLU_URL/SAPA_NLU_TOKEN when set (RSS then only if
SAPA_NLU_PID is given), else starts a local server from the trained model.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.settings import Settings
from nlu.client import CircuitBreaker, RasaClassifier
from nlu.server import free_port, local_server, train

SENTENCES = (
    "suami saya jarang pulang dan kami sering ribut soal uang",
    "aku dikejar penagih pinjol, iso dilaporke polisi ora",
    "sudah dua minggu cuma makan buah, tadi pagi hampir pingsan",
    "tiap malam tidak bisa tidur, pikiran kacau karena kerjaan",
    "cara reset password akun kepegawaian",
    "selamat pagi",
    "kula badhe konsultasi bab garwa kula",
    "my boss keeps shouting at me and i feel anxious all the time",
)
SEQUENTIAL = 200
CONCURRENT = 400
CALLERS = 16


async def sequential(classifier: RasaClassifier, n: int) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        await classifier.classify(SENTENCES[i % len(SENTENCES)])
        latencies.append(time.perf_counter() - t0)
    return summary(latencies, time.perf_counter() - started)


async def concurrent(classifier: RasaClassifier, n: int, callers: int) -> dict[str, float]:
    latencies: list[float] = []
    queue = iter(range(n))

    async def caller() -> None:
        for i in queue:
            t0 = time.perf_counter()
            await classifier.classify(SENTENCES[i % len(SENTENCES)])
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return summary(latencies, time.perf_counter() - started)


def summary(latencies: Sequence[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "throughput_per_s": round(len(ordered) / elapsed, 1),
    }


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


async def measure(url: str, token: str | None, pid: int | None) -> dict[str, object]:
    classifier = RasaClassifier(
        url, token=token, timeout=30.0, breaker=CircuitBreaker(threshold=1000)
    )
    try:
        await sequential(classifier, 10)  # warm-up
        seq = await sequential(classifier, SEQUENTIAL)
        conc = await concurrent(classifier, CONCURRENT, CALLERS)
    finally:
        await classifier.aclose()
    return {"sequential": seq, f"concurrent_{CALLERS}": conc, "server_rss_mb": rss_mb(pid)}


async def main() -> None:
    settings = Settings()
    if settings.nlu_url:
        token = settings.nlu_token.get_secret_value() if settings.nlu_token else None
        pid = int(os.environ["SAPA_NLU_PID"]) if os.environ.get("SAPA_NLU_PID") else None
        result = await measure(settings.nlu_url, token, pid)
    else:
        model = train(progress=lambda line: print(line, file=sys.stderr), var_dir=settings.var_dir)
        log_file = settings.var_dir / "nlu" / "bench-rasa.log"
        async with local_server(model, port=free_port(), log_file=log_file) as (url, token, proc):
            result = await measure(url, token, proc.pid)
    print(json.dumps({"bench": "nlu", **result}))


if __name__ == "__main__":
    asyncio.run(main())
