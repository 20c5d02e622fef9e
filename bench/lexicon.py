"""Crisis-lexicon speed: CPU ms per screen of a 4000-character message. Prints one JSON line.

Reference in the same run: str.lower() + `in` on the same text (the cheapest possible screen).
"""

from __future__ import annotations

import json
import time

from nlu.lexicon import CrisisLexicon

STORY = (
    "Selamat malam, saya ASN di salah satu dinas dan sudah bekerja dua belas tahun. "
    "Pekerjaan menumpuk, istri sering mengeluh, hp saya mati, mati lampu pukul 10 malam. "
)


def cpu_ms(fn, text: str, calls: int = 200) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(calls):
            fn(text)
        best = min(best, (time.process_time() - start) / calls * 1000)
    return best


def main() -> None:
    text = (STORY * 40)[:4000]
    lexicon = CrisisLexicon()
    ours = cpu_ms(lexicon.screen, text)
    reference = cpu_ms(lambda t: "bunuh diri" in t.lower(), text)
    print(
        json.dumps(
            {
                "bench": "lexicon",
                "chars": len(text),
                "screen_ms": round(ours, 4),
                "reference_ms": round(reference, 4),
                "ratio": round(ours / reference, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
