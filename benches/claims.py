"""The rule's claims beside backprop, as ``synaplast bench claims`` prints them,
plus the machine, the load and a JSON of every table (``--out``).

Usage: ``python benches/claims.py --out claims`` (10-class MNIST when stored,
all 60k/10k images; ``--n-train`` subsamples for a quick look). The same
tables come from ``synaplast bench claims``; this script adds what
``benches/RESULTS.md`` records with them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from suites import machine
from synaplast import claims


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=("auto", "mnist", "digits"), default="auto")
    p.add_argument("--n-train", type=int, default=0, help="training samples (0: all)")
    p.add_argument("--n-attack", type=int, default=1000, help="test images attacked")
    p.add_argument("--sections", nargs="+", default=None)
    p.add_argument("--out", default="claims", help="folder for the PNGs and claims.json")
    args = p.parse_args(argv)
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    result = claims.run(
        dataset=args.dataset,
        n_train=args.n_train or None,
        n_attack=args.n_attack,
        sections=args.sections,
        out_dir=args.out,
    )
    wall = time.perf_counter() - t0
    print(f"\nwall {wall:.0f} s; load average after: {os.getloadavg()[0]:.1f}")
    out = Path(args.out) / "claims.json"
    tables = [{"title": c.title, "header": c.header, "rows": c.rows} for c in result]
    out.write_text(json.dumps({"machine": machine(), "wall_s": wall, "claims": tables}, indent=1))
    print(f"tables written to {out}")


if __name__ == "__main__":
    main()
