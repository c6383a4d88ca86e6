"""One table of issue 14's ratios from the benches' results.

Usage: python benches/kernels_summary.py [target/criterion] [--peer-json FILE ...]

* Thread ratios (1 thread / 2 threads, > 1 means faster with two) of every
  kernel and size of ``cargo bench --bench kernels`` (criterion medians);
  a ratio under 0.95 is flagged as a slowdown.
* The competitive step's top-fraction / plain cost per sample.
* Peer ratios from JSON files, where the other benches wrote them (default:
  ``benches/results/*.json``): the e-prop suite's ``--json`` output (its
  ``timings`` rows with NEST's ``speedup``), or any file with a list
  ``peer_ratios`` of ``{"workload", "peer", "threads", "ratio", "target"}``.
  Missing files or fields are skipped with a note.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
from pathlib import Path

from suites import machine

SLOWDOWN = 0.95


def median_ns(root: Path, group: str, bench: str, param: str) -> float | None:
    f = root / group / bench / param / "new" / "estimates.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())["median"]["point_estimate"]


def params(root: Path, group: str, bench: str) -> list[str]:
    d = root / group / bench
    if not d.is_dir():
        return []
    found = [p.name for p in d.iterdir() if (p / "new" / "estimates.json").exists()]
    return sorted(found, key=lambda s: (len(s), s))


def fmt_time(ns: float) -> str:
    return f"{ns / 1e6:.3f} ms" if ns >= 1e5 else f"{ns / 1e3:.1f} µs"


def thread_rows(root: Path) -> list[str]:
    groups = sorted(p.name for p in root.glob("threads_*") if p.is_dir() and (p / "t1").is_dir())
    rows = []
    for g in groups:
        for size in params(root, g, "t1"):
            t1, t2 = median_ns(root, g, "t1", size), median_ns(root, g, "t2", size)
            if t1 is None or t2 is None:
                continue
            ratio = t1 / t2
            flag = " (slower)" if ratio < SLOWDOWN else ""
            rows.append(
                f"| {g.removeprefix('threads_')} | {size} | {fmt_time(t1)} | {fmt_time(t2)} "
                f"| {ratio:.2f}x{flag} |"
            )
    return rows


def topp_rows(root: Path) -> list[str]:
    g = "topp_competitive_step"
    rows = []
    for size in params(root, g, "plain"):
        plain = median_ns(root, g, "plain", size)
        for name in ("top10", "top1"):
            t = median_ns(root, g, name, size)
            if plain and t:
                rows.append(f"| {size} | {name} | {t / plain:.2f}x | ≤ 3x |")
    return rows


def peer_rows(files: list[str]) -> tuple[list[str], list[str]]:
    rows, notes = [], []
    for f in files:
        try:
            data = json.loads(Path(f).read_text())
        except (OSError, ValueError) as e:
            notes.append(f"{f}: skipped ({e})")
            continue
        name = Path(f).stem
        used = False
        for r in data.get("peer_ratios", []) if isinstance(data, dict) else []:
            try:
                rows.append(
                    f"| {r['workload']} | {r['peer']} | {r.get('threads', '?')} "
                    f"| {float(r['ratio']):.2f}x | {r.get('target', '')} |"
                )
                used = True
            except (KeyError, TypeError, ValueError):
                notes.append(f"{f}: a peer_ratios entry without workload/peer/ratio")
        for r in data.get("timings", []) if isinstance(data, dict) else []:
            if isinstance(r, dict) and "speedup" in r:
                rows.append(
                    f"| e-prop ({name}) | NEST | {r.get('threads', '?')} "
                    f"| {float(r['speedup']):.2f}x | ≥ 10x (1 thread) |"
                )
                used = True
        if not used:
            notes.append(f"{f}: no peer ratios in it")
    return rows, notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", nargs="?", default="target/criterion")
    ap.add_argument("--peer-json", nargs="*", default=None)
    args = ap.parse_args()
    root = Path(args.root)
    load = os.getloadavg()
    print(
        f"Issue 14 summary; {machine()}; load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1 / 5 / 15 min); {datetime.date.today()}\n"
    )
    rows = thread_rows(root)
    if rows:
        print("Threads (criterion medians; ratio = 1-thread time / 2-thread time):\n")
        print("| kernel | size | 1 thread | 2 threads | ratio |")
        print("|---|---|---|---|---|")
        print("\n".join(rows))
    else:
        print(f"no thread benches under {root} (run `cargo bench --bench kernels`)")
    rows = topp_rows(root)
    if rows:
        print("\nCompetitive step, top fraction vs plain, per sample, 1 thread:\n")
        print("| N_hidden | rule | cost / plain | target |")
        print("|---|---|---|---|")
        print("\n".join(rows))
    files = args.peer_json
    if files is None:
        files = sorted(glob.glob(str(Path(__file__).parent / "results" / "*.json")))
    rows, notes = peer_rows(files)
    if rows:
        print("\nAgainst the peers (ratio = peer time / synaplast time):\n")
        print("| workload | peer | threads | ratio | target |")
        print("|---|---|---|---|---|")
        print("\n".join(rows))
    else:
        print(
            "\nno peer results found (benches/results/*.json or --peer-json): peer ratios skipped"
        )
    for n in notes:
        print(f"note: {n}")


if __name__ == "__main__":
    main()
