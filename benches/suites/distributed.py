"""Sharded associative memory on Dask against the single-process memory.

``python benches/run.py distributed`` stores the same Willshaw
hetero-association pairs (n = m, k = l, exact-k patterns) in an
``AssociativeMemory`` and in a ``ShardedAssociativeMemory`` on a
``LocalCluster`` of ``--workers`` single-threaded worker processes (each
under ``--memory-limit``), in one run, and reports:

* store and retrieval throughput of both, and their ratio;
* bit-identity of the retrieved patterns, the matrix load ``p1`` against the
  theory ``1 − (1 − kl/mn)^M`` and the output noise of clean queries against
  ``(n − l)·p1^k / l``;
* the communication per query: bytes received from the shards by one-step
  threshold retrieval (the selected units) and by ``decision_function``
  (the partial potentials, ``8·n`` bytes), and bytes sent per stored pair;
* each shard's bytes held, the input of the extrapolation in
  ``docs/distributed.md``, per potentiated synapse, and each worker's peak
  resident memory (``VmHWM``) over the run.

``--shard-store`` picks the shards' store (``auto``: the lean Willshaw store;
``counts``: the general counter store).

The single-process memory runs on ``--threads`` kernel threads (default: the
cores); each worker on one.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time

import numpy as np

import synaplast
from suites import machine
from synaplast import memory as mem


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=1_000_000, help="units per side (n = m)")
    p.add_argument("--k", type=int, default=17, help="active units per pattern (k = l)")
    p.add_argument("--pairs", type=int, default=1_000_000, help="stored pairs M")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--memory-limit", default="4.5GB", help="per worker")
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--batch", type=int, default=256, help="queries per round trip")
    p.add_argument("--block", type=int, default=100_000, help="pairs per dask block")
    p.add_argument("--skip-single", action="store_true", help="sharded memory only")
    p.add_argument(
        "--shard-store",
        default="auto",
        choices=("auto", "lean", "counts"),
        help="the shards' store (ShardedAssociativeMemory's shard_store)",
    )
    p.add_argument(
        "--lazy",
        action="store_true",
        help="generate each block of pairs when it is stored (the client never holds all "
        "pairs; implies --skip-single; worker pausing off, the nanny's limit stays)",
    )


def _patterns(args):
    U = mem.exact_k_patterns(args.pairs, args.n, args.k, 0, sparse=True)
    V = mem.exact_k_patterns(args.pairs, args.n, args.k, 1, sparse=True)
    return U, V


def _lazy_patterns(args):
    """``dask.array`` address and content patterns whose blocks are drawn when read."""
    import dask
    import dask.array as da
    import scipy.sparse as sp

    meta = sp.csr_array((0, args.n), dtype=np.uint8)
    us, vs = [], []
    for b, lo in enumerate(range(0, args.pairs, args.block)):
        rows = min(args.block, args.pairs - lo)
        for out, seed in ((us, 2 * b + 2), (vs, 2 * b + 3)):
            d = dask.delayed(mem.exact_k_patterns)(rows, args.n, args.k, seed, sparse=True)
            out.append(da.from_delayed(d, shape=(rows, args.n), dtype=np.uint8, meta=meta))
    return da.concatenate(us), da.concatenate(vs)


def _peak_rss():
    """This process's peak resident memory in bytes: ``VmHWM``, which starts
    afresh at ``exec`` (``ru_maxrss`` keeps the spawning process's peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return 1024 * int(line.split()[1])
    return 0


def run(args) -> int:
    import dask.array as da
    import distributed

    from synaplast.distributed import ShardedAssociativeMemory

    print(f"synaplast {synaplast.__version__}: sharded associative memory on Dask")
    print(f"machine: {machine()}; load {os.getloadavg()}; date {datetime.date.today()}")
    n, k, M = args.n, args.k, args.pairs
    print(f"Willshaw hetero, n = m = {n:,}, k = l = {k}, M = {M:,} pairs, {args.workers} workers")
    t = time.perf_counter()
    if args.lazy:
        import dask

        args.skip_single = True
        dU, dV = _lazy_patterns(args)
        Q = dU.blocks[0].compute(scheduler="threads")[: args.queries]
        Vq = dV.blocks[0].compute(scheduler="threads")[: args.queries]
        # A shard's store lives in an actor, which Dask cannot spill: pausing
        # the worker at 80 % of its limit would stall it; terminating at 95 %
        # (the nanny) still bounds it.
        dask.config.set({"distributed.worker.memory.pause": False})
    else:
        U, V = _patterns(args)
        Q, Vq = U[: args.queries], V[: args.queries]
    print(f"patterns generated in {time.perf_counter() - t:.1f} s")
    rows = {}
    if not args.skip_single:
        single = synaplast.AssociativeMemory()
        t = time.perf_counter()
        single.fit(U, V)
        rows["single"] = {"store_s": time.perf_counter() - t}
        t = time.perf_counter()
        ref = single.predict(Q)
        rows["single"]["query_s"] = time.perf_counter() - t
        rows["single"]["bytes"] = single.capacity_.memory_bytes
        p1_single = single.p1_
        del single
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=args.memory_limit,
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(lambda: __import__("synaplast.distributed"))  # imports outside the timing
        idle_peak = client.run(_peak_rss)  # a worker before it holds a shard
        sharded = ShardedAssociativeMemory(
            client=client, batch_size=args.batch, shard_store=args.shard_store
        )
        if not args.lazy:
            dU = da.from_array(U, chunks=(args.block, -1), asarray=False)
            dV = da.from_array(V, chunks=(args.block, -1), asarray=False)
        t = time.perf_counter()
        sharded.fit(dU, dV)
        store_s = time.perf_counter() - t
        sent_per_pair = sharded.communication_["sent"] / M
        t = time.perf_counter()
        out = sharded.predict(Q)
        query_s = time.perf_counter() - t
        per_query = sharded.communication_["received"] / args.queries
        sent_query = sharded.communication_["sent"] / args.queries
        sharded.decision_function(Q[:8])
        potentials_per_query = sharded.communication_["received"] / 8
        shard_bytes = [a.summary().result()["memory_bytes"] for a in sharded._actors]
        worker_mem = client.run(lambda: __import__("psutil").Process().memory_info().rss)
        worker_peak = client.run(_peak_rss)
        rows["sharded"] = {"store_s": store_s, "query_s": query_s, "bytes": sum(shard_bytes)}
        p1 = sharded.p1_
        synapses = [a.summary().result()["nonsilent"] for a in sharded._actors]
    p1_theory = 1 - (1 - k * k / (n * n)) ** M
    noise = mem.output_noise(out, Vq)
    eps = noise.mean()
    eps_theory = (n - k) * p1_theory**k / k
    # A clean query misses nothing; a content unit outside the pattern fires
    # when all k of its synapses from the query are potentiated (p1^k each).
    errors = float((noise > 0).mean())
    # (expm1/log1p: p1^k is ~1e-43 at the scale figure and 1 - p1^k rounds to 1)
    errors_theory = -np.expm1((n - k) * np.log1p(-(p1_theory**k)))
    print(
        f"\np1 = {p1:.6g} (theory {p1_theory:.6g}); output noise {eps:.3g} (theory {eps_theory:.3g});"
        f" queries with a wrong unit {errors:.3g} (theory {errors_theory:.3g}) of {len(noise)}"
    )
    if "single" in rows:
        same = (out != ref).nnz == 0 if hasattr(out, "nnz") else np.array_equal(out, ref)
        print(
            f"retrieved patterns identical to the single process: {same}; p1 equal: {p1 == p1_single}"
        )
    print("\n| memory | store (pairs/s) | retrieval (queries/s) | bytes held |")
    print("|---|---|---|---|")
    for name, r in rows.items():
        print(
            f"| {name} | {M / r['store_s']:,.0f} | {args.queries / r['query_s']:,.0f} | "
            f"{r['bytes'] / 1e9:.2f} GB |"
        )
    if "single" in rows:
        s, d = rows["single"], rows["sharded"]
        print(
            f"\nsharded / single: store throughput {s['store_s'] / d['store_s']:.2f}x, "
            f"retrieval throughput {s['query_s'] / d['query_s']:.2f}x"
        )
    print(
        f"\ncommunication: {sent_per_pair:.0f} B sent per stored pair (all shards); per query "
        f"{sent_query:.0f} B sent, {per_query:.0f} B received (threshold: selected units), "
        f"{potentials_per_query:,.0f} B received as partial potentials (decision_function)"
    )
    print(f"per shard: {', '.join(f'{b / 1e9:.3f} GB' for b in shard_bytes)} held; "
          f"worker RSS {', '.join(f'{v / 1e9:.2f} GB' for v in worker_mem.values())}")  # fmt: skip
    peaks = list(worker_peak.values())
    grown = sum(worker_peak[w] - idle_peak[w] for w in worker_peak)
    print(
        f"peak worker RSS {', '.join(f'{v / 1e9:.2f} GB' for v in peaks)} (idle worker "
        f"{min(idle_peak.values()) / 1e9:.2f} GB); per potentiated synapse "
        f"({sum(synapses):,}): {sum(shard_bytes) / sum(synapses):.2f} B held, "
        f"{grown / sum(synapses):.2f} B of peak RSS above the idle workers"
    )
    return 0
