"""Associative memory figures (benches/RESULTS.md, ``## Associative memory``).

``python benches/run.py memory`` (or ``python benches/assoc_capacity.py``) runs:

1. Willshaw hetero-association at n = m = 1,000, k = l = 10, M = 5,083:
   measured ``p1`` and output noise against the theory.
2. BCPNN auto-association, 32 hypercolumns of 32, 1,775 modular patterns,
   4 hypercolumns corrupted per cue, 15 iterations, one winner per
   hypercolumn: fraction of patterns recalled perfectly (several seeds).
3. Auto-association capacity table (n = 1,000 and 2,000, ``k ≈ log2 n``,
   half of the active units missing from the cue, iterative retrieval):
   ``M_eps`` and ``C`` for every rule with and without ANE, and a PNG of
   capacity against the number of stored patterns with the theory curve.
4. Scale: hetero Willshaw, n = m = 100,000, k = l = 17, 10^6 pairs stored,
   10,000 queries: bytes held, peak memory, store and query throughput.
5. Speed: storing and retrieving against a straightforward dense NumPy
   implementation of the same rule (float32 BLAS products) at n = 4,000, on
   the same data in one run, with the thread count given by ``--threads``.
6. BCPNN against ptBCPNN2 (PyTorch, dense) on its own ``hrun(1024, 32, 1775,
   nflip=4, niter=15, lrule="bcpnn")`` workload, both on one thread, on the
   same patterns and cues: store + retrieve time and recall over
   ``--seeds`` seeds. Needs torch and a checkout of ptBCPNN2
   (``--ptbcpnn2 DIR`` holding ``ptBCPNN2.py``); skipped cleanly otherwise.
7. Bandwidth: a STREAM-like triad ``a = b + s·c`` (1 and 2 threads) and the
   bytes/s each retrieval kernel achieves as a fraction of it (Willshaw at
   figure 4's scale, BCPNN on figure 6's workload).
8. Threads: store and retrieve with 1 and 2 threads over sizes (Willshaw
   hetero ``k ≈ log2 n``, and the BCPNN workload), as ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import io
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import synaplast
from suites import machine
from synaplast import memory as mem


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--figures",
        default="1,2,3,4,5,6,7,8",
        help="comma-separated figures to run (default all)",
    )
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000], help="figure 3 sizes")
    p.add_argument("--queries", type=int, default=1000, help="queries per capacity point")
    p.add_argument("--seeds", type=int, default=3, help="figure 2 repetitions")
    p.add_argument("--scale-pairs", type=int, default=1_000_000, help="figure 4 pairs")
    p.add_argument("--plot", default="assoc_capacity.png", help="PNG path ('' for none)")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument(
        "--ptbcpnn2",
        default=os.environ.get("PTBCPNN2_DIR", ""),
        help="folder holding ptBCPNN2.py for figure 6 (default: $PTBCPNN2_DIR)",
    )


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def figure1(seed=0):
    n, k, M = 1000, 10, 5083
    U = mem.exact_k_patterns(M, n, k, seed, sparse=True)
    V = mem.exact_k_patterns(M, n, k, seed + 1, sparse=True)
    t0 = time.perf_counter()
    est = synaplast.AssociativeMemory().fit(U, V)
    t1 = time.perf_counter()
    Y = est.predict(U)
    t2 = time.perf_counter()
    eps = mem.output_noise(Y, V)
    theory = mem.willshaw_theory(n, n, k, k, 0.01)
    print("\nFigure 1: Willshaw hetero, n = m = 1000, k = l = 10, M = 5083, clean full queries")
    print(f"  p1 measured {est.p1_:.4f}  theory {theory['p1']:.4f}")
    print(f"  output noise measured {eps.mean():.4f}  (target 0.010-0.020; binomial theory 0.01)")
    print(
        f"  perfectly recalled {np.mean(eps == 0):.3f}; store {t1 - t0:.3f} s, retrieve {t2 - t1:.3f} s"
    )
    return {"p1": est.p1_, "eps": float(eps.mean()), "theory": theory}


def figure2(seeds=3):
    print("\nFigure 2: BCPNN auto, 32 x 32 hypercolumns, 1775 patterns, 4 corrupted, 15 iterations")
    fr = []
    for s in range(seeds):
        P = mem.hypercolumn_patterns(1775, 32, 32, s, sparse=True)
        Q = mem.corrupt_hypercolumns(P, 32, 4, 1000 + s)
        est = synaplast.AssociativeMemory(
            rule="bcpnn", retrieval="hypercolumn", n_hypercolumns=32, n_iter=15
        ).fit(P)
        t0 = time.perf_counter()
        Y, iters, _ = est.retrieve(Q)
        dt = time.perf_counter() - t0
        f = float(np.mean(mem.output_noise(Y, P) == 0))
        fr.append(f)
        print(
            f"  seed {s}: {100 * f:.2f}% recalled perfectly ({iters.mean():.1f} steps, {dt:.2f} s)"
        )
    print(f"  mean {100 * np.mean(fr):.2f}% (target >= 88%, ptBCPNN2 reference 90.37%)")
    return fr


TABLE_RULES = [
    ("willshaw", "wta", {}),
    ("bayes", "wta", {}),
    ("bayes", "threshold", {}),
    ("bayes", "wta", {"anchor": True}),
    ("bayes", "threshold", {"anchor": True}),
    ("bcpnn", "wta", {}),
    ("covariance", "wta", {}),
    ("hebb", "wta", {}),
    ("hopfield", "wta", {}),
]


def figure3(sizes=(1000, 2000), n_queries=1000, n_iter=5, plot=""):
    print("\nFigure 3: auto-association capacity (eps = 0.01), cue = half the pattern, iterative")
    rows = []
    for n in sizes:
        k = int(round(np.log2(n)))
        miss = k // 2
        task = mem.RecallTask(m=n, k=k, auto=True, miss=miss, n_queries=n_queries)
        print(f"  n = {n}, k = {k}, cue misses {miss}, n_iter = {n_iter}, {n_queries} queries")
        print(
            f"  {'rule':<11}{'retrieval':<20}{'ANE':<5}{'M_eps':>7}{'C':>8}{'C^S':>7}"
            f"{'p1':>7}{'noise':>8}{'perfect':>8}{'time':>7}"
        )
        for rule, retrieval, extra in TABLE_RULES:
            for ane in (None, "adaptive"):
                kw = dict(rule=rule, retrieval=retrieval, l=k, n_iter=n_iter, **extra)
                if rule == "bayes":
                    kw["p01"] = miss / k
                est = synaplast.AssociativeMemory(noise_estimation=ane, **kw)
                t0 = time.perf_counter()
                r = mem.measure_capacity(est, task, eps=0.01, rtol=0.02, start=256)
                dt = time.perf_counter() - t0
                rows.append((n, rule, retrieval, ane, r))
                print(
                    f"  {rule:<11}{retrieval + (' anchored' if extra.get('anchor') else ''):<20}"
                    f"{'yes' if ane else 'no':<5}{r.M_eps:>7}"
                    f"{r.C:>8.4f}{r.C_S:>7.3f}{r.p1:>7.3f}{r.noise:>8.4f}{r.perfect:>8.3f}"
                    f"{dt:>6.1f}s",
                    flush=True,
                )
    if plot:
        plot_capacity(plot)
    return rows


def plot_capacity(path, n=1000, k=10, n_queries=500):
    """Willshaw hetero: measured capacity C(M) against the theory curve."""
    Ms = np.unique(np.geomspace(500, 12000, 14).astype(int))
    meas, theo = [], []
    for M in Ms:
        U = mem.exact_k_patterns(M, n, k, 1, sparse=True)
        V = mem.exact_k_patterns(M, n, k, 2, sparse=True)
        est = synaplast.AssociativeMemory().fit(U, V)
        Y = est.predict(U[:n_queries])
        q, q01, q10 = mem._rates(mem.as_rows(Y, "Y")[:2], mem.as_rows(V[:n_queries], "V")[:2], n)
        meas.append(M * n * mem.transinformation(q, q01, q10) / (n * n))
        p1 = 1 - (1 - k * k / (n * n)) ** M
        theo.append(M * n * mem.transinformation(k / n, 0.0, p1**k) / (n * n))
    from synaplast.plotting import capacity_curve

    t = mem.willshaw_theory(n, n, k, k, 0.01)
    title = f"Willshaw hetero-association, n = m = {n}, k = l = {k}"
    capacity_curve(Ms, meas, theo, t["M_eps"], title).savefig(path, dpi=120)
    print(f"  plot written to {path}")
    return Ms, meas, theo


def figure4(pairs=1_000_000, n=100_000, k=17, n_queries=10_000):
    print(f"\nFigure 4: scale, Willshaw hetero n = m = {n}, k = l = {k}, {pairs} pairs")
    U = mem.exact_k_patterns(pairs, n, k, 0, sparse=True)
    V = mem.exact_k_patterns(pairs, n, k, 1, sparse=True)
    est = synaplast.AssociativeMemory(compress=True)
    t0 = time.perf_counter()
    est.fit(U, V)
    ts = time.perf_counter() - t0
    Q = U[:n_queries]
    t0 = time.perf_counter()
    Y = est.predict(Q)
    tq = time.perf_counter() - t0
    eps = mem.output_noise(Y, V[:n_queries])
    p1_theory = 1 - (1 - k * k / (n * n)) ** pairs
    gb = est.capacity_.memory_bytes / 1e9
    print(f"  p1 {est.p1_:.4f} (theory {p1_theory:.4f}); synapse store {gb:.2f} GB")
    print(f"  peak process memory {_rss_gb():.2f} GB (limit 4 GB)")
    print(f"  store {ts:.1f} s = {pairs / ts:,.0f} pairs/s; retrieve {n_queries} queries "
          f"{tq:.2f} s = {n_queries / tq:,.0f} queries/s; output noise {eps.mean():.2e}")  # fmt: skip
    return {"store_s": ts, "query_s": tq, "gb": gb, "rss": _rss_gb(), "eps": float(eps.mean())}


def figure5(n=4000, k=12, pairs=10_000, n_queries=2000):
    print(f"\nFigure 5: speed vs dense NumPy, Willshaw hetero n = m = {n}, k = l = {k}, "
          f"{pairs} pairs, {n_queries} queries (half the address missing), "
          f"{synaplast.get_num_threads()} threads")  # fmt: skip
    U = mem.exact_k_patterns(pairs, n, k, 0, sparse=True)
    V = mem.exact_k_patterns(pairs, n, k, 1, sparse=True)
    Q = mem.noisy_queries(U[:n_queries], miss=k // 2, random_state=2)
    Ud, Vd, Qd = (A.toarray().astype(np.float32) for A in (U, V, Q))

    def numpy_store():
        return (Ud.T @ Vd) > 0

    def numpy_retrieve(W):
        x = Qd @ W.astype(np.float32)
        return (x >= Qd.sum(1, keepdims=True)).astype(np.uint8)

    t0 = time.perf_counter()
    W = numpy_store()
    np_store = time.perf_counter() - t0
    t0 = time.perf_counter()
    Y_np = numpy_retrieve(W)
    np_ret = time.perf_counter() - t0
    t0 = time.perf_counter()
    est = synaplast.AssociativeMemory().fit(U, V)
    sy_store = time.perf_counter() - t0
    t0 = time.perf_counter()
    Y_sy = est.predict(Q)
    sy_ret = time.perf_counter() - t0
    same = np.array_equal(Y_sy.toarray(), Y_np)
    print(
        f"  store:    numpy {np_store:.3f} s, synaplast {sy_store:.4f} s, ratio {np_store / sy_store:.1f}x"
    )
    print(
        f"  retrieve: numpy {np_ret:.3f} s, synaplast {sy_ret:.4f} s, ratio {np_ret / sy_ret:.1f}x"
    )
    print(f"  identical outputs: {same}; p1 {est.p1_:.3f}")
    return {
        "np_store": np_store,
        "sy_store": sy_store,
        "np_ret": np_ret,
        "sy_ret": sy_ret,
        "same": same,
    }


# --------------------------------------------------------------- ptBCPNN2


def _load_ptbcpnn2(folder):
    """ptBCPNN2's module from ``folder``, or the reason it cannot be run."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return None, "torch is not installed (pip install torch)"
    path = os.path.join(folder, "ptBCPNN2.py") if folder else ""
    if not path or not os.path.exists(path):
        return None, "no ptBCPNN2 checkout (pass --ptbcpnn2 DIR or set PTBCPNN2_DIR)"
    sys.path.insert(0, os.path.abspath(folder))
    try:
        return importlib.import_module("ptBCPNN2"), ""
    except ImportError as exc:  # its own imports (matplotlib, Utils)
        return None, f"ptBCPNN2 does not import: {exc}"
    finally:
        sys.path.pop(0)


def _peer_store_retrieve(pt, P, Q, h, n_iter):
    """ptBCPNN2's own train and recall (dense PyTorch) on patterns ``P``, cues ``Q``."""
    import torch

    n = P.shape[1]
    Pt = torch.from_numpy(P.toarray().astype(np.float32))
    Qt = torch.from_numpy(Q.toarray().astype(np.float32))
    t0, c0 = time.perf_counter(), time.process_time()
    ham = pt.HAM(n, h, "bcpnn")
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the rule's name
        ham.train(Pt)
    R = ham.recall(Qt, n_iter)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return R.numpy().astype(np.uint8), dt, dc


def figure6(folder="", seeds=5, H=32, S=32, M=1775, corrupt=4, n_iter=15):
    print(f"\nFigure 6: BCPNN vs ptBCPNN2, {H} x {S} hypercolumns, {M} patterns, {corrupt} "
          f"corrupted, {n_iter} iterations, store + retrieve, 1 thread each")  # fmt: skip
    pt, why = _load_ptbcpnn2(folder)
    if pt is None:
        print(f"  skipped: {why}")
        return None
    import torch

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        with synaplast.threads(1):
            for s in range(seeds):
                P = mem.hypercolumn_patterns(M, H, S, s, sparse=True)
                Q = mem.corrupt_hypercolumns(P, H, corrupt, 1000 + s)
                t0, c0 = time.perf_counter(), time.process_time()
                est = synaplast.AssociativeMemory(
                    rule="bcpnn", retrieval="hypercolumn", n_hypercolumns=H, n_iter=n_iter
                ).fit(P)
                Y, _, _ = est.retrieve(Q)
                t_sy, c_sy = time.perf_counter() - t0, time.process_time() - c0
                R, t_pt, c_pt = _peer_store_retrieve(pt, P, Q, H, n_iter)
                ok_sy = float(np.mean(mem.output_noise(Y, P) == 0))
                ok_pt = float(np.mean(mem.output_noise(R, P) == 0))
                same = float(np.mean((Y.toarray() == R).all(axis=1)))
                rows.append((t_sy, t_pt, ok_sy, ok_pt, c_sy, c_pt))
                print(f"  seed {s}: synaplast {t_sy:.3f} s, {100 * ok_sy:.2f}% recalled; "
                      f"ptBCPNN2 {t_pt:.3f} s, {100 * ok_pt:.2f}%; ratio {t_pt / t_sy:.1f}x "
                      f"(CPU time {c_pt / c_sy:.1f}x); "
                      f"same output for {100 * same:.1f}% of cues")  # fmt: skip
    finally:
        torch.set_num_threads(torch_threads)
    t_sy, t_pt, ok_sy, ok_pt, c_sy, c_pt = (np.array(c) for c in zip(*rows, strict=True))
    print(f"  mean: synaplast {t_sy.mean():.3f} s, ptBCPNN2 {t_pt.mean():.3f} s, "
          f"ratio {t_pt.sum() / t_sy.sum():.1f}x, median {np.median(t_pt / t_sy):.1f}x, "
          f"CPU time {c_pt.sum() / c_sy.sum():.1f}x (target >= 10x); recall "
          f"{100 * ok_sy.mean():.2f}% vs {100 * ok_pt.mean():.2f}% "
          f"(difference {100 * (ok_sy.mean() - ok_pt.mean()):+.2f} points, target within 0.5)")  # fmt: skip
    return rows


# -------------------------------------------------------------- bandwidth


def triad_bandwidth(threads=1, n=1 << 24, repeat=5):
    """STREAM triad ``a = b + s·c`` over float64 arrays of ``n`` (3 x 128 MB), in bytes/s.

    Counted as STREAM counts it (24 bytes per element: two reads, one write).
    Returns the wall-clock rate and the rate per CPU-second of each thread
    (times ``threads``): on a machine shared with other work the second is
    what a core streams while it runs, which the wall clock cannot show.
    The product goes through a cache-sized temporary so that only ``a``,
    ``b`` and ``c`` stream; ``threads`` Python threads each take one slice
    (NumPy releases the GIL in its loops).
    """
    b = np.ones(n)
    c = np.full(n, 2.0)
    a = np.empty(n)
    chunk = 1 << 15

    def part(lo, hi):
        tmp = np.empty(chunk)
        for s in range(lo, hi, chunk):
            e = min(s + chunk, hi)
            t = tmp[: e - s]
            np.multiply(c[s:e], 3.0, out=t)
            np.add(b[s:e], t, out=a[s:e])

    bounds = np.linspace(0, n, threads + 1).astype(int)
    best, best_cpu = float("inf"), float("inf")
    with ThreadPoolExecutor(threads) as ex:
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            list(ex.map(part, bounds[:-1], bounds[1:]))
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
    assert a[0] == 7.0
    return 24 * n / best, 24 * n * threads / best_cpu


def figure7(quick=False):
    print("\nFigure 7: bandwidth of the retrieval kernels against a STREAM-like triad")
    tri = {t: triad_bandwidth(t, n=1 << (20 if quick else 24)) for t in (1, 2)}
    bw = {t: v[0] for t, v in tri.items()}
    for t, (v, vc) in tri.items():
        print(f"  triad, {t} thread{'s' if t > 1 else ''}: {v / 1e9:.1f} GB/s wall clock, "
              f"{vc / 1e9:.1f} GB/s per CPU-second x threads")  # fmt: skip
    # Willshaw at scale: each query reads the rows (u32 indices) of its units.
    n, k, pairs, nq = (10_000, 13, 20_000, 2000) if quick else (100_000, 17, 1_000_000, 10_000)
    U = mem.exact_k_patterns(pairs, n, k, 0, sparse=True)
    V = mem.exact_k_patterns(pairs, n, k, 1, sparse=True)
    est = synaplast.AssociativeMemory().fit(U, V)
    Q = U[:nq]
    out = {}
    for t in (1, 2):
        with synaplast.threads(t):
            est.retrieve(Q[:100])
            t0, c0 = time.perf_counter(), time.process_time()
            _, _, ops = est.retrieve(Q)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
        # Bytes of the rows the queries address (4 per u32 index); the
        # intersection kernel reads only part of them, so this is the rate
        # at which it serves the rows, not what it reads.
        rate, rate_cpu = 4 * ops / dt, 4 * ops * t / dc
        out[("willshaw", t)] = (nq / dt, rate / bw[t])
        print(f"  Willshaw n = {n}, k = {k}, {pairs} pairs, {t} thread{'s' if t > 1 else ''}: "
              f"{nq / dt:,.0f} queries/s ({nq * t / dc:,.0f} per CPU-second x threads), rows "
              f"served at {rate / 1e9:.2f} GB/s = {100 * rate / bw[t]:.0f}% of the triad "
              f"(per CPU-second: {100 * rate_cpu / tri[t][1]:.0f}%)")  # fmt: skip
    # BCPNN (dense rows of f64 increments, n per active unit and step).
    P = mem.hypercolumn_patterns(1775, 32, 32, 0, sparse=True)
    Qh = mem.corrupt_hypercolumns(P, 32, 4, 1000)
    est = synaplast.AssociativeMemory(
        rule="bcpnn", retrieval="hypercolumn", n_hypercolumns=32, n_iter=15
    ).fit(P)
    for t in (1, 2):
        with synaplast.threads(t):
            t0, c0 = time.perf_counter(), time.process_time()
            _, iters, ops = est.retrieve(Qh)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
        rate, rate_cpu = 8 * ops / dt, 8 * ops * t / dc
        out[("bcpnn", t)] = (iters.sum() / dt, rate / bw[t])
        print(f"  BCPNN 32 x 32, 1775 cues, {t} thread{'s' if t > 1 else ''}: "
              f"{iters.sum() / dt:,.0f} query steps/s, {rate / 1e9:.2f} GB/s of weight rows = "
              f"{100 * rate / bw[t]:.0f}% of the triad (per CPU-second: "
              f"{100 * rate_cpu / tri[t][1]:.0f}%; the 8 MB of rows stay in cache)")  # fmt: skip
    return bw, out


# ---------------------------------------------------------------- threads


def _timed(fn, repeat, *args):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def figure8(quick=False):
    print("\nFigure 8: 1 vs 2 threads, store and retrieve (best of several runs)")
    print(f"  {'workload':<44}{'store 1t':>10}{'2t':>9}{'ratio':>7}"
          f"{'retrieve 1t':>13}{'2t':>9}{'ratio':>7}")  # fmt: skip
    sizes = [100, 1000, 10_000] if quick else [100, 1000, 10_000, 100_000]
    cases = []
    for n in sizes:
        k = int(round(np.log2(n)))
        U = mem.exact_k_patterns(n, n, k, 5, sparse=True)
        V = mem.exact_k_patterns(n, n, k, 6, sparse=True)
        cases.append(
            (f"Willshaw hetero n = {n}, k = {k}, {n} pairs", U, V, U[: max(n // 10, 10)], {})
        )
    P = mem.hypercolumn_patterns(1775, 32, 32, 0, sparse=True)
    cases.append((
        "BCPNN 32 x 32, 1775 patterns, 15 iterations",
        P, None, mem.corrupt_hypercolumns(P, 32, 4, 1000),
        dict(rule="bcpnn", retrieval="hypercolumn", n_hypercolumns=32, n_iter=15),
    ))  # fmt: skip
    rows = []
    for name, U, V, Q, kw in cases:
        repeat = 3 if U.shape[1] >= 100_000 else 7
        est = synaplast.AssociativeMemory(**kw)
        args = (U,) if V is None else (U, V)
        res = []
        for t in (1, 2):
            with synaplast.threads(t):
                ts = _timed(est.fit, repeat, *args)
                tr = _timed(est.retrieve, repeat, Q)
            res.append((ts, tr))
        (s1, r1), (s2, r2) = res
        rows.append((name, s1, s2, r1, r2))
        print(f"  {name:<44}{1e3 * s1:>8.2f}ms{1e3 * s2:>7.2f}ms{s1 / s2:>6.2f}x"
              f"{1e3 * r1:>11.2f}ms{1e3 * r2:>7.2f}ms{r1 / r2:>6.2f}x")  # fmt: skip
    return rows


def run(args) -> int:
    if args.plot:
        from synaplast.plotting import require_matplotlib

        require_matplotlib()  # fail before any training, with the install hint
    figs = {int(f) for f in str(args.figures).split(",") if f.strip()}
    print(f"synaplast {synaplast.__version__} associative memory benchmark")
    print(f"machine: {machine()}; threads {synaplast.get_num_threads()}; "
          f"date {datetime.date.today().isoformat()}")  # fmt: skip
    quick = args.quick
    if 1 in figs:
        figure1()
    if 2 in figs:
        figure2(1 if quick else args.seeds)
    if 3 in figs:
        sizes = [300] if quick else args.sizes
        figure3(sizes, 100 if quick else args.queries, plot=args.plot)
    if 4 in figs:
        if quick:
            figure4(pairs=20_000, n=10_000, k=13, n_queries=1000)
        else:
            figure4(pairs=args.scale_pairs)
    if 5 in figs:
        if quick:
            figure5(n=1000, k=10, pairs=2000, n_queries=200)
        else:
            figure5()
    if 6 in figs:
        figure6(args.ptbcpnn2, 1 if quick else max(args.seeds, 5))
    if 7 in figs:
        figure7(quick)
    if 8 in figs:
        figure8(quick)
    return 0
