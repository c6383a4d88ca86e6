"""SIGINT latency of every long call (issue 16, benches/RESULTS.md "Reliability").

Each case (``tests/sigint_child.py``) runs in its own child process; SIGINT
is sent 1 s into a call that alone runs for far longer than 10 s, and the
latency is the time until the child caught ``KeyboardInterrupt`` (or, when
the call cannot be interrupted, until it returned; "> CAP" when it had not
after ``--cap`` seconds). ``--python`` picks the interpreter, e.g. that of a
build of an older commit for the "before" column.

    python benches/sigint_latency.py [--python PY] [--cap 60] [CASE ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from sigint_child import CASES  # noqa: E402
from test_sigint import interrupt_cases  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--cap", type=float, default=60.0)
    ap.add_argument("cases", nargs="*", default=list(CASES))
    a = ap.parse_args()
    print("| call | latency (s) | interrupted | unchanged |")
    print("|---|---|---|---|")
    for case in a.cases:
        try:
            r = interrupt_cases([case], timeout=a.cap + 1.0, python=a.python)[case]
            print(f"| {case} | {r['latency']:.2f} | {r['interrupted']} | {r['unchanged']} |")
        except AssertionError:
            print(f"| {case} | > {a.cap:.0f} | no answer | — |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
