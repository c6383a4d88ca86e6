"""The demonstration run behind ``synaplast demo`` / ``make demo``.

The main job (:func:`main`) trains, on all ten classes of MNIST (the first
20,000 training images by default; scikit-learn's 8x8 digits where MNIST is
not installed, and it says so), the structural-plasticity classifier with
every parameter at its default, backprop (``MLPClassifier((100,),
max_iter=20)``) and the competitive-plasticity classifier (top 10 % of
updates per layer), and prints one comparison table: accuracy, input→hidden
synapses, I(X;Z) and bits per synapse, synaptic writes, fit time, then a
verdict that calls no ratio a win when the rule is far less accurate.
``--plot DIR`` writes receptive fields, the synapse count over training and
the weight histogram on log-x axes with its fitted lognormal, normal and
exponential laws (:mod:`synaplast.plotting`).

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
    n_train: int | None = 20_000,
    random_state: int = 0,
) -> list[dict]:
    """Run the comparison and print its table; returns the table rows.

    Trains, on all ten classes, the structural-plasticity classifier with
    every parameter at its default, ``MLPClassifier(hidden_layer_sizes=(100,),
    max_iter=20)`` and the competitive-plasticity classifier (top 10 % of the
    updates), and prints accuracy, input→hidden synapses, I(X;Z), bits per
    synapse, synaptic writes and fit time of each, then a plain verdict.
    ``n_train``: the first ``n_train`` training images (MNIST has 60,000;
    ``None``: all), so that the run stays near a minute on two cores.
    ``plot_dir``: also write the structural classifier's figures there
    (needs matplotlib, checked before anything is trained).
    """
    from synaplast.compare import table_rows
    from synaplast.datasets import mnist_available

    if plot_dir is not None:
        from synaplast.plotting import require_matplotlib

        require_matplotlib()

    name, (X_tr, y_tr, X_te, y_te) = load_dataset(dataset)
    if name == "digits" and dataset == "auto" and not mnist_available():
        print(
            "MNIST is not available offline here (`synaplast fetch-mnist` stores it), so this "
            "demo uses scikit-learn's 8x8 digits instead: 1,797 small images, an easier and "
            "much smaller problem than MNIST.\n"
        )
    if n_train is not None and len(X_tr) > n_train:
        X_tr, y_tr = X_tr[:n_train], y_tr[:n_train]
        note = f" (the first {n_train:,}; --n-train 0 uses all)"
    else:
        note = ""
    print(
        f"synaplast demo: {name}, all {len(np.unique(y_tr))} classes, {len(X_tr):,} training"
        f"{note} / {len(X_te):,} test images\n"
    )
    rows = table_rows(X_tr, y_tr, X_te, y_te, random_state=random_state, verbose=verbose)
    print(_markdown(rows))
    print()
    print(verdict(rows, n_classes=len(np.unique(y_tr))))
    if plot_dir is not None:
        from synaplast.plotting import save_structural_figures

        paths = save_structural_figures(rows[0]["estimator"], plot_dir)
        print(f"\nplots written to {plot_dir}: {', '.join(paths)}")
    return rows


def _markdown(rows) -> str:
    lines = [
        "| model | test acc | input→hidden synapses | I(X;Z) bits | C_S bits/syn | writes | fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {100 * r['test_acc']:.2f} % | {r['synapses']:,} | "
            f"{r['I_XZ_bits']:.1f} | {r['C_S']:.3g} | {r['writes']:.3g} | {r['fit_time_s']:.1f} |"
        )
    return "\n".join(lines)


def verdict(rows, n_classes: int) -> str:
    """One honest sentence on the rule against backprop: ratios are only
    called a win when the rule's accuracy is within 2 points of backprop's,
    and the rule is called near chance when it is closer to chance than to
    backprop."""
    rule = next(r for r in rows if r["method"].startswith("structural"))
    bp = next(r for r in rows if r["method"].startswith("MLP"))
    chance = 1.0 / n_classes
    gap = 100 * (rule["test_acc"] - bp["test_acc"])
    if rule["test_acc"] - chance < 0.5 * (bp["test_acc"] - chance):
        return (
            f"The structural rule is near chance here ({100 * rule['test_acc']:.1f} % against "
            f"{100 * chance:.0f} % chance and backprop's {100 * bp['test_acc']:.1f} %): "
            "no ratio is a win at that accuracy."
        )
    parts = [
        f"accuracy {gap:+.2f} points against backprop",
        f"{rule['synapses'] / bp['synapses']:.2f}x its input synapses",
        f"{rule['fit_time_s'] / bp['fit_time_s']:.2f}x its fit time",
    ]
    if np.isfinite(rule["C_S"]) and np.isfinite(bp["C_S"]) and bp["C_S"] > 0:
        parts.append(f"{rule['C_S'] / bp['C_S']:.1f}x its bits per synapse (C_S)")
    head = "The structural rule (defaults): " + ", ".join(parts) + "."
    if gap < -2:
        head += " Backprop is clearly more accurate here; the ratios are not a win."
    return head
