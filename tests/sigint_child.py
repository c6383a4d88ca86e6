"""Long calls for the Ctrl-C tests (``tests/test_sigint.py``) and latencies
(``benches/sigint_latency.py``). Run as ``python sigint_child.py CASE...``.

For each case: set up (a small fitted estimator where the call is a
re-fit), print ``READY <case>``, then start the long call, which alone
would run far longer than 10 s inside one Rust call. The parent sends
SIGINT; the case prints one JSON line: whether ``KeyboardInterrupt`` was
raised, ``time.monotonic()`` when it was caught (the clock is shared
between processes on Linux), and whether the estimator is unchanged.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits

import synaplast
from synaplast import (
    AssociativeMemory,
    CompetitivePlasticityClassifier,
    EPropClassifier,
    EPropRegressor,
    StructuralPlasticityClassifier,
)

X, y = load_digits(return_X_y=True)
X = X / 16.0


def spikes(n, t=100, n_in=16, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, t, n_in)) < 0.05).astype(np.uint8)
    return x, rng.integers(0, 2, n)


def energy(est):
    return {k: v for k, v in vars(est.energy_).items() if isinstance(v, (int, float))}


def snapshot(est, Xs):
    """What must not change: predictions and the fitted attributes."""
    pred = est.predict(Xs)
    pred = pred.toarray() if sp.issparse(pred) else np.asarray(pred)
    out = {"pred": pred.tolist()}
    if hasattr(est, "energy_"):
        out["energy"] = energy(est)
    for name in ("n_iter_", "synapse_history_", "loss_curve_", "n_patterns_", "n_samples_seen_"):
        if hasattr(est, name):
            v = getattr(est, name)
            out[name] = v.tolist() if isinstance(v, np.ndarray) else v
    return out


def structural(partial):
    est = StructuralPlasticityClassifier(
        max_synapses=100_000,
        max_iter=1,
        readout_max_iter=5,
        readout_n_iter_no_change=0,
        random_state=0,
    )
    if partial:
        est.partial_fit(X[:20], y[:20], classes=np.unique(y))
        Xl, yl = np.tile(X, (100, 1)), np.tile(y, 100)  # one hidden epoch on 180k samples
        return est, X[:50], lambda: est.partial_fit(Xl, yl)
    est.fit(X[:200], y[:200])
    est.set_params(readout_max_iter=200_000)  # one core call of 200k readout epochs
    return est, X[:50], lambda: est.fit(X, y)


def competitive(partial):
    est = CompetitivePlasticityClassifier(hidden_layer_sizes=(400,), max_epochs=0.5, random_state=0)
    est.fit(X, y)
    if partial:
        Xl, yl = np.tile(X, (150, 1)), np.tile(y, 150)  # one pass, 270k samples
        return est, X[:50], lambda: est.partial_fit(Xl, yl)
    est.set_params(max_epochs=5000.0)
    return est, X[:50], lambda: est.fit(X, y)


def eprop(kind, partial):
    cls = EPropClassifier if kind == "classifier" else EPropRegressor
    est = cls(n_rec=200, max_iter=1, random_state=0)
    xs, ys = spikes(16)
    target = ys if kind == "classifier" else ys.astype(float)
    est.fit(xs, target)
    xl, yl = spikes(20_000, seed=1)  # one core run of 20k sequences
    yl = yl if kind == "classifier" else yl.astype(float)
    call = (lambda: est.partial_fit(xl, yl)) if partial else (lambda: est.fit(xl, yl))
    return est, xs, call


def memory_patterns(n, m=2000, k=20, seed=0):  # k active units (with repeats)
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, m, size=(n, k))
    U = sp.csr_matrix(
        (np.ones(n * k, np.uint8), (np.repeat(np.arange(n), k), cols.ravel())), shape=(n, m)
    )
    U.data[:] = 1
    return U


def memory(call):
    m = 20_000
    small = memory_patterns(2000, m=m, k=60)
    est = AssociativeMemory(rule="bayes", retrieval="wta", l=60).fit(small)  # auto
    if call in ("fit", "partial_fit"):
        big = memory_patterns(300_000, m=m, k=60, seed=1)  # one core call (< 1M rows)
        method = est.fit if call == "fit" else est.partial_fit
        return est, small[:50], lambda: method(big)
    queries = memory_patterns(20_000, m=m, k=60, seed=2)
    return est, small[:50], lambda: est.predict(queries)


CASES = {
    "structural.fit": lambda: structural(False),
    "structural.partial_fit": lambda: structural(True),
    "competitive.fit": lambda: competitive(False),
    "competitive.partial_fit": lambda: competitive(True),
    "eprop_classifier.fit": lambda: eprop("classifier", False),
    "eprop_classifier.partial_fit": lambda: eprop("classifier", True),
    "eprop_regressor.fit": lambda: eprop("regressor", False),
    "eprop_regressor.partial_fit": lambda: eprop("regressor", True),
    "memory.fit": lambda: memory("fit"),
    "memory.partial_fit": lambda: memory("partial_fit"),
    "memory.predict": lambda: memory("predict"),
}


def run(name, limit):
    est, probe, call = CASES[name]()
    before = snapshot(est, probe)
    print("READY", name, flush=True)
    t0 = time.monotonic()
    result = {"case": name, "interrupted": False}
    try:
        call()
    except KeyboardInterrupt:
        result["interrupted"] = True
    result["caught"] = time.monotonic()
    result["duration"] = result["caught"] - t0
    after = snapshot(est, probe)
    result["unchanged"] = after == before
    if not result["unchanged"]:
        result["diff"] = [k for k in before if before[k] != after.get(k)]
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    synaplast.set_num_threads(0)
    for case in sys.argv[1:]:
        run(case, None)
