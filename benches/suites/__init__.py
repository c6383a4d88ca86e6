"""Benchmarks run by ``python benches/run.py NAME`` and by the scripts in ``benches/``.

Each module has ``add_arguments(parser)`` and ``run(args)``; timings always
put synaplast and its anchor side by side in one run and report the ratio.
"""

import os
import platform
import time


def machine() -> str:
    """One line describing this machine, for results tables."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def best_time(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``number`` calls of ``fn`` over ``repeat`` rounds (seconds per call)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best
