"""Ctrl-C during every long call: ``KeyboardInterrupt`` within about a
second, and the estimator as it was before the call (issue 16).

One child process (``sigint_child.py``) runs the cases one after another;
for each, this sends SIGINT 1 s after the long call started (each would run
for far longer than 10 s) and reads back the outcome.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sigint_child import CASES  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="SIGINT to a subprocess"),
]

CHILD = Path(__file__).with_name("sigint_child.py")
DELAY = 1.0
MAX_LATENCY = 1.5


def interrupt_cases(cases, delay=DELAY, timeout=120.0, python=sys.executable, progress=None):
    """Run ``cases`` in one child; SIGINT each long call after ``delay`` s.
    Returns ``{case: outcome}`` with ``latency`` (s from SIGINT to the
    caught exception, or to the call's end if it was not interrupted);
    ``AssertionError`` when the child gives no answer within ``timeout`` s
    (setup included) of a step."""
    err = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(
        [python, str(CHILD), *cases], stdout=subprocess.PIPE, stderr=err, text=True
    )

    def stderr():
        proc.kill()
        err.seek(0)
        return err.read()[-3000:]

    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()

    def read(what, wait):
        try:
            return lines.get(timeout=wait)
        except queue.Empty:
            raise AssertionError(f"{what}: no answer in {wait:.0f} s\n{stderr()}") from None

    out = {}
    try:
        for case in cases:
            line = read(case, timeout)
            if not line.startswith("READY"):
                raise AssertionError(f"{case}: child said {line!r}\n{stderr()}")
            time.sleep(delay)
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            res = json.loads(read(case, timeout))
            res["latency"] = res["caught"] - sent
            out[case] = res
            if progress:
                progress(case, res)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err.close()
    return out


@pytest.fixture(scope="module")
def outcomes():
    return interrupt_cases(list(CASES))


@pytest.mark.parametrize("case", list(CASES))
def test_ctrl_c_stops_the_call_and_changes_nothing(outcomes, case):
    res = outcomes[case]
    assert res["interrupted"], f"{case} was not interrupted: {res}"
    assert res["latency"] < MAX_LATENCY, f"{case}: {res['latency']:.2f} s after SIGINT"
    assert res["unchanged"], f"{case} changed the estimator: {res.get('diff')}"
