"""SynapseMatrix products against scipy.sparse on the same data.

The forward product ``x @ W.T`` (``W.forward(x)``, ``x`` row-major of shape
``(batch, n_pre)``, result row-major ``(batch, n_post)``) is compared with
scipy (single-threaded, float32 like ours) in two forms: the natural
``(W_csr @ x.T).T`` and ``W_csr @ xt`` on an input transposed beforehand
(scipy's fastest case, which skips the transposition our call includes).
Densities 1%, 10% and 100%, synaplast on 1 and 2 threads, all in one run on
the same data; ratios are scipy time / synaplast time against the faster
scipy form (> 1: synaplast is faster).
"""

from __future__ import annotations

import argparse
import datetime

import numpy as np

import synaplast
from suites import best_time, machine


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-post", type=int, default=1000)
    p.add_argument("--n-pre", type=int, default=1000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--densities", type=float, nargs="+", default=[0.01, 0.1, 1.0])
    p.add_argument("--repeat", type=int, default=7)


def measure(n_post=1000, n_pre=1000, batch=64, densities=(0.01, 0.1, 1.0), repeat=7, seed=0):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    x = rng.random((batch, n_pre), dtype=np.float32)
    rows = []
    for density in densities:
        dense = np.where(
            rng.random((n_post, n_pre)) < density, rng.standard_normal((n_post, n_pre)), 0.0
        ).astype(np.float32)
        csr = sp.csr_matrix(dense)
        W = synaplast.SynapseMatrix.from_dense(dense)
        xt = np.ascontiguousarray(x.T)
        ref = np.asarray(csr @ xt).T
        np.testing.assert_allclose(W.forward(x), ref, rtol=1e-4, atol=1e-3)
        t_natural = best_time(lambda: (csr @ x.T).T, repeat)  # noqa: B023
        t_pre = best_time(lambda: csr @ xt, repeat)  # noqa: B023
        t_scipy = min(t_natural, t_pre)
        row = {"density": density, "nnz": csr.nnz, "scipy_s": t_scipy, "scipy_natural_s": t_natural}
        for threads in (1, 2):
            with synaplast.threads(threads):
                row[f"synaplast_{threads}t_s"] = best_time(lambda: W.forward(x), repeat)  # noqa: B023
        for threads in (1, 2):
            row[f"ratio_{threads}t"] = t_scipy / row[f"synaplast_{threads}t_s"]
        rows.append(row)
    return rows


def format_table(rows, n_post, n_pre, batch) -> str:
    lines = [
        f"Forward product x @ W.T, W {n_post}x{n_pre}, batch {batch}, float32; "
        f"{machine()}; {datetime.date.today()}",
        "",
        "| density | nnz | scipy (W@x.T).T (ms) | scipy best (ms) | synaplast 1 thread (ms) | ratio | synaplast 2 threads (ms) | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['density']:.0%} | {r['nnz']} | {r['scipy_natural_s'] * 1e3:.3f} | {r['scipy_s'] * 1e3:.3f} | "
            f"{r['synaplast_1t_s'] * 1e3:.3f} | {r['ratio_1t']:.2f}x | "
            f"{r['synaplast_2t_s'] * 1e3:.3f} | {r['ratio_2t']:.2f}x |"
        )
    return "\n".join(lines)


def run(args) -> int:
    rows = measure(args.n_post, args.n_pre, args.batch, args.densities, args.repeat)
    print(format_table(rows, args.n_post, args.n_pre, args.batch))
    return 0
