"""A small dependency-free progress bar for long runs (``verbose`` / CLI)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Progress over ``total`` steps, drawn on stderr when ``enabled``."""

    def __init__(self, total: int, desc: str = "", enabled: bool = True, width: int = 28):
        self.total = max(int(total), 1)
        self.desc = desc
        self.enabled = enabled
        self.width = width
        self.n = 0
        self.start = time.perf_counter()
        self._last = 0.0
        self.postfix = ""

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        self.n = min(self.n + n, self.total)
        if postfix is not None:
            self.postfix = postfix
        now = time.perf_counter()
        if self.enabled and (now - self._last > 0.1 or self.n == self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        frac = self.n / self.total
        bar = "#" * int(frac * self.width)
        elapsed = now - self.start
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        sys.stderr.write(
            f"\r{self.desc} [{bar:<{self.width}}] {self.n}/{self.total} "
            f"{elapsed:5.1f}s<{eta:5.1f}s {self.postfix}\033[K"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.perf_counter())
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
