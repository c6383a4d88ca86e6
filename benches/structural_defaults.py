"""StructuralPlasticityClassifier out of the box, against MLPClassifier, in one run.

Three parts (``--parts``), each printing a Markdown table and writing JSON
(and a PNG for the frontier) under ``--out``:

* ``defaults``: every parameter at its default on 10-class MNIST (60k/10k),
  beside ``MLPClassifier(hidden_layer_sizes=(100,), max_iter=20,
  random_state=0)``: accuracy, non-silent input→hidden synapses, fit time,
  ``I(X;Z)`` and ``C_S`` (bits per synapse).
* ``frontier``: ``max_synapses=B`` and nothing else for B in ``--budgets``,
  with MLPClassifier at ``--mlp-sizes`` hidden units (784·H synapses) on the
  same axes (accuracy against synapses, log x).
* ``small``: ``make_pipeline(scaler, model)`` with StandardScaler and
  MinMaxScaler, 5-fold stratified CV on scikit-learn's digits, breast
  cancer, wine and iris, against ``MLPClassifier(max_iter=1000)`` with
  StandardScaler.

Usage: ``python benches/structural_defaults.py --parts defaults small``;
``--n-train`` subsamples MNIST for a quick look; ``--set n_hidden=100000
max_synapses=200000`` changes the rule's parameters in the ``defaults``
part (one change from the defaults, beside the same MLP).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np


def _load(n_train):
    from synaplast.datasets import load_mnist

    Xtr, ytr, Xte, yte = load_mnist()
    if n_train:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    return Xtr, ytr, Xte, yte


def _load_avg():
    return os.getloadavg()[0]


def _rule(Xtr, ytr, Xte, yte, n_info, **kw):
    from synaplast import StructuralPlasticityClassifier

    load = _load_avg()
    t0 = time.perf_counter()
    est = StructuralPlasticityClassifier(random_state=0, **kw).fit(Xtr, ytr)
    fit = time.perf_counter() - t0
    row = {
        "model": "rule " + (", ".join(f"{k}={v}" for k, v in kw.items()) or "defaults"),
        "test_acc": float(est.score(Xte, yte)),
        "synapses": int(est.synapses_.nnz),
        "n_hidden": int(est.n_hidden_),
        "fit_s": fit,
        "load": load,
    }
    if n_info:
        bits = est.estimate_information_(Xtr, ytr, max_samples=n_info)
        row.update(I_XZ_bits=bits, C_S=bits / row["synapses"])
    return row, est


def _mlp(Xtr, ytr, Xte, yte, n_info, hidden=100, max_iter=20):
    from sklearn.neural_network import MLPClassifier

    from synaplast.compare import hidden_code, information

    load = _load_avg()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=max_iter, random_state=0)
        est.fit(Xtr, ytr)
    fit = time.perf_counter() - t0
    row = {
        "model": f"MLPClassifier(({hidden},), max_iter={max_iter})",
        "test_acc": float(est.score(Xte, yte)),
        "synapses": int(np.count_nonzero(est.coefs_[0])),
        "n_hidden": hidden,
        "fit_s": fit,
        "load": load,
    }
    if n_info:
        bits = information(hidden_code(est, Xtr[:n_info]), ytr[:n_info], n_info, 0)
        row.update(I_XZ_bits=bits, C_S=bits / row["synapses"])
    return row


def _table(rows, cols):
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            if c == "test_acc":
                v = f"{100 * v:.2f} %"
            elif isinstance(v, float):
                v = f"{v:.4g}"
            elif isinstance(v, int):
                v = f"{v:,}"
            cells.append(str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def defaults(args):
    Xtr, ytr, Xte, yte = _load(args.n_train)
    rule, _ = _rule(Xtr, ytr, Xte, yte, args.n_info, **args.set)
    mlp = _mlp(Xtr, ytr, Xte, yte, args.n_info)
    rows = [rule, mlp]
    print(_table(rows, ["model", "test_acc", "synapses", "fit_s", "I_XZ_bits", "C_S", "load"]))
    print(
        f"\nrule/MLP: accuracy {100 * (rule['test_acc'] - mlp['test_acc']):+.2f} points, "
        f"synapses {rule['synapses'] / mlp['synapses']:.3f}x, "
        f"fit time {rule['fit_s'] / mlp['fit_s']:.2f}x"
        + (f", C_S {rule['C_S'] / mlp['C_S']:.1f}x" if args.n_info else "")
    )
    return rows


def frontier(args):
    Xtr, ytr, Xte, yte = _load(args.n_train)
    rows = []
    for b in args.budgets:
        row, _ = _rule(Xtr, ytr, Xte, yte, 0, max_synapses=b)
        row["budget"] = b
        rows.append(row)
        print(_table([row], ["model", "test_acc", "synapses", "n_hidden", "fit_s"]), flush=True)
    for h in args.mlp_sizes:
        row = _mlp(Xtr, ytr, Xte, yte, 0, hidden=h)
        rows.append(row)
        print(_table([row], ["model", "test_acc", "synapses", "fit_s"]), flush=True)
    print()
    print(_table(rows, ["model", "test_acc", "synapses", "n_hidden", "fit_s", "load"]))
    _plot_frontier(rows, Path(args.out) / "structural_frontier.png")
    return rows


def _plot_frontier(rows, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot")
        return
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for kind, marker, color in (("rule", "o", "tab:green"), ("MLP", "s", "tab:blue")):
        mine = sorted((r for r in rows if r["model"].startswith(kind)), key=lambda r: r["synapses"])
        if mine:
            label = "structural rule (max_synapses=B)" if kind == "rule" else "MLPClassifier(H)"
            ax.plot(
                [r["synapses"] for r in mine],
                [100 * r["test_acc"] for r in mine],
                marker=marker,
                color=color,
                label=label,
            )
    ax.set_xscale("log")
    ax.set_xlabel("non-silent input→hidden synapses")
    ax.set_ylabel("test accuracy, 10-class MNIST (%)")
    ax.set_title("Accuracy against synapses")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")


def small(args):
    from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    from synaplast import StructuralPlasticityClassifier

    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    rows = []
    for name, load in (
        ("digits", load_digits),
        ("breast_cancer", load_breast_cancer),
        ("wine", load_wine),
        ("iris", load_iris),
    ):
        X, y = load(return_X_y=True)
        row = {"dataset": name}
        for label, make in (
            (
                "rule_standard",
                lambda: make_pipeline(
                    StandardScaler(), StructuralPlasticityClassifier(random_state=0)
                ),
            ),
            (
                "rule_minmax",
                lambda: make_pipeline(
                    MinMaxScaler(), StructuralPlasticityClassifier(random_state=0)
                ),
            ),
            (
                "mlp_standard",
                lambda: make_pipeline(
                    StandardScaler(), MLPClassifier(max_iter=1000, random_state=0)
                ),
            ),
        ):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row[label] = float(cross_val_score(make(), X, y, cv=cv).mean())
            row[label + "_s"] = time.perf_counter() - t0
        row["gap_points"] = 100 * (
            min(row["rule_standard"], row["rule_minmax"]) - row["mlp_standard"]
        )
        rows.append(row)
        print(row, flush=True)
    print()
    print(
        "| data set | rule, StandardScaler | rule, MinMaxScaler | MLP, StandardScaler | worst gap |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataset']} | {100 * r['rule_standard']:.2f} % ({r['rule_standard_s']:.1f} s) | "
            f"{100 * r['rule_minmax']:.2f} % ({r['rule_minmax_s']:.1f} s) | "
            f"{100 * r['mlp_standard']:.2f} % ({r['mlp_standard_s']:.1f} s) | "
            f"{r['gap_points']:+.2f} points |"
        )
    return rows


def _parse_setting(text):
    """``NAME=VALUE`` with the value as JSON (a bare word stays a string)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"--set takes NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--parts",
        nargs="+",
        default=["defaults", "small"],
        choices=["defaults", "frontier", "small"],
    )
    p.add_argument(
        "--budgets", nargs="+", type=int, default=[1000, 3000, 10000, 20000, 50000, 100000, 200000]
    )
    p.add_argument("--mlp-sizes", nargs="+", type=int, default=[10, 30, 100, 300, 1000])
    p.add_argument("--n-train", type=int, default=None, help="first N MNIST training images only")
    p.add_argument("--n-info", type=int, default=3000, help="samples for I(X;Z) (0: skip)")
    p.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="(defaults part) change these parameters of the rule, values as JSON",
    )
    p.add_argument("--out", default="structural_defaults_out")
    args = p.parse_args(argv)
    args.set = dict(_parse_setting(s) for s in args.set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores, load {_load_avg():.2f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    for part in args.parts:
        rows = {"defaults": defaults, "frontier": frontier, "small": small}[part](args)
        (out / f"{part}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
