"""Run a benchmark suite from a source checkout: ``python benches/run.py NAME [options]``.

``python benches/run.py --help`` lists the suites; each suite module in
``benches/suites/`` defines ``add_arguments(parser)`` and ``run(args)``.
Timings put synaplast and its anchor side by side in one run, as a ratio.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import synaplast

# name -> (module, help)
SUITES: dict[str, tuple[str, str]] = {
    "synapses": ("suites.synapses", "sparse products against scipy.sparse, 1 and 2 threads"),
    "memory": (
        "suites.memory",
        "associative memories: Willshaw/BCPNN figures, capacity table and plot, scale, speed",
    ),
    "energy": (
        "suites.energy",
        "competitive plasticity: energy of learning on MNIST, sweep and plots",
    ),
    "eprop": (
        "suites.eprop",
        "e-prop sine-wave task against NEST 3.10 (loss curves, speed, raster PNG)",
    ),
    "structural": (
        "suites.structural",
        "structural-plasticity classifier vs backprop (Table 2 layout)",
    ),
    "distributed": (
        "suites.distributed",
        "sharded associative memory on Dask against the single-process memory",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benches/run.py", description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    sub = p.add_subparsers(dest="suite", required=True)
    for name, (module, help_text) in SUITES.items():
        sp = sub.add_parser(name, help=help_text)
        importlib.import_module(module).add_arguments(sp)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        synaplast.set_num_threads(args.threads)
    return int(importlib.import_module(SUITES[args.suite][0]).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
