"""Structural-plasticity classifier against backprop (Table 2 layout).

``compare(...)`` trains :class:`~synaplast.StructuralPlasticityClassifier`,
scikit-learn's ``MLPClassifier`` (backprop, same hidden size) and a
non-negative backprop MLP (projected gradient, Chorowski & Zurada 2015) on
the same data, and prints one table: test accuracy, non-silent input→hidden
synapses, ``I(X;Z)`` (VIB estimate on the hidden code), ``C_S = I(X;Z) /
synapses``, synaptic writes during learning (energy) and fit time.
``synaplast bench structural`` runs it; ``--plot DIR`` writes PNGs of the
receptive fields, the synapse count over training and the weight histogram
with its lognormal fit.
"""

from __future__ import annotations

import time

import numpy as np

from synaplast.benchmarks import machine

__all__ = ["NonNegativeMLP", "add_arguments", "compare", "plot", "run"]


class NonNegativeMLP:
    """One-hidden-layer ReLU MLP trained by backprop (Adam, softmax
    cross-entropy) with the input→hidden weights projected onto ``w >= 0``
    after every step (projected gradient, as in Chorowski & Zurada 2015 for
    non-negative networks; the readout keeps its sign, as in the Hebbian
    model). Weights clamped to exactly 0 are silent synapses.
    """

    def __init__(self, n_hidden=100, max_iter=20, batch_size=200, lr=1e-3, random_state=0):
        self.n_hidden = n_hidden
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def fit(self, X, y):
        rng = np.random.RandomState(self.random_state)
        self.classes_, yi = np.unique(y, return_inverse=True)
        n, d = X.shape
        c, h = len(self.classes_), self.n_hidden
        X = X.astype(np.float32)
        T = np.eye(c, dtype=np.float32)[yi]
        p = {
            "W1": np.abs(rng.normal(0, np.sqrt(2.0 / d), (d, h))).astype(np.float32),
            "b1": np.zeros(h, np.float32),
            "W2": rng.normal(0, np.sqrt(2.0 / h), (h, c)).astype(np.float32),
            "b2": np.zeros(c, np.float32),
        }
        m = {k: np.zeros_like(v) for k, v in p.items()}
        v = {k: np.zeros_like(val) for k, val in p.items()}
        step, self.writes_ = 0, 0
        for _ in range(self.max_iter):
            order = rng.permutation(n)
            for s in range(0, n, self.batch_size):
                idx = order[s : s + self.batch_size]
                a = X[idx] @ p["W1"] + p["b1"]
                hdn = np.maximum(a, 0)
                o = hdn @ p["W2"] + p["b2"]
                o -= o.max(1, keepdims=True)
                pr = np.exp(o)
                pr /= pr.sum(1, keepdims=True)
                go = (pr - T[idx]) / len(idx)
                gh = (go @ p["W2"].T) * (a > 0)
                g = {"W2": hdn.T @ go, "b2": go.sum(0), "W1": X[idx].T @ gh, "b1": gh.sum(0)}
                step += 1
                for k in p:
                    m[k] = 0.9 * m[k] + 0.1 * g[k]
                    v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
                    upd = (
                        self.lr
                        * (m[k] / (1 - 0.9**step))
                        / (np.sqrt(v[k] / (1 - 0.999**step)) + 1e-8)
                    )
                    old = p[k].copy() if k == "W1" else None
                    p[k] -= upd
                    if k == "W1":
                        np.maximum(p[k], 0, out=p[k])
                        self.writes_ += int(np.count_nonzero(p[k] != old))
                    else:
                        self.writes_ += int(np.count_nonzero(upd))
        self.params_ = p
        return self

    def transform(self, X):
        return np.maximum(X @ self.params_["W1"] + self.params_["b1"], 0)

    def predict(self, X):
        o = self.transform(X) @ self.params_["W2"] + self.params_["b2"]
        return self.classes_[np.argmax(o, 1)]

    def score(self, X, y):
        return float(np.mean(self.predict(X) == y))

    @property
    def n_synapses_(self):
        return int(np.count_nonzero(self.params_["W1"]))


def _mlp_code(mlp, X):
    return np.maximum(X @ mlp.coefs_[0] + mlp.intercepts_[0], 0)


def _info(Z, y, n_info, seed):
    from synaplast.info import mutual_information_vib

    rng = np.random.RandomState(seed)
    keep = rng.choice(len(Z), min(n_info, len(Z)), replace=False)
    return mutual_information_vib(Z[keep], y[keep], epochs=30, random_state=seed)


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
                n_params = sum(w.size for w in est.coefs_) + sum(b.size for b in est.intercepts_)
                steps = est.n_iter_ * int(np.ceil(len(Xtr) / min(200, len(Xtr))))
                writes = steps * n_params  # Adam writes every parameter each step
                Z = _mlp_code(est, Xtr)
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
            bits = _info(Z, ytr, n_info, random_state)
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
        plot(last_rule, plot_dir)
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


def plot(est, out_dir):
    """PNGs: receptive fields, synapse count per epoch, weight histogram + lognormal fit."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from synaplast.analysis import lognormal_fit

    os.makedirs(out_dir, exist_ok=True)
    W = est.synapses_.to_dense()
    side = int(round(np.sqrt(W.shape[1])))
    paths = []
    if side * side == W.shape[1]:
        k = min(64, W.shape[0])
        g = int(np.ceil(np.sqrt(k)))
        fig, axes = plt.subplots(g, g, figsize=(g, g))
        for i, ax in enumerate(np.ravel(axes)):
            ax.axis("off")
            if i < k:
                ax.imshow(W[i].reshape(side, side), cmap="gray_r")
        fig.suptitle("receptive fields (input→hidden synapses)")
        paths.append(os.path.join(out_dir, "structural_receptive_fields.png"))
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot(est.synapse_history_, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("non-silent synapses")
    ax.set_yscale("log")
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "structural_synapse_count.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    w = est.synapses_.weights
    w = w[w > 0]
    fit = lognormal_fit(w)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.hist(w, bins=50, density=True, alpha=0.6)
    xs = np.linspace(max(w.min(), 1e-6), w.max(), 200)
    pdf = np.exp(-((np.log(xs) - fit["mu"]) ** 2) / (2 * fit["sigma"] ** 2)) / (
        xs * fit["sigma"] * np.sqrt(2 * np.pi)
    )
    ax.plot(xs, pdf, "r-", label=f"lognormal (KS {fit['ks_lognormal']:.3f})")
    ax.set_xlabel("weight")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(os.path.join(out_dir, "structural_weight_histogram.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    return paths


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
def _rule_input_gradient(est, X, y_idx):
    """∂CE/∂x of the rule's forward function (dense NumPy, for FGSM)."""
    W = est.synapses_.to_dense()
    u = X @ W.T - est.theta_
    s = 1.0 / (1.0 + np.exp(-u))
    fprime = np.where(u > 0, 2.0 * s * (1.0 - s), 0.0)
    p = est.predict_proba(X)
    g_out = p - np.eye(p.shape[1])[y_idx]
    return ((g_out @ est.coefs_readout_) * fprime) @ W


def _mlp_input_gradient(mlp, X, y_idx):
    a = X @ mlp.coefs_[0] + mlp.intercepts_[0]
    p = mlp.predict_proba(X)
    g_out = p - np.eye(p.shape[1])[y_idx]
    return ((g_out @ mlp.coefs_[1].T) * (a > 0)) @ mlp.coefs_[0].T


def fgsm(est, X, y, eps, kind="rule"):
    """Accuracy under the fast gradient sign attack ``x + ε sign(∂CE/∂x)``, clipped to [0, 1]."""
    y_idx = np.searchsorted(est.classes_, y)
    grad = (
        _rule_input_gradient(est, X, y_idx)
        if kind == "rule"
        else _mlp_input_gradient(est, X, y_idx)
    )
    Xa = np.clip(X + eps * np.sign(grad), 0.0, 1.0).astype(np.float32)
    return float(np.mean(est.predict(Xa) == y))


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
                "rule": fgsm(er, Xte, yte, e, "rule"),
                "bp": fgsm(eb, Xte, yte, e, "bp"),
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
            out["rule_I_XZ"] = _info(rule.transform(Xtr), ytr, n_info, random_state)
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
        out["rule_I_XZ"] = _info(rule.transform(Xtr), ytr, n_info, random_state)
        out["bp_I_XZ"] = _info(_mlp_code(mlp, Xtr), ytr, n_info, random_state)
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
