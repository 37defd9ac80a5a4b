"""A one-line progress bar on stderr for long scans; silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TextIO

WIDTH = 30


class Progress:
    """``with Progress(total, "reading") as bar: bar.advance()``. Thread-safe; redraws at most
    every ``interval`` seconds and once at the end, then clears its line."""

    def __init__(
        self,
        total: int,
        label: str = "",
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self.total = max(total, 0)
        self.label = label
        self.done = 0
        self._interval = interval
        self._last_draw = 0.0
        self._lock = threading.Lock()

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self.done = min(self.done + count, self.total) if self.total else self.done + count
            self._draw()

    def update(self, done: int, total: int | None = None, label: str | None = None) -> None:
        """Jump to ``done`` (of ``total``, 0 when unknown), optionally renaming the phase."""
        with self._lock:
            if label is not None and label != self.label:
                self.label = label
                self._last_draw = 0.0
                if self.enabled:
                    self.stream.write("\r\x1b[2K")
            if total is not None:
                self.total = max(total, 0)
            self.done = done
            self._draw()

    def line(self) -> str:
        if not self.total:
            return f"{self.label} {self.done}"
        filled = WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (WIDTH - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total}"

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self._interval and self.done < self.total:
            return
        self._last_draw = now
        self.stream.write("\r" + self.line())
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
