"""Concurrency loop (issue 16): many calls from several Python threads on shared objects.

One fitted estimator of each kind and one ``SynapseMatrix`` are shared by
``--threads`` Python threads that call their read methods (``predict``,
``predict_proba``, ``transform``, ``forward``) ``--calls`` times in all,
mixed with ``synaplast.threads(k)`` blocks and ``set_num_threads`` calls
from the same threads. Every result is compared with the one computed
before the loop; the run fails on any exception or difference.

Usage: ``python benches/concurrency_loop.py --calls 10000 --threads 8``
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=10_000)
    p.add_argument("--threads", type=int, default=8)
    args = p.parse_args(argv)

    from sklearn.datasets import load_digits

    import synaplast

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    Xq = X[:64]
    models = {
        "structural": synaplast.StructuralPlasticityClassifier(max_synapses=2000, random_state=0),
        "competitive": synaplast.CompetitivePlasticityClassifier(
            hidden_layer_sizes=(32,), random_state=0
        ),
        "memory": synaplast.AssociativeMemory(binarize=0.5),
    }
    for m in models.values():
        m.fit(X, y) if not isinstance(m, synaplast.AssociativeMemory) else m.fit(X > 0.5, X > 0.5)
    W = synaplast.SynapseMatrix((200, 64))
    W.grow_random(16, random_state=0)
    calls = {
        "structural.predict_proba": lambda: models["structural"].predict_proba(Xq),
        "structural.transform": lambda: models["structural"].transform(Xq),
        "competitive.predict_proba": lambda: models["competitive"].predict_proba(Xq),
        "memory.predict": lambda: models["memory"].predict(Xq > 0.5),
        "synapses.forward": lambda: W.forward(Xq),
    }
    expected = {k: f() for k, f in calls.items()}
    names = list(calls)
    counts = {"calls": 0, "failures": 0, "pool_changes": 0}
    lock = threading.Lock()

    def worker(seed):
        rng = random.Random(seed)
        done = fail = pools = 0
        per = args.calls // args.threads
        for i in range(per):
            name = rng.choice(names)
            try:
                if i % 50 == 0:
                    with synaplast.threads(rng.choice((1, 2))):
                        out = calls[name]()
                    pools += 1
                elif i % 97 == 0:
                    synaplast.set_num_threads(rng.choice((0, 1, 2)))
                    out = calls[name]()
                    pools += 1
                else:
                    out = calls[name]()
                if not np.array_equal(np.asarray(out), np.asarray(expected[name])):
                    fail += 1
            except Exception as exc:  # any exception is a failure of the loop
                print(f"{name}: {type(exc).__name__}: {exc}")
                fail += 1
            done += 1
        with lock:
            counts["calls"] += done
            counts["failures"] += fail
            counts["pool_changes"] += pools

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as ex:
        list(ex.map(worker, range(args.threads)))
    synaplast.set_num_threads(0)
    print(
        f"{counts['calls']} calls from {args.threads} threads in {time.perf_counter() - t0:.1f} s "
        f"({counts['pool_changes']} thread-pool changes among them): "
        f"{counts['failures']} failures (exceptions or results differing from the serial ones)"
    )
    return 1 if counts["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
