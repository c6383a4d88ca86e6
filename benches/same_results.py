"""Check that two builds of synaplast learn the same bits at the same speed.

Uses only the estimators' public API, so it runs against any build::

    python benches/same_results.py fingerprint > a.txt   # with build A
    python benches/same_results.py fingerprint > b.txt   # with build B; diff a.txt b.txt
    python benches/same_results.py speed NAME            # best of 3; run A and B alternately

``fingerprint`` hashes predictions, weights, energy counters and histories of
fits, pickle round-trips and partial fits of every learner; ``speed`` times
the competitive reference run to 95 % on MNIST (1 and 2 threads), e-prop
(event- and time-driven), the structural classifier on MNIST 1/2/6 and a
Willshaw store + retrieval.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import time

import numpy as np
from sklearn.datasets import load_digits

import synaplast
from synaplast import (
    AssociativeMemory,
    CompetitivePlasticityClassifier,
    EPropClassifier,
    EPropRegressor,
    StructuralPlasticityClassifier,
)
from synaplast import memory as mem

COMPETITIVE = {
    "plain": dict(hidden_layer_sizes=(32,), learning_rate=0.05, max_epochs=2.0),
    "top": dict(hidden_layer_sizes=(32,), update_fraction=0.1, max_epochs=2.0),
    "neuron": dict(
        hidden_layer_sizes=(32, 16),
        update_fraction=0.2,
        selection="neuron",
        output_fraction="scaled",
    ),
    "path_err": dict(
        hidden_layer_sizes=(32,),
        plastic_units=8,
        plastic_mode="error",
        output="softmax",
        activation="sigmoid",
    ),
    "path_fixed_b4": dict(
        hidden_layer_sizes=(32,),
        plastic_units=8,
        batch_size=4,
        update_fraction=0.3,
        sampling="shuffle",
    ),
    "cache": dict(
        hidden_layer_sizes=(32,),
        caching=True,
        cache_tau=100.0,
        maintenance_cost=0.01,
        consolidation_threshold=0.05,
    ),
    "target": dict(hidden_layer_sizes=(32,), target_accuracy=0.9, eval_every=500),
}
EPROP = {
    "lif": {},
    "alif_gd": dict(neuron="alif", optimizer="gradient_descent", c_reg=0.1, dale=0.8),
    "time": dict(update="time", cutoff=5, feedback="symmetric"),
}
MEMORY = {
    "will": {},
    "bayes": dict(rule="bayes", p01=0.1),
    "bcpnn_wta": dict(rule="bcpnn", retrieval="wta"),
    "auto_ane": dict(rule="bayes", n_iter=3, noise_estimation="adaptive", p01=0.2, anchor=True),
}
STRUCTURAL = {
    "plain": {},
    "random": dict(max_synapses=800, growth="random"),
    "inhibited": dict(max_synapses=800, n_inhibitory=5, consolidation_threshold=0.5),
}


def _hash(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()[:16]


def fingerprint() -> dict:
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    out = {}
    for name, kw in COMPETITIVE.items():
        est = CompetitivePlasticityClassifier(random_state=3, **kw).fit(X, y)
        again = pickle.loads(pickle.dumps(est)).partial_fit(X[:200], y[:200])
        out[f"competitive {name}"] = _hash(
            est.predict_proba(X),
            *est.coefs_,
            [est.energy_.writes, est.energy_.abs_change],
            [h["accuracy"] for h in est.history_],
            again.predict_proba(X),
        )
    spikes = (np.random.default_rng(0).random((40, 30, 8)) < 0.1).astype(np.uint8)
    labels = np.arange(40) % 3
    for name, kw in EPROP.items():
        est = EPropClassifier(n_rec=20, max_iter=3, random_state=1, **kw).fit(spikes, labels)
        again = pickle.loads(pickle.dumps(est)).partial_fit(spikes, labels)
        (_, _, w), w_out = est.weights_
        out[f"eprop {name}"] = _hash(
            est.predict_proba(spikes), est.loss_curve_, w, w_out, again.predict_proba(spikes)
        )
    reg = EPropRegressor(n_rec=15, max_iter=2, random_state=0).fit(X[:50], X[:50, 10])
    out["eprop regressor"] = _hash(reg.predict(X[:50]), reg.loss_curve_)
    U = mem.exact_k_patterns(300, 200, 8, 0)
    V = mem.exact_k_patterns(300, 100, 5, 1)
    for name, kw in MEMORY.items():
        auto = name.startswith("auto")
        est = AssociativeMemory(**kw).fit(U, None if auto else V)
        est.partial_fit(U[:20], None if auto else V[:20])
        Q = mem.noisy_queries(U[:50], miss=2, random_state=0)
        again = pickle.loads(pickle.dumps(est))
        out[f"memory {name}"] = _hash(
            est.predict(Q), est.decision_function(Q), again.predict(Q), [est.energy_.writes]
        )
    for name, kw in STRUCTURAL.items():
        est = StructuralPlasticityClassifier(
            n_hidden=40, max_iter=4, readout_max_iter=5, random_state=1, **kw
        ).fit(X, y)
        inc = StructuralPlasticityClassifier(
            n_hidden=30, random_state=2, **{k: v for k, v in kw.items() if k != "max_synapses"}
        )
        for i in range(3):
            inc.partial_fit(X[i * 300 : (i + 1) * 300], y[i * 300 : (i + 1) * 300], range(10))
        out[f"structural {name}"] = _hash(
            est.predict_proba(X),
            est.synapses_.to_dense(),
            est.theta_,
            est.synapse_history_,
            inc.predict_proba(X),
            inc.synapses_.to_dense(),
        )
    return out


def _best(fit, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fit()
        best = min(best, time.perf_counter() - t0)
    return best


def speed() -> dict:
    from synaplast.datasets import load_mnist

    Xtr, ytr, Xte, yte = load_mnist()
    Xtr, Xte = synaplast.frugal_preprocess(Xtr, Xte, random_state=0)
    times = {}
    for threads in (1, 2):
        with synaplast.threads(threads):
            times[f"competitive to 95%, {threads} thread(s)"] = _best(
                lambda: CompetitivePlasticityClassifier(target_accuracy=0.95, random_state=0).fit(
                    Xtr, ytr, eval_set=(Xte, yte)
                )
            )
    spikes = (np.random.default_rng(0).random((64, 100, 40)) < 0.05).astype(np.uint8)
    labels = np.arange(64) % 4
    for update in ("event", "time"):
        times[f"e-prop {update}-driven"] = _best(
            lambda u=update: EPropClassifier(n_rec=200, max_iter=3, update=u, random_state=0).fit(
                spikes, labels
            )
        )
    X126, y126, _, _ = load_mnist(subset=(1, 2, 6))
    times["structural, MNIST 1/2/6"] = _best(
        lambda: StructuralPlasticityClassifier(n_hidden=100, max_synapses=1000, random_state=0).fit(
            X126, y126
        )
    )
    U = mem.exact_k_patterns(10000, 4000, 12, 1, sparse=True)
    V = mem.exact_k_patterns(10000, 4000, 12, 2, sparse=True)
    times["Willshaw store + retrieve"] = _best(
        lambda: AssociativeMemory().fit(U, V).predict(U[:2000])
    )
    return times


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "fingerprint"
    label = sys.argv[2] if len(sys.argv) > 2 else ""
    rows = fingerprint() if mode == "fingerprint" else speed()
    for key, value in rows.items():
        print(f"{label}\t{key}\t{value if isinstance(value, str) else f'{value:.3f}'}")
