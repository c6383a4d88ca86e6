"""The main comparison: the structural-plasticity classifier against backprop.

:func:`compare` trains :class:`~synaplast.StructuralPlasticityClassifier`,
scikit-learn's ``MLPClassifier`` (backprop, same hidden size) and a
non-negative backprop MLP (:class:`~synaplast.baselines.NonNegativeMLP`) on
the same data and returns one row per model: test accuracy, non-silent
input→hidden synapses, ``I(X;Z)`` (VIB estimate on the hidden code),
``C_S = I(X;Z) / synapses``, synaptic writes during learning (energy) and
fit time. :func:`table` formats the rows (the layout of Table 2 of the
structural-plasticity paper). ``synaplast demo`` and the benchmarks use it.
"""

from __future__ import annotations

import time

import numpy as np

from synaplast.baselines import NonNegativeMLP

__all__ = ["compare", "hidden_code", "information", "table", "table_rows"]


def hidden_code(mlp, X):
    """The ReLU hidden code of a fitted scikit-learn ``MLPClassifier``."""
    return np.maximum(X @ mlp.coefs_[0] + mlp.intercepts_[0], 0)


def _adam_writes(mlp, n_samples):
    """Synaptic writes of a fitted ``MLPClassifier``: Adam writes every
    parameter at each step (batches of ``min(200, n_samples)``)."""
    n_params = sum(w.size for w in mlp.coefs_) + sum(b.size for b in mlp.intercepts_)
    return mlp.n_iter_ * int(np.ceil(n_samples / min(200, n_samples))) * n_params


def information(Z, y, n_info, seed):
    """``I(X;Z)`` in bits of the code ``Z`` (VIB estimate on at most ``n_info`` samples)."""
    from synaplast.info import mutual_information_vib

    rng = np.random.RandomState(seed)
    keep = rng.choice(len(Z), min(n_info, len(Z)), replace=False)
    return mutual_information_vib(Z[keep], y[keep], epochs=30, random_state=seed)


def table_rows(X_tr, y_tr, X_te, y_te, *, n_info=2000, random_state=0, verbose=True):
    """The demo's comparison on given data: the structural rule with every
    parameter at its default, ``MLPClassifier((100,), max_iter=20)`` and the
    competitive-plasticity classifier (top 10 % of the updates per layer).

    Returns one dict per model (``method``, ``test_acc``, ``synapses``,
    ``I_XZ_bits``, ``C_S``, ``writes``, ``fit_time_s``, ``estimator``).
    """
    import warnings

    from sklearn.neural_network import MLPClassifier

    from synaplast import CompetitivePlasticityClassifier, StructuralPlasticityClassifier

    rows = []

    def row(method, est, fit_time, synapses, writes, Z):
        bits = information(Z, y_tr, n_info, random_state) if n_info and Z is not None else np.nan
        r = {
            "method": method,
            "test_acc": float(np.mean(est.predict(X_te) == y_te)),
            "synapses": int(synapses),
            "I_XZ_bits": bits,
            "C_S": bits / synapses if synapses else float("nan"),
            "writes": int(writes),
            "fit_time_s": fit_time,
            "estimator": est,
        }
        rows.append(r)
        if verbose:
            print(_fmt_row({**r, "hidden": "-"}), flush=True)

    t0 = time.perf_counter()
    rule = StructuralPlasticityClassifier(random_state=random_state, verbose=verbose)
    rule.fit(X_tr, y_tr)
    t = time.perf_counter() - t0
    row(
        "structural rule (defaults)",
        rule,
        t,
        rule.synapses_.nnz,
        rule.energy_.writes,
        rule.transform(X_tr),
    )
    t0 = time.perf_counter()
    bp = MLPClassifier(hidden_layer_sizes=(100,), max_iter=20, random_state=random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bp.fit(X_tr, y_tr)
    t = time.perf_counter() - t0
    row(
        "MLPClassifier(100), 20 epochs",
        bp,
        t,
        np.count_nonzero(bp.coefs_[0]),
        _adam_writes(bp, len(X_tr)),
        hidden_code(bp, X_tr),
    )
    t0 = time.perf_counter()
    comp = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(100,), update_fraction=0.1, max_epochs=3.0, random_state=random_state
    ).fit(X_tr, y_tr)
    t = time.perf_counter() - t0
    row(
        "competitive top-10 %, 3 epochs",
        comp,
        t,
        np.count_nonzero(comp.coefs_[0][:, :-1]),
        comp.energy_.writes,
        None,  # I(X;Z) of the competitive network's code is not estimated here
    )
    return rows


def compare(
    subset=(1, 2, 6),
    hidden_sizes=(10, 30, 100, 200),
    max_synapses=1000,
    *,
    n_train=None,
    methods=("rule", "bp", "bp_nonneg"),
    rule_params=None,
    bp_max_iter=30,
    n_info=2000,
    plot_dir=None,
    random_state=0,
    verbose=True,
    dataset="auto",
):
    """Train the rule and the backprop baselines and print one table.

    Parameters
    ----------
    subset : tuple of int or None
        MNIST digits to keep (``None``: all ten).
    hidden_sizes : sequence of int
    max_synapses : int
        Synapse budget of the rule (input→hidden).
    n_train : int or None
        Use only the first ``n_train`` training images (``None``: all).
    methods : sequence of {"rule", "bp", "bp_nonneg"}
    rule_params : dict, optional
        Extra parameters of the rule (per hidden size: a dict of dicts keyed
        by the size also works).
    bp_max_iter : int
        Epochs of both backprop baselines.
    n_info : int
        Samples for the VIB estimate of ``I(X;Z)``.
    plot_dir : str, optional
        Write PNG figures of the rule's largest network there.

    Returns
    -------
    list of dict
        One row per (hidden size, method).
    """
    from sklearn.neural_network import MLPClassifier

    from synaplast import StructuralPlasticityClassifier
    from synaplast.datasets import load_dataset

    name, (Xtr, ytr, Xte, yte) = load_dataset(dataset, subset=subset)
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    rows = []
    last_rule = None
    for h in hidden_sizes:
        for method in methods:
            t0 = time.perf_counter()
            if method == "rule":
                kw = dict(rule_params or {})
                if h in kw:
                    kw = kw[h]
                kw = {k: v for k, v in kw.items() if not isinstance(k, int)}
                est = StructuralPlasticityClassifier(
                    n_hidden=h, max_synapses=max_synapses, random_state=random_state, **kw
                ).fit(Xtr, ytr)
                fit_time = time.perf_counter() - t0
                n_syn = est.synapses_.nnz
                writes = est.energy_.writes
                Z = est.transform(Xtr)
                last_rule = est
            elif method == "bp":
                est = MLPClassifier(
                    hidden_layer_sizes=(h,), max_iter=bp_max_iter, random_state=random_state
                )
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est.fit(Xtr, ytr)
                fit_time = time.perf_counter() - t0
                n_syn = int(np.count_nonzero(est.coefs_[0]))
                writes = _adam_writes(est, len(Xtr))
                Z = hidden_code(est, Xtr)
            elif method == "bp_nonneg":
                est = NonNegativeMLP(h, max_iter=bp_max_iter, random_state=random_state).fit(
                    Xtr, ytr
                )
                fit_time = time.perf_counter() - t0
                n_syn = est.n_synapses_
                writes = est.writes_
                Z = est.transform(Xtr)
            else:
                raise ValueError(f"unknown method {method!r}")
            acc = float(np.mean(est.predict(Xte) == yte))
            bits = information(Z, ytr, n_info, random_state)
            row = {
                "dataset": name,
                "classes": "all" if subset is None else ",".join(map(str, subset)),
                "hidden": h,
                "method": method,
                "test_acc": acc,
                "synapses": n_syn,
                "I_XZ_bits": bits,
                "C_S": bits / n_syn if n_syn else float("nan"),
                "writes": int(writes),
                "fit_time_s": fit_time,
            }
            rows.append(row)
            if verbose:
                print(_fmt_row(row), flush=True)
    if verbose:
        print()
        print(table(rows))
    if plot_dir is not None and last_rule is not None:
        from synaplast.plotting import save_structural_figures

        save_structural_figures(last_rule, plot_dir)
    return rows


_HEAD = "| hidden | method | test acc | synapses | I(X;Z) bits | C_S bits/syn | writes | fit s |"


def _fmt_row(r):
    return (
        f"| {r['hidden']} | {r['method']} | {100 * r['test_acc']:.2f}% | {r['synapses']:,} | "
        f"{r['I_XZ_bits']:.2f} | {r['C_S']:.4g} | {r['writes']:.3g} | {r['fit_time_s']:.1f} |"
    )


def table(rows):
    """Markdown table of ``compare`` rows, with C_S and time ratios to BP."""
    lines = [_HEAD, "|---|---|---|---|---|---|---|---|"]
    lines += [_fmt_row(r) for r in rows]
    bp = {r["hidden"]: r for r in rows if r["method"] == "bp"}
    ratios = []
    for r in rows:
        if r["method"] == "rule" and r["hidden"] in bp:
            b = bp[r["hidden"]]
            ratios.append(
                f"hidden {r['hidden']}: C_S rule/BP = {r['C_S'] / b['C_S']:.1f}x, "
                f"fit time rule/BP = {r['fit_time_s'] / b['fit_time_s']:.2f}"
            )
    return "\n".join(lines + ([""] + ratios if ratios else []))
