"""A small dependency-free progress bar for long runs (``verbose`` / CLI)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Progress over ``total`` steps on stderr when ``enabled``.

    On a terminal one bar is redrawn in place; otherwise (a log file, a CI
    job, a notebook's captured stream) plain lines are written, one per
    tenth of the work, without terminal escape codes.
    """

    def __init__(self, total: int, desc: str = "", enabled: bool = True, width: int = 28):
        self.total = max(int(total), 1)
        self.desc = desc
        self.enabled = enabled
        self.width = width
        self.n = 0
        self.start = time.perf_counter()
        self._last = 0.0
        self._tenth = -1
        self.postfix = ""
        isatty = getattr(sys.stderr, "isatty", None)
        self.interactive = bool(isatty and isatty())

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        self.n = min(self.n + n, self.total)
        if postfix is not None:
            self.postfix = postfix
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.interactive:
            if now - self._last > 0.1 or self.n == self.total:
                self._last = now
                self._draw(now)
        elif self.n * 10 // self.total > self._tenth:
            self._tenth = self.n * 10 // self.total
            self._line(now)

    def _status(self, now: float) -> str:
        frac = self.n / self.total
        elapsed = now - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        return f"{self.n}/{self.total} {elapsed:5.1f}s<{eta:5.1f}s {self.postfix}".rstrip()

    def _draw(self, now: float) -> None:
        bar = "#" * int(self.n / self.total * self.width)
        sys.stderr.write(f"\r{self.desc} [{bar:<{self.width}}] {self._status(now)}\033[K")
        sys.stderr.flush()

    def _line(self, now: float) -> None:
        sys.stderr.write(f"{self.desc} {100 * self.n // self.total:3d}% {self._status(now)}\n")
        sys.stderr.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.interactive:
            self._draw(now)
            sys.stderr.write("\n")
            sys.stderr.flush()
        elif self._tenth < 10:
            self._tenth = 10
            self._line(now)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
