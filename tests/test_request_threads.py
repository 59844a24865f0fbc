"""A serving process works on ``MEL_REQUEST_THREADS`` requests at once, each with a pooled connection."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
from anyio import to_thread

from mel.core.db import make_engine
from mel.core.settings import Settings
from mel.web.app import limit_request_threads


def test_the_thread_pool_takes_the_setting(tmp_path: Path) -> None:
    async def tokens() -> tuple[float, float]:
        before = to_thread.current_default_thread_limiter().total_tokens
        limit_request_threads(Settings(database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}", request_threads=3))
        return before, to_thread.current_default_thread_limiter().total_tokens

    found: list[tuple[float, float]] = []
    # a thread of its own: a browser test in this worker may keep an event loop in the main thread
    runner = threading.Thread(target=lambda: found.append(anyio.run(tokens)))
    runner.start()
    runner.join()
    ((before, after),) = found
    assert before == 40  # anyio's default, which the setting replaces
    assert after == 3


def test_the_pool_keeps_a_connection_per_request_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    engine = make_engine(url, connections=12)
    try:
        held = [engine.connect() for _ in range(12)]
        for conn in held:
            conn.close()
        assert engine.pool.checkedin() == 12  # all kept open, none closed as overflow
    finally:
        engine.dispose()
    default = make_engine(url)
    try:
        held = [default.connect() for _ in range(12)]
        for conn in held:
            conn.close()
        assert default.pool.checkedin() == 5  # without the setting, seven of them were overflow and closed
    finally:
        default.dispose()
