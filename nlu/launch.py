"""Rasa's own command line (`rasa run --enable-api ...`), started in a leaner process.

nlu/server.py runs this file with the Rasa venv's Python instead of the `rasa` script, with the
same arguments; Rasa runs exactly as it would. Two things differ, both about memory (the whole
stack, app and one Rasa, is to fit in 1.2 GB):

- JAX is not imported. TensorFlow 2.12 requires the package, but only its TFLite converter
  uses it, behind `try: from jax import ... except ImportError`; Rasa never converts to TFLite.
  Saves about 60 MB (and a second of start-up).
- glibc's malloc keeps the memory Rasa frees after loading the model (Rasa runs one training
  step to build the model's weights before it loads them) as free heap, never returned.
  `malloc_trim(0)` returns it to the system: every TRIM_EVERY_SECONDS, a few milliseconds
  each time. Saves about 160 MB.

Runs on the Rasa venv's Python 3.10: the standard library only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
import time
from collections.abc import Callable

TRIM_EVERY_SECONDS = 10.0


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def _trim_forever(trim: Callable[[int], int], every: float) -> None:
    while True:
        time.sleep(every)
        trim(0)


def main() -> None:
    sys.modules["jax"] = None  # type: ignore[assignment]  # ImportError for TFLite's optional use
    trim = _malloc_trim()
    if trim is not None:
        threading.Thread(
            target=_trim_forever, args=(trim, TRIM_EVERY_SECONDS), name="malloc-trim", daemon=True
        ).start()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
