"""Energy of learning with competitive plasticity (van Rossum & Pache 2024).

``python benches/run.py energy`` measures, on MNIST with the reference settings
(784 + bias → N → 10, leaky ReLU, linear output + MSE, η = 0.01, N(0, 0.03),
inputs shifted, centred and jittered, stop at 95% test accuracy checked
every 2,000 samples):

* ``fidelity``: plain backprop and top-10%-per-layer over several seeds
  (epochs to 95%, M0, M1, M0_min, M1_min) next to the authors' figures;
* ``speed``: the plain run against a faithful plain-NumPy re-implementation
  of the reference online loop (per-sample NumPy updates, per-pattern test
  loop, as in ``frugal_24``), both in this process, as a wall-time ratio;
* ``sklearn``: ``MLPClassifier(hidden_layer_sizes=(100,))`` accuracy and fit
  time, and the time our plain online SGD needs to reach the same accuracy;
* ``sweep``: N_hidden × algorithm table (joblib-parallel), log-log plots of
  M0/M1 against N_hidden and accuracy against energy (PNG);
* ``caching``: synaptic caching in the eLife setting (784-100-10 logistic,
  η = 0.1, 93%): M1 against M1_min.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import time

import numpy as np

#: The authors' code on this project's MNIST (van Rossum & Pache 2024, vanrossumlab/frugal_24, run by this project), N_hidden = 100.
ANCHOR = {
    "plain": {
        "epochs": 0.667,
        "M0": 3.18e9,
        "M0_min": 7.95e4,
        "M1": 6.14e4,
        "M1_min": 912,
        "wall_s": 10.8,
    },
    "top10": {
        "epochs": 0.900,
        "M0": 4.29e8,
        "M0_min": 7.95e4,
        "M1": 5.83e4,
        "M1_min": 1205,
        "wall_s": 23.6,
    },
}

PARTS = ("fidelity", "speed", "sklearn", "sweep", "caching")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--seeds", type=int, default=5, help="seeds of the fidelity runs")
    p.add_argument(
        "--hidden",
        type=int,
        nargs="+",
        default=[100, 300, 1000, 3000],
        help="N_hidden values of the sweep",
    )
    p.add_argument(
        "--algorithms",
        nargs="+",
        default=None,
        help="sweep algorithms (default: all; see ALGORITHMS)",
    )
    p.add_argument("--sweep-seeds", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2, help="joblib workers of the sweep")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the sweep on a Dask cluster through joblib's dask backend "
        "(scheduler address, e.g. tcp://host:8786; workers need synaplast installed, "
        "each runs its kernels on the threads it was given)",
    )
    p.add_argument("--max-epochs", type=float, default=5.0)
    p.add_argument("--out", default=".", help="folder for PNG plots and JSON (default: here)")
    p.add_argument("--quiet", action="store_true")
    p.add_argument(
        "--plot-json",
        nargs="+",
        default=None,
        help="only merge the sweep rows of these JSON files (written by earlier "
        "sweeps) into one table and one set of plots",
    )


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------

_DATA = {}


def mnist(seed: int = 0):
    """MNIST preprocessed as the reference (``frugal_preprocess``)."""
    if seed not in _DATA:
        from synaplast import datasets, frugal_preprocess

        X_tr, y_tr, X_te, y_te = datasets.load_mnist()
        X_tr, X_te = frugal_preprocess(X_tr, X_te, random_state=seed)
        _DATA[seed] = (X_tr, y_tr, X_te, y_te)
    return _DATA[seed]


def dump_mnist(out_dir, seed: int = 0) -> None:
    """Write the preprocessed MNIST as raw little-endian files for the Rust
    profiling example (``cargo run --release --example competitive_speed -- DIR``)."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X_tr, y_tr, X_te, y_te = mnist(seed)
    np.ascontiguousarray(X_tr, "<f4").tofile(out / "xtr.f32")
    np.asarray(y_tr, "<u4").tofile(out / "ytr.u32")
    np.ascontiguousarray(X_te, "<f4").tofile(out / "xte.f32")
    np.asarray(y_te, "<u4").tofile(out / "yte.u32")


# ---------------------------------------------------------------------------
# the reference online loop in plain NumPy (timing anchor)
# ---------------------------------------------------------------------------


def numpy_reference(
    X_tr,
    y_tr,
    X_te,
    y_te,
    n_hidden=100,
    eta=0.01,
    init_std=0.03,
    target=0.95,
    interval=2000,
    max_epochs=5,
    seed=0,
):
    """Plain online backprop exactly as the reference code structures it.

    Inputs with a bias column appended, weights ``(n_in, n_out)`` float32,
    the first hidden unit clamped to 1 as the output layer's bias, one random
    pattern per step (``random.randrange``), per-layer ``outer`` updates with
    ``count_nonzero``/``abs().sum()`` energy counting, and a test every
    ``interval`` samples that loops over the test patterns one by one.
    Returns a dict with epochs, M0, M1, M0_min, M1_min, accuracy, wall_s.
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    rs = np.random.RandomState(seed)
    random.seed(seed)
    tr = np.hstack([X_tr, np.ones((len(X_tr), 1), np.float32)]).astype(np.float32)
    te = np.hstack([X_te, np.ones((len(X_te), 1), np.float32)]).astype(np.float32)
    goal = np.eye(10, dtype=np.float32)[y_tr]
    w = [
        rs.normal(0, init_std, (tr.shape[1], n_hidden)).astype(np.float32),
        rs.normal(0, init_std, (n_hidden, 10)).astype(np.float32),
    ]
    w_init = [m.copy() for m in w]
    lr = np.float32(eta)
    m0 = [0, 0]
    m1 = [0.0, 0.0]
    it = 0
    acc = 0.0
    done = False
    for _epoch in range(max_epochs):
        for _ in range(len(tr)):
            it += 1
            i = random.randrange(len(tr))
            y0 = tr[i]
            z = y0 @ w[0]
            y1 = np.where(z > 0, z, np.float32(0.1) * z)
            y1[0] = 1.0
            y2 = y1 @ w[1]
            e2 = goal[i] - y2
            e1 = np.where(y1 > 0, np.float32(1.0), np.float32(0.1)) * (w[1] @ e2)
            for layer, (pre, err) in enumerate(((y0, e1), (y1, e2))):
                dw = lr * np.outer(pre, err)
                w[layer] += dw
                m0[layer] += int(np.count_nonzero(dw))
                m1[layer] += float(np.abs(dw).sum())
            if it % interval == 0:
                wrong = 0
                for j in range(len(te)):
                    h = te[j] @ w[0]
                    h = np.where(h > 0, h, np.float32(0.1) * h)
                    h[0] = 1.0
                    wrong += int(np.argmax(h @ w[1]) != y_te[j])
                acc = 1.0 - wrong / len(te)
                if acc >= target:
                    done = True
                    break
        if done:
            break
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {
        "cpu_s": cpu,
        "epochs": it / len(tr),
        "accuracy": acc,
        "M0": sum(m0),
        "M1": sum(m1),
        "M0_min": int(sum(np.count_nonzero(a != b) for a, b in zip(w, w_init, strict=True))),
        "M1_min": float(sum(np.abs(a - b).sum() for a, b in zip(w, w_init, strict=True))),
        "wall_s": wall,
    }


# ---------------------------------------------------------------------------
# our runs
# ---------------------------------------------------------------------------

#: Sweep algorithms: name -> estimator parameters.
ALGORITHMS = {
    "plain": {},
    "top 0.1": {"update_fraction": 0.1, "output_fraction": "scaled"},
    "top 0.01": {"update_fraction": 0.01, "output_fraction": "scaled"},
    "top 0.001": {"update_fraction": 0.001, "output_fraction": "scaled"},
    "path 32": {"plastic_units": 32, "plastic_mode": "error"},
    "path 64": {"plastic_units": 64, "plastic_mode": "error"},
    "path 128": {"plastic_units": 128, "plastic_mode": "error"},
    "path 64 + top 0.5": {
        "plastic_units": 64,
        "plastic_mode": "error",
        "update_fraction": 0.5,
        "output_fraction": 1.0,
    },
    "path 128 + top 0.1": {
        "plastic_units": 128,
        "plastic_mode": "error",
        "update_fraction": 0.1,
        "output_fraction": "scaled",
    },
    # Wider paths for the large networks (skipped where N_hidden <= k).
    "path 512 + top 0.1": {
        "plastic_units": 512,
        "plastic_mode": "error",
        "update_fraction": 0.1,
        "output_fraction": "scaled",
    },
    "path 1024 + top 0.1": {
        "plastic_units": 1024,
        "plastic_mode": "error",
        "update_fraction": 0.1,
        "output_fraction": "scaled",
    },
}


def run_ours(n_hidden=100, seed=0, max_epochs=5.0, target=0.95, data_seed=0, **params):
    """Fit on MNIST with the reference settings; returns a result dict with history."""
    from synaplast import CompetitivePlasticityClassifier

    X_tr, y_tr, X_te, y_te = mnist(data_seed)
    clf = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(n_hidden,),
        target_accuracy=target,
        max_epochs=max_epochs,
        random_state=seed,
        **params,
    )
    t0 = time.perf_counter()
    c0 = time.process_time()
    clf.fit(X_tr, y_tr, eval_set=(X_te, y_te))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    e = clf.energy_
    return {
        "n_hidden": n_hidden,
        "seed": seed,
        "params": params,
        "reached": bool(clf.reached_target_),
        "epochs": clf.epochs_,
        "accuracy": clf.history_[-1]["accuracy"] if clf.history_ else float("nan"),
        "M0": e.writes,
        "M1": e.abs_change,
        "M0_min": e.min_writes,
        "M1_min": e.min_abs_change,
        "layers": clf.layer_energy_,
        "details": {k: v for k, v in e.details.items() if not isinstance(v, list | dict)},
        "history": clf.history_,
        "wall_s": wall,
        "cpu_s": cpu,
    }


def _sweep_job(name, n_hidden, seed, max_epochs):
    import synaplast

    synaplast.set_num_threads(1)
    r = run_ours(n_hidden, seed, max_epochs, **ALGORITHMS[name])
    r["algorithm"] = name
    return r


# ---------------------------------------------------------------------------
# parts
# ---------------------------------------------------------------------------


def _pm(v, ref):
    return f"{v:.3g} ({(v / ref - 1) * 100:+.0f}%)"


def fidelity(seeds=5, max_epochs=5.0, log=print):
    rows = []
    for name, params in (("plain", {}), ("top10", {"update_fraction": 0.1})):
        for s in range(seeds):
            r = run_ours(100, seed=s, max_epochs=max_epochs, data_seed=s, **params)
            r["algorithm"] = name
            rows.append(r)
            log(
                f"  fidelity {name} seed {s}: epochs {r['epochs']:.3f} M0 {r['M0']:.3g} "
                f"M1 {r['M1']:.3g} ({r['wall_s']:.1f} s)"
            )
    lines = [
        "| algorithm | seed | epochs to 95% | M0 (vs anchor) | M0_min | M1 (vs anchor) | M1_min | wall (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a = ANCHOR[r["algorithm"]]
        lines.append(
            f"| {r['algorithm']} | {r['seed']} | {r['epochs']:.3f} | {_pm(r['M0'], a['M0'])} | "
            f"{r['M0_min']:.3g} | {_pm(r['M1'], a['M1'])} | {r['M1_min']:.4g} | {r['wall_s']:.1f} |"
        )
    for name in ("plain", "top10"):
        sel = [r for r in rows if r["algorithm"] == name]
        a = ANCHOR[name]
        ep = np.mean([r["epochs"] for r in sel])
        m0 = np.mean([r["M0"] for r in sel])
        m1 = np.mean([r["M1"] for r in sel])
        lines.append(
            f"| **{name} mean of {len(sel)}** | | {ep:.3f} (anchor {a['epochs']}) | {_pm(m0, a['M0'])} | "
            f"{np.mean([r['M0_min'] for r in sel]):.3g} | {_pm(m1, a['M1'])} | "
            f"{np.mean([r['M1_min'] for r in sel]):.4g} | |"
        )
    return rows, "\n".join(lines)


def speed(log=print):
    import synaplast

    X_tr, y_tr, X_te, y_te = mnist(0)
    ref = numpy_reference(X_tr, y_tr, X_te, y_te, seed=0)
    log(f"  numpy reference: {ref['epochs']:.3f} epochs, {ref['wall_s']:.1f} s")
    out = {"numpy": ref}
    for threads in (1, 2):
        with synaplast.threads(threads):
            r = run_ours(100, seed=0)
        out[f"ours_{threads}t"] = r
        log(f"  synaplast {threads} thread(s): {r['epochs']:.3f} epochs, {r['wall_s']:.2f} s")
    # Wall time on a shared machine depends on its load; CPU time is shown too
    # (all runs here are single-threaded except "2 threads").
    lines = [
        "| run | epochs to 95% | samples | wall (s) | CPU (s) | wall per 10k samples (incl. tests) "
        "| NumPy wall / ours | NumPy CPU / ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ref_rate = ref["wall_s"] / (ref["epochs"] * 6)
    lines.append(
        f"| NumPy reference loop | {ref['epochs']:.3f} | {round(ref['epochs'] * 60000)} | "
        f"{ref['wall_s']:.2f} | {ref['cpu_s']:.2f} | {ref_rate:.3f} | 1 | 1 |"
    )
    for threads in (1, 2):
        r = out[f"ours_{threads}t"]
        rate = r["wall_s"] / (r["epochs"] * 6)
        lines.append(
            f"| synaplast, {threads} thread(s) | {r['epochs']:.3f} | "
            f"{round(r['epochs'] * 60000)} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {rate:.3f} | "
            f"{ref['wall_s'] / r['wall_s']:.1f}x (per sample {ref_rate / rate:.1f}x) | "
            f"{ref['cpu_s'] / r['cpu_s']:.1f}x |"
        )
    return out, "\n".join(lines)


def against_sklearn(max_epochs=5.0, log=print):
    from sklearn.neural_network import MLPClassifier

    from synaplast import CompetitivePlasticityClassifier, datasets

    X_tr, y_tr, X_te, y_te = datasets.load_mnist()
    sk = MLPClassifier(hidden_layer_sizes=(100,), max_iter=20, random_state=0)
    t0 = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X_tr, y_tr)
    t_sk = time.perf_counter() - t0
    acc_sk = sk.score(X_te, y_te)
    log(f"  sklearn MLPClassifier: {acc_sk:.4f} in {t_sk:.1f} s")
    Xp_tr, y_tr2, Xp_te, y_te2 = mnist(0)
    clf = CompetitivePlasticityClassifier(
        target_accuracy=acc_sk, max_epochs=max_epochs, random_state=0
    )
    t0 = time.perf_counter()
    clf.fit(Xp_tr, y_tr2, eval_set=(Xp_te, y_te2))
    t_ours = time.perf_counter() - t0
    best = max(h["accuracy"] for h in clf.history_)
    log(f"  synaplast plain SGD: best {best:.4f}, reached={clf.reached_target_} in {t_ours:.1f} s")
    # time to sklearn-like intermediate levels from our history
    lines = [
        "| model | test accuracy | fit time (s) | epochs |",
        "|---|---|---|---|",
        f"| sklearn MLPClassifier(100,), Adam, batch 200, 20 epochs | {acc_sk:.4f} | {t_sk:.1f} | 20 |",
        f"| synaplast plain online SGD (η=0.01), stop at sklearn's accuracy | best {best:.4f} "
        f"({'reached' if clf.reached_target_ else 'not reached'}) | {t_ours:.1f} | {clf.epochs_:.2f} |",
    ]
    for level in (0.95, 0.96, 0.97):
        hit = next((h for h in clf.history_ if h["accuracy"] >= level), None)
        if hit is not None:
            frac = hit["samples"] / clf.n_samples_seen_
            lines.append(
                f"| synaplast, first checkpoint ≥ {level:.0%} | {hit['accuracy']:.4f} | "
                f"≈{t_ours * frac:.1f} | {hit['epochs']:.2f} |"
            )
    return {
        "sklearn_acc": acc_sk,
        "sklearn_s": t_sk,
        "ours_best": best,
        "ours_s": t_ours,
        "ours_epochs": clf.epochs_,
    }, "\n".join(lines)


class _ByValue:
    """A function of this module that pickles by value: Dask's scheduler and
    workers have no ``benches/`` on their path, and Dask pickles tasks with
    the standard pickle (by reference) whenever it can."""

    def __init__(self, fn):
        self.fn = fn

    def __reduce__(self):
        import sys

        import cloudpickle

        cloudpickle.register_pickle_by_value(sys.modules[__name__])
        try:
            return cloudpickle.loads, (cloudpickle.dumps(self.fn),)
        finally:
            cloudpickle.unregister_pickle_by_value(sys.modules[__name__])

    def __call__(self, *args):
        return self.fn(*args)


def _dask_backend(scheduler):
    """A client of the cluster at ``scheduler`` and joblib's dask backend on it."""
    import joblib
    from distributed import Client

    client = Client(scheduler)
    return client, joblib.parallel_backend("dask")


def sweep(
    hidden=(100, 300, 1000, 3000),
    algorithms=None,
    seeds=1,
    jobs=2,
    max_epochs=5.0,
    log=print,
    scheduler=None,
):
    from contextlib import nullcontext

    from joblib import Parallel, delayed

    names = list(algorithms or ALGORITHMS)
    for n in names:
        if n not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {n!r}; choose from {list(ALGORITHMS)}")
    tasks = [
        (a, n, s)
        for n in hidden
        for a in names
        for s in range(seeds)
        if not (ALGORITHMS[a].get("plastic_units", 0) >= n)
    ]
    t0 = time.perf_counter()
    rows = []
    client, backend = _dask_backend(scheduler) if scheduler else (None, nullcontext())
    try:
        with backend:
            gen = Parallel(n_jobs=jobs, verbose=0, return_as="generator_unordered")(
                delayed(_ByValue(_sweep_job))(a, n, s, max_epochs) for a, n, s in tasks
            )
            for r in gen:
                rows.append(r)
                log(
                    f"  [{len(rows)}/{len(tasks)}] N={r['n_hidden']} {r['algorithm']}: "
                    f"reached={r['reached']} epochs={r['epochs']:.3f} M0={r['M0']:.3g} "
                    f"M1={r['M1']:.3g} M0_min={r['M0_min']:.3g} M1_min={r['M1_min']:.4g} "
                    f"({r['wall_s']:.0f} s)"
                )
    finally:
        if client is not None:
            client.close()
    log(f"  sweep: {len(rows)} runs in {time.perf_counter() - t0:.0f} s")
    return rows, sweep_table(rows)


def sweep_table(rows):
    plain = {(r["n_hidden"], r["seed"]): r for r in rows if r["algorithm"] == "plain"}
    lines = [
        "| N_hidden | algorithm | reached 95% | epochs | M0 | M0/M0_min | M1 | M1/M1_min | "
        "M0 saving vs plain | time vs plain |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["n_hidden"], list(ALGORITHMS).index(r["algorithm"]))):
        p = plain.get((r["n_hidden"], r["seed"]))
        save = f"{p['M0'] / r['M0']:.1f}x" if p else "–"
        tvs = f"{r['epochs'] / p['epochs']:.2f}x" if p else "–"
        lines.append(
            f"| {r['n_hidden']} | {r['algorithm']} | {'yes' if r['reached'] else 'no'} | "
            f"{r['epochs']:.3f} | {r['M0']:.3g} | {r['M0'] / max(r['M0_min'], 1):.3g} | "
            f"{r['M1']:.3g} | {r['M1'] / max(r['M1_min'], 1e-12):.3g} | {save} | {tvs} |"
        )
    return "\n".join(lines)


def plot_sweep(rows, out_dir):
    """PNGs of the sweep: energy against N_hidden and accuracy against energy."""
    from synaplast.plotting import accuracy_vs_energy, energy_vs_hidden, save_figures

    n_plot = min(r["n_hidden"] for r in rows)
    figs = {
        "energy_vs_hidden": energy_vs_hidden(rows, ALGORITHMS),
        "accuracy_vs_energy": accuracy_vs_energy(rows, ALGORITHMS, n_plot),
    }
    return save_figures(figs, out_dir)


def caching(max_epochs=5.0, log=print, thresholds=(0.05, 0.5), costs=(0.0, 1e-5)):
    """eLife setting: 784-100-10 logistic, η = 0.1, stop at 93%."""
    base = {"activation": "sigmoid", "learning_rate": 0.1}
    rows = []
    r = run_ours(100, 0, max_epochs, target=0.93, **base)
    r["algorithm"] = "plain (no caching)"
    rows.append(r)
    for theta in thresholds:
        for c in costs:
            r = run_ours(
                100,
                0,
                max_epochs,
                target=0.93,
                caching=True,
                consolidation_threshold=theta,
                maintenance_cost=c,
                **base,
            )
            r["algorithm"] = f"caching θ={theta}, c={c}"
            rows.append(r)
            log(f"  {r['algorithm']}: M1/M1_min {r['M1'] / r['M1_min']:.2f}")
    lines = [
        "| setting | epochs to 93% | M1 (consolidation + maintenance) | consolidation | maintenance | "
        "M1_min | M1/M1_min | M0 (persistent writes) / M0_min |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d = r["details"]
        lines.append(
            f"| {r['algorithm']} | {r['epochs']:.3f} | {r['M1']:.4g} | "
            f"{d.get('consolidation_energy', float('nan')):.4g} | "
            f"{d.get('maintenance_energy', float('nan')):.4g} | {r['M1_min']:.4g} | "
            f"{r['M1'] / r['M1_min']:.2f} | {r['M0'] / max(r['M0_min'], 1):.3g} |"
        )
    return rows, "\n".join(lines)


def run(args) -> int:
    if "sweep" in args.parts:
        from synaplast.plotting import require_matplotlib

        require_matplotlib()  # the sweep plots: fail before training, with the hint
    from suites import machine

    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    if args.plot_json:
        rows = []
        for path in args.plot_json:
            with open(path) as fh:
                rows += json.load(fh).get("sweep", [])
        print(sweep_table(rows))
        for p in plot_sweep(rows, args.out):
            print(f"plot: {p}")
        return 0
    header = f"{machine()}; {datetime.date.today()}"
    print(f"Competitive plasticity energy benchmark — {header}")
    results = {}
    if "fidelity" in args.parts:
        rows, table = fidelity(args.seeds, args.max_epochs, log)
        results["fidelity"] = rows
        print("\n### Figure 1 fidelity (N_hidden = 100, 95%)\n\n" + table)
    if "speed" in args.parts:
        out, table = speed(log)
        results["speed"] = out
        print("\n### Speed against the NumPy reference loop\n\n" + table)
    if "sklearn" in args.parts:
        out, table = against_sklearn(args.max_epochs, log)
        results["sklearn"] = out
        print("\n### Against scikit-learn\n\n" + table)
    if "sweep" in args.parts:
        rows, table = sweep(
            args.hidden,
            args.algorithms,
            args.sweep_seeds,
            args.jobs,
            args.max_epochs,
            log,
            scheduler=args.scheduler,
        )
        results["sweep"] = rows
        print("\n### Savings sweep\n\n" + table)
        for p in plot_sweep(rows, args.out):
            print(f"\nplot: {p}")
    if "caching" in args.parts:
        rows, table = caching(args.max_epochs, log)
        results["caching"] = rows
        print("\n### Synaptic caching (eLife setting, 93%)\n\n" + table)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"energy_{'_'.join(args.parts)}.json")
    with open(path, "w") as fh:
        json.dump(results, fh, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
    print(f"\nraw results: {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    raise SystemExit(run(parser.parse_args()))
