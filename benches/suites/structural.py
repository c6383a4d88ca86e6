"""Structural-plasticity classifier against backprop (Table 2 layout).

``compare(...)`` trains :class:`~synaplast.StructuralPlasticityClassifier`,
scikit-learn's ``MLPClassifier`` (backprop, same hidden size) and a
non-negative backprop MLP (projected gradient, Chorowski & Zurada 2015) on
the same data, and prints one table: test accuracy, non-silent input→hidden
synapses, ``I(X;Z)`` (VIB estimate on the hidden code), ``C_S = I(X;Z) /
synapses``, synaptic writes during learning (energy) and fit time.
``python benches/run.py structural`` runs it; ``--plot DIR`` writes PNGs of the
receptive fields, the synapse count over training and the weight histogram
with its lognormal fit.
"""

from __future__ import annotations

import time

import numpy as np

from suites import machine
from synaplast.analysis import fgsm_accuracy
from synaplast.compare import compare, hidden_code, information

__all__ = ["add_arguments", "robustness_and_transfer", "run", "speed"]


def add_arguments(parser):
    parser.add_argument("--classes", default="1,2,6", help="digits to keep, or 'all'")
    parser.add_argument("--hidden", default="10,30,100,200", help="hidden sizes")
    parser.add_argument("--max-synapses", type=int, default=1000)
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--methods", default="rule,bp,bp_nonneg")
    parser.add_argument("--bp-max-iter", type=int, default=30)
    parser.add_argument("--competition-rate", type=float, default=None)
    parser.add_argument("--max-iter", type=int, default=6, help="epochs of the rule")
    parser.add_argument("--w-max", type=float, default=None, help="rule's weight bound")
    parser.add_argument("--target-activity", type=float, default=None)
    parser.add_argument("--readout-learning-rate", type=float, default=None)
    parser.add_argument("--readout-decay", type=float, default=None)
    parser.add_argument("--readout-max-iter", type=int, default=None)
    parser.add_argument("--n-inhibitory", type=int, default=None)
    parser.add_argument("--inhibition-rate", type=float, default=None)
    parser.add_argument("--n-info", type=int, default=2000, help="samples for I(X;Z)")
    parser.add_argument("--plot", default=None, metavar="DIR", help="write PNGs here")
    parser.add_argument("--dataset", choices=("auto", "mnist", "digits"), default="auto")


def run(args):
    if args.plot:
        from synaplast.plotting import require_matplotlib

        require_matplotlib()  # fail before any training, with the install hint
    from datetime import date

    subset = None if args.classes == "all" else tuple(int(c) for c in args.classes.split(","))
    rule = {"max_iter": args.max_iter}
    for name in (
        "competition_rate",
        "w_max",
        "target_activity",
        "readout_learning_rate",
        "readout_decay",
        "readout_max_iter",
        "n_inhibitory",
        "inhibition_rate",
    ):
        if getattr(args, name, None) is not None:
            rule[name] = getattr(args, name)
    print(f"# structural classifier vs backprop — {machine()} — {date.today()}")
    compare(
        subset=subset,
        hidden_sizes=tuple(int(h) for h in args.hidden.split(",")),
        max_synapses=args.max_synapses,
        n_train=args.n_train,
        methods=tuple(args.methods.split(",")),
        rule_params=rule,
        bp_max_iter=args.bp_max_iter,
        n_info=args.n_info,
        plot_dir=args.plot,
        dataset=args.dataset,
    )
    return 0


# --------------------------------------------------------------- figure 4
def robustness_and_transfer(
    n_hidden=1000,
    max_synapses=20000,
    shots=(1, 5, 10, 50),
    eps=(0.05, 0.1, 0.2),
    n_train=None,
    n_test=2000,
    rule_params=None,
    bp_max_iter=30,
    random_state=0,
    verbose=True,
):
    """Figure 4: few-shot accuracy, FGSM robustness and continual learning,
    the rule against ``MLPClassifier`` of the same hidden size on the same
    samples. Returns a dict of results (numbers whatever they are)."""
    import warnings

    from sklearn.neural_network import MLPClassifier

    from synaplast import StructuralPlasticityClassifier
    from synaplast.datasets import load_mnist

    Xtr, ytr, Xte, yte = load_mnist()
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    Xte, yte = Xte[:n_test], yte[:n_test]
    rp = {"random_state": random_state, **(rule_params or {})}

    def rule():
        return StructuralPlasticityClassifier(n_hidden=n_hidden, max_synapses=max_synapses, **rp)

    def mlp(iters=bp_max_iter):
        return MLPClassifier(
            hidden_layer_sizes=(n_hidden,), max_iter=iters, random_state=random_state
        )

    out = {"few_shot": [], "fgsm": [], "continual": {}}
    rng = np.random.RandomState(random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in shots:
            idx = np.concatenate(
                [rng.choice(np.flatnonzero(ytr == c), k, replace=False) for c in range(10)]
            )
            r = rule().fit(Xtr[idx], ytr[idx]).score(Xte, yte)
            b = mlp(200).fit(Xtr[idx], ytr[idx]).score(Xte, yte)
            out["few_shot"].append({"shots": k, "rule": r, "bp": b})
            if verbose:
                print(f"few-shot {k}/class: rule {r:.4f}  bp {b:.4f}", flush=True)
        er = rule().fit(Xtr, ytr)
        eb = mlp().fit(Xtr, ytr)
        row = {"eps": 0.0, "rule": er.score(Xte, yte), "bp": eb.score(Xte, yte)}
        out["fgsm"].append(row)
        for e in eps:
            row = {
                "eps": e,
                "rule": fgsm_accuracy(er, Xte, yte, e),
                "bp": fgsm_accuracy(eb, Xte, yte, e),
            }
            out["fgsm"].append(row)
            if verbose:
                print(f"FGSM eps {e}: rule {row['rule']:.4f}  bp {row['bp']:.4f}", flush=True)
        a, b_ = ytr < 5, ytr >= 5
        ta = yte < 5
        classes = np.arange(10)
        rc = rule()
        bc = mlp()
        epochs = rp.get("max_iter", 6)
        for _ in range(epochs):
            rc.partial_fit(Xtr[a], ytr[a], classes=classes)
            bc.partial_fit(Xtr[a], ytr[a], classes=classes)
        r1, b1 = rc.score(Xte[ta], yte[ta]), bc.score(Xte[ta], yte[ta])
        for _ in range(epochs):
            rc.partial_fit(Xtr[b_], ytr[b_])
            bc.partial_fit(Xtr[b_], ytr[b_])
        out["continual"] = {
            "task1_after_task1": {"rule": r1, "bp": b1},
            "task1_after_task2": {
                "rule": rc.score(Xte[ta], yte[ta]),
                "bp": bc.score(Xte[ta], yte[ta]),
            },
            "task2_after_task2": {
                "rule": rc.score(Xte[~ta], yte[~ta]),
                "bp": bc.score(Xte[~ta], yte[~ta]),
            },
        }
        if verbose:
            print("continual:", out["continual"], flush=True)
    return out


# --------------------------------------------------------------- figure 5
FIG3_RULE = dict(
    n_hidden=4000,
    max_synapses=20000,
    competition_rate=10,
    max_iter=6,
    readout_learning_rate=3.0,
    readout_decay=0.5,
    readout_max_iter=10,
)


def speed(
    rule_params=None,
    bp_max_iter=5,
    n_train=None,
    n_test=None,
    n_info=3000,
    random_state=0,
    verbose=True,
):
    """Figure 5: full training of the rule (figure-3 configuration) and of
    ``MLPClassifier`` with the same hidden size, one after the other in this
    process on the same data, each to its own accuracy. Returns a dict with
    accuracy, fit time, synapses, ``I(X;Z)`` and ``C_S`` of both, the time
    ratio rule/BP, and the load average before each fit. ``bp_max_iter=0``
    trains the rule only."""
    import os
    import warnings

    from sklearn.neural_network import MLPClassifier

    from synaplast import StructuralPlasticityClassifier
    from synaplast.datasets import load_mnist

    Xtr, ytr, Xte, yte = load_mnist()
    if n_train is not None:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    if n_test is not None:
        Xte, yte = Xte[:n_test], yte[:n_test]
    params = dict(FIG3_RULE, random_state=random_state, **(rule_params or {}))
    out = {"rule_params": params, "bp_max_iter": bp_max_iter, "n_train": len(Xtr)}
    out["load_before_rule"] = os.getloadavg()
    t0 = time.perf_counter()
    rule = StructuralPlasticityClassifier(**params).fit(Xtr, ytr)
    out["rule_fit_s"] = time.perf_counter() - t0
    out["rule_acc"] = float(rule.score(Xte, yte))
    out["rule_synapses"] = int(rule.synapses_.nnz)
    out["rule_readout_epochs"] = len(rule.readout_loss_curve_)
    if verbose:
        print(
            f"rule: {100 * out['rule_acc']:.2f}% in {out['rule_fit_s']:.1f} s, "
            f"{out['rule_synapses']:,} synapses, {out['rule_readout_epochs']} readout epochs",
            flush=True,
        )
    if not bp_max_iter:
        if n_info:
            out["rule_I_XZ"] = information(rule.transform(Xtr), ytr, n_info, random_state)
            out["rule_C_S"] = out["rule_I_XZ"] / out["rule_synapses"]
            if verbose:
                print(f"I(X;Z): rule {out['rule_I_XZ']:.1f} bits, C_S {out['rule_C_S']:.4g}")
        return out
    out["load_before_bp"] = os.getloadavg()
    mlp = MLPClassifier(
        hidden_layer_sizes=(params["n_hidden"],), max_iter=bp_max_iter, random_state=random_state
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(Xtr, ytr)
    out["bp_fit_s"] = time.perf_counter() - t0
    out["bp_acc"] = float(mlp.score(Xte, yte))
    out["bp_synapses"] = int(np.count_nonzero(mlp.coefs_[0]))
    out["load_after"] = os.getloadavg()
    out["time_ratio"] = out["rule_fit_s"] / out["bp_fit_s"]
    if verbose:
        print(
            f"bp: {100 * out['bp_acc']:.2f}% in {out['bp_fit_s']:.1f} s; "
            f"time rule/BP = {out['time_ratio']:.3f}",
            flush=True,
        )
    if n_info:
        out["rule_I_XZ"] = information(rule.transform(Xtr), ytr, n_info, random_state)
        out["bp_I_XZ"] = information(hidden_code(mlp, Xtr), ytr, n_info, random_state)
        out["rule_C_S"] = out["rule_I_XZ"] / out["rule_synapses"]
        out["bp_C_S"] = out["bp_I_XZ"] / out["bp_synapses"]
        out["C_S_ratio"] = out["rule_C_S"] / out["bp_C_S"]
        if verbose:
            print(
                f"I(X;Z): rule {out['rule_I_XZ']:.1f} bits, bp {out['bp_I_XZ']:.1f} bits; "
                f"C_S rule {out['rule_C_S']:.4g}, bp {out['bp_C_S']:.4g}, "
                f"ratio {out['C_S_ratio']:.1f}x",
                flush=True,
            )
    if verbose:
        print(
            "load average (1, 5, 15 min): before rule "
            f"{out['load_before_rule']}, before bp {out['load_before_bp']}, "
            f"after {out['load_after']}"
        )
    return out
