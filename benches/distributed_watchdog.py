"""Run a command, and kill it with its whole process group if the machine runs short of memory.

``python benches/distributed_watchdog.py --min-available 1.5 -- python run.py distributed ...``
starts the command in a new session (so its Dask workers and nannies are in
its process group), samples ``MemAvailable`` from ``/proc/meminfo`` and the
summed resident memory of the group every ``--every`` seconds, and sends
``SIGKILL`` to the group when less than ``--min-available`` GB is available.
A line per ``--log-every`` seconds and the extremes at the end go to stderr.
Exit status: the command's, or 137 after a kill.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time


def available_gb() -> float:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1e6  # kB -> GB
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def group_rss_gb(pgid: int) -> float:
    """Summed resident memory of the processes in the process group ``pgid``."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat: the process group
                continue
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return total / 1e9


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--min-available", type=float, default=1.5, help="GB")
    p.add_argument("--every", type=float, default=2.0, help="seconds between samples")
    p.add_argument("--log-every", type=float, default=60.0, help="seconds between log lines")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("no command given")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, start_new_session=True)
    low, peak, last_log, killed = float("inf"), 0.0, t0, False
    while proc.poll() is None:
        avail, rss = available_gb(), group_rss_gb(proc.pid)
        low, peak = min(low, avail), max(peak, rss)
        now = time.monotonic()
        if now - last_log >= args.log_every:
            print(
                f"[watchdog {now - t0:6.0f} s] available {avail:.2f} GB, "
                f"group RSS {rss:.2f} GB, load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
            last_log = now
        if avail < args.min_available:
            print(
                f"[watchdog] {avail:.2f} GB available < {args.min_available} GB: "
                f"killing process group {proc.pid}",
                file=sys.stderr,
                flush=True,
            )
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(args.every)
    rc = proc.wait()
    print(
        f"[watchdog] done after {time.monotonic() - t0:.0f} s: least available {low:.2f} GB, "
        f"peak group RSS {peak:.2f} GB, exit {rc}{' (killed)' if killed else ''}",
        file=sys.stderr,
        flush=True,
    )
    return 137 if killed else rc


if __name__ == "__main__":
    sys.exit(main())
