"""The demonstration run behind ``synaplast demo`` / ``make demo``.

The main job (:func:`main`) trains, on MNIST digits 1, 2 and 6 (the 3-class
setting of the structural-plasticity paper; scikit-learn's digits where MNIST
is not installed), the structural-plasticity classifier, backprop
(``MLPClassifier``), non-negative backprop and the competitive-plasticity
classifier (top 10% of updates per layer), and prints one comparison table:
accuracy, input→hidden synapses, I(X;Z) and bits per synapse, synaptic
writes, fit time. ``--plot DIR`` writes receptive fields, the synapse count
over training and the weight histogram with its lognormal fit
(:mod:`synaplast.plotting`).

:func:`sparse_layer_demo` is the smaller foundation example: a sparse
softmax layer learning with a local delta rule while structural plasticity
prunes the weakest synapses each epoch and regrows as many at random.
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


def main(
    dataset: str = "auto",
    verbose: bool = True,
    plot_dir: str | None = None,
    n_hidden: int = 100,
    max_synapses: int = 1000,
    random_state: int = 0,
) -> list[dict]:
    """Run the comparison and print its table; returns the table rows.

    ``plot_dir``: also write the structural classifier's figures there
    (needs matplotlib, checked before anything is trained).
    """
    from synaplast.compare import compare, table
    from synaplast.competitive import CompetitivePlasticityClassifier

    if plot_dir is not None:
        from synaplast.plotting import require_matplotlib

        require_matplotlib()

    subset = (1, 2, 6)
    name, (X_tr, y_tr, X_te, y_te) = load_dataset(dataset, subset=subset)
    print(
        f"synaplast demo: {name}, digits {subset}, {len(X_tr)} training / {len(X_te)} test "
        f"images, {n_hidden} hidden units\n"
    )
    rows = compare(
        subset=subset,
        hidden_sizes=(n_hidden,),
        max_synapses=max_synapses,
        methods=("rule", "bp", "bp_nonneg"),
        bp_max_iter=20,
        plot_dir=plot_dir,
        random_state=random_state,
        verbose=False,
        dataset=name,
    )
    t0 = time.perf_counter()
    comp = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(n_hidden,),
        update_fraction=0.1,
        max_epochs=3.0,
        random_state=random_state,
        verbose=int(verbose),
    ).fit(X_tr, y_tr)
    rows.append(
        {
            "dataset": name,
            "classes": ",".join(map(str, subset)),
            "hidden": n_hidden,
            "method": "competitive top-10%",
            "test_acc": float(comp.score(X_te, y_te)),
            "synapses": int(X_tr.shape[1] * n_hidden),
            "I_XZ_bits": float("nan"),
            "C_S": float("nan"),
            "writes": int(comp.energy_.writes),
            "fit_time_s": time.perf_counter() - t0,
        }
    )
    print(table(rows))
    if plot_dir is not None:
        print(f"\nplots written to {plot_dir}")
    return rows
