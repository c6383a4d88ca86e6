"""The demonstration run behind ``synaplast demo`` / ``make demo``.

A sparse softmax layer learns digits with a local delta rule (the Hebbian
product of output error and input, applied to existing synapses only) while
structural plasticity prunes the weakest synapses after every epoch and grows
as many new ones at random potential positions (sparse evolutionary
training). It prints accuracy over training and the energy and capacity
reports.
"""

from __future__ import annotations

import time

import numpy as np

from synaplast._progress import Progress
from synaplast.datasets import load_dataset
from synaplast.energy import CapacityReport, EnergyReport, synaptic_ops
from synaplast.synapses import SynapseMatrix


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sparse_layer_demo(
    dataset: str = "auto",
    density: float = 0.4,
    epochs: int = 8,
    rewire: float = 0.2,
    rate: float = 0.2,
    batch_size: int = 32,
    random_state: int = 0,
    verbose: bool = True,
    max_train: int | None = 20000,
):
    """Train the demo layer; returns a dict with accuracy, reports and history."""
    name, (X_tr, y_tr, X_te, y_te) = load_dataset(dataset)
    if max_train is not None:
        X_tr, y_tr = X_tr[:max_train], y_tr[:max_train]
    rng = np.random.default_rng(random_state)
    # Bias as an always-on presynaptic unit.
    X_tr = np.hstack([X_tr, np.ones((len(X_tr), 1), np.float32)])
    X_te = np.hstack([X_te, np.ones((len(X_te), 1), np.float32)])
    n_classes, n_in = int(y_tr.max()) + 1, X_tr.shape[1]
    targets = np.eye(n_classes, dtype=np.float32)[y_tr]

    W = SynapseMatrix((n_classes, n_in))
    W.grow_random(max(1, int(density * n_in)), init=(-0.01, 0.01), random_state=random_state)
    initial = W.copy()
    per_row = W.nnz // n_classes
    history = []
    start = time.perf_counter()
    steps = epochs * int(np.ceil(len(X_tr) / batch_size))
    with Progress(steps, f"demo ({name})", enabled=verbose) as bar:
        for epoch in range(epochs):
            order = rng.permutation(len(X_tr))
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                err = targets[idx] - _softmax(W.forward(X_tr[idx]))
                W.hebbian_update(err, X_tr[idx], rate / len(idx))
                bar.update(1)
            acc = float((W.forward(X_te).argmax(1) == y_te).mean())
            history.append({"epoch": epoch + 1, "accuracy": acc, "synapses": W.nnz})
            bar.update(0, postfix=f"acc {acc:.3f}")
            if epoch < epochs - 1:
                # Structural plasticity: drop the weakest, regrow as many at random.
                W.prune(fraction=rewire)
                regrow = per_row - int(W.row_counts().min())
                W.grow_random(regrow, init=(-0.01, 0.01), random_state=random_state + epoch + 1)
    fit_time = time.perf_counter() - start
    energy = EnergyReport.from_synapses(
        [(W, initial)], prediction_ops=synaptic_ops(W.nnz), details={"fit_time_s": fit_time}
    )
    capacity = CapacityReport(
        n_synapses=int((np.abs(W.weights) > 0).sum()),
        n_potential=n_classes * n_in,
        memory_bytes=W.memory_bytes(),
    )
    return {
        "dataset": name,
        "accuracy": history[-1]["accuracy"],
        "history": history,
        "energy": energy,
        "capacity": capacity,
        "fit_time_s": fit_time,
        "synapses": W,
    }


def main(dataset: str = "auto", verbose: bool = True) -> dict:
    res = sparse_layer_demo(dataset=dataset, verbose=verbose)
    print(
        f"\nsynaplast demo: sparse delta-rule layer with structural plasticity on {res['dataset']}"
    )
    print(f"{'epoch':>5} {'test acc':>9} {'synapses':>9}")
    for h in res["history"]:
        print(f"{h['epoch']:>5} {h['accuracy']:>9.4f} {h['synapses']:>9}")
    print(f"fit time {res['fit_time_s']:.2f} s\n")
    print(res["energy"])
    print(res["capacity"])
    return res
