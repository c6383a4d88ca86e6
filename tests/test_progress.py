"""The progress bar: a redrawn bar on a terminal, plain lines elsewhere."""

import io

from synaplast._progress import Progress


class _Stream(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


def _run(monkeypatch, tty):
    stream = _Stream(tty)
    monkeypatch.setattr("sys.stderr", stream)
    with Progress(50, "fit") as bar:
        for _ in range(50):
            bar.update(1, postfix="loss 1.0")
    return stream.getvalue()


def test_plain_lines_without_a_terminal(monkeypatch):
    out = _run(monkeypatch, tty=False)
    assert "\r" not in out and "\033" not in out
    lines = out.splitlines()
    assert 2 <= len(lines) <= 12
    assert lines[-1].startswith("fit 100% 50/50")


def test_redrawn_bar_on_a_terminal(monkeypatch):
    out = _run(monkeypatch, tty=True)
    assert "\r" in out and out.endswith("\n") and "50/50" in out


def test_disabled_writes_nothing(monkeypatch):
    stream = _Stream(False)
    monkeypatch.setattr("sys.stderr", stream)
    with Progress(5, enabled=False) as bar:
        bar.update(5)
    assert stream.getvalue() == ""
