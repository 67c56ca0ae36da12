"""Progress of long translation runs: a bar on a terminal, plain lines otherwise (logs, cron, CI)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str = "translate", stream: TextIO | None = None, interval: float = 5.0):
        self.label, self.stream = label, stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval = 0.2 if self.tty else interval
        self.total = self.done = 0
        self.started = time.monotonic()
        self.last = self.started

    def add_total(self, n: int) -> None:
        self.total += n

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.interval:
            self.last = now
            self._show()

    def _show(self) -> None:
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        if self.tty:
            filled = int(30 * self.done / max(self.total, 1))
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                              f"{self.done}/{self.total} sentences  {rate:.1f}/s ")
        else:
            self.stream.write(f"{self.label}: {self.done}/{self.total} sentences "
                              f"({100 * self.done // max(self.total, 1)}%), {rate:.1f} sentences/s\n")
        self.stream.flush()

    def close(self) -> None:
        """The final count (every run that translated something ends with one line or a full bar)."""
        if self.total:
            self._show()
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()
