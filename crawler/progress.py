"""Progress of long work: a bar on a terminal, plain lines otherwise (logs, cron mail, pipes).

    with Progress("reindex", total=len(ids)) as bar:
        for item in items:
            ...
            bar.advance()

On a terminal the bar is redrawn in place at most ten times a second. Elsewhere a line such as
``reindex: 1200/5000 (24%)`` is written every ``every_seconds`` (and at the end), so a log stays short.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 28


class Progress:
    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO | None = None,
        *,
        every_seconds: float = 5.0,
        tty: bool | None = None,
    ):
        self.label = label
        self.total = max(int(total), 0)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _isatty(self.stream) if tty is None else tty
        self.every = every_seconds
        self.done = 0
        self.started = time.monotonic()
        self._last_draw = self.started

    def __enter__(self) -> Progress:
        if not self.tty:
            self._line(f"{self.label}: 0/{self.total}")
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        interval = 0.1 if self.tty else self.every
        if now - self._last_draw >= interval:
            self._draw(now)

    def finish(self) -> None:
        if self.total == 0 and self.done == 0 and not self.tty:
            return
        self._draw(time.monotonic(), final=True)

    def _draw(self, now: float, final: bool = False) -> None:
        self._last_draw = now
        rate = self.done / max(now - self.started, 1e-6)
        if self.tty:
            self.stream.write("\r" + self.render_bar(rate) + ("\n" if final else ""))
            self.stream.flush()
        else:
            self._line(
                f"{self.label}: {self.done}/{self.total} ({self.percent()}%)"
                + (f" done in {now - self.started:.1f} s" if final else "")
            )

    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, int(100 * self.done / self.total))

    def render_bar(self, rate: float) -> str:
        filled = BAR_WIDTH * self.percent() // 100
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        return f"{self.label} {bar} {self.done}/{self.total} {self.percent():3d}% {rate:.1f}/s"

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
