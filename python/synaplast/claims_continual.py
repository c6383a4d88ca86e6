"""The rule's claims on continual and few-shot learning, measured against backprop.

Two experiments, each a function that returns plain dicts (rows of a table)
so that a command-line tool or a bench can print and plot them:

* :func:`class_incremental`: a class-incremental stream (tasks of new
  classes, no replay, no task label at test time) learned with
  ``partial_fit``; accuracy on every task's test classes after every task
  and on all classes at the end. :func:`continual_claim` runs it for the
  rule (:class:`~synaplast.StructuralPlasticityClassifier`, defaults) and
  for ``MLPClassifier`` trained the same way, beside both trained jointly
  (the upper bound).
* :func:`few_shot`: ``k`` labelled images per class (several random draws;
  mean and 95 % interval), the rule with its defaults on the shots alone,
  the rule whose hidden layer first learned from unlabelled images
  (:meth:`~synaplast.StructuralPlasticityClassifier.pretrain`, then
  :meth:`~synaplast.StructuralPlasticityClassifier.fit_readout` on the
  shots), and ``MLPClassifier`` tuned on the shots (best of a small grid of
  sizes and ``alpha`` by stratified cross-validation on the shots; with one
  shot per class no split is possible and the grid point best on the test
  set is taken, which favours backprop).
"""

from __future__ import annotations

import copy
import time
import warnings

import numpy as np

__all__ = [
    "SPLIT_2X5",
    "SPLIT_5X2",
    "class_incremental",
    "continual_claim",
    "few_shot",
    "few_shot_table",
    "interval95",
    "pretrained_rule",
]

#: Digits 0-4 then 5-9.
SPLIT_2X5 = ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))
#: Five tasks of two digits (split MNIST).
SPLIT_5X2 = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))

# t quantile for a 95 % interval, by degrees of freedom (normal beyond 30).
_T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 9: 2.26, 19: 2.09, 29: 2.05}


def interval95(values):
    """Mean and half-width of the 95 % t-interval of ``values``.

    Parameters
    ----------
    values : array-like of float
        Independent measurements (at least one).

    Returns
    -------
    mean, half_width : float
        ``half_width`` is 0 for a single value.
    """
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return float(v.mean()), 0.0
    df = v.size - 1
    t = _T975.get(df, 1.96 if df > 29 else _T975[max(k for k in _T975 if k <= df)])
    return float(v.mean()), float(t * v.std(ddof=1) / np.sqrt(v.size))


def _task_accuracy(model, Xte, yte, tasks):
    pred = model.predict(Xte)
    per_task = [float(np.mean(pred[np.isin(yte, t)] == yte[np.isin(yte, t)])) for t in tasks]
    return per_task, float(np.mean(pred == yte)), pred


def class_incremental(model, X, y, Xte, yte, tasks, *, epochs=1, random_state=0):
    """Learn ``tasks`` one after another with ``partial_fit`` and test after each.

    Parameters
    ----------
    model : estimator with ``partial_fit``
        Unfitted; it is told all classes on the first call.
    X, y : arrays
        Training data; task ``t`` uses the samples whose label is in
        ``tasks[t]`` (shuffled), in ``epochs`` calls of ``partial_fit``.
    Xte, yte : arrays
        Test data (all classes).
    tasks : sequence of sequences of labels
        The classes of each task, in order.
    epochs : int, default=1
        ``partial_fit`` calls (passes) per task.
    random_state : int, default=0
        Seeds the order of the samples.

    Returns
    -------
    result : dict
        ``acc``: ``acc[t][s]`` accuracy on the test samples of task ``s``
        after task ``t`` (``None`` for tasks not learned yet); ``seen``:
        accuracy on the classes seen so far after each task; ``final``:
        accuracy on all test samples at the end; ``fit_s``: seconds.
    """
    rng = np.random.RandomState(random_state)
    classes = np.unique(np.concatenate([np.asarray(t) for t in tasks]))
    acc, seen_acc = [], []
    t0 = time.perf_counter()
    for t, task in enumerate(tasks):
        idx = np.flatnonzero(np.isin(y, task))
        for _ in range(epochs):
            order = rng.permutation(idx)
            model.partial_fit(X[order], y[order], classes=classes)
        per_task, _, pred = _task_accuracy(model, Xte, yte, tasks)
        acc.append([a if s <= t else None for s, a in enumerate(per_task)])
        seen = np.isin(yte, np.concatenate([np.asarray(s) for s in tasks[: t + 1]]))
        seen_acc.append(float(np.mean(pred[seen] == yte[seen])))
    fit_s = time.perf_counter() - t0
    return {
        "acc": acc,
        "seen": seen_acc,
        "final": float(np.mean(model.predict(Xte) == yte)),
        "fit_s": fit_s,
    }


def _rule(**kw):
    from synaplast import StructuralPlasticityClassifier

    return StructuralPlasticityClassifier(random_state=0, **kw)


def _mlp(**kw):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(100,), random_state=0, **kw)


def continual_claim(X, y, Xte, yte, *, splits=None, epochs=5, joint=True, rule_kwargs=None):
    """The continual-learning table: rule and MLP, streamed and joint.

    Parameters
    ----------
    X, y, Xte, yte : arrays
        Training and test data (e.g. MNIST).
    splits : dict of name -> tasks, optional
        Streams to run; default ``{"0-4 then 5-9": SPLIT_2X5, "5 x 2 digits":
        SPLIT_5X2}``.
    epochs : int, default=5
        ``partial_fit`` passes per task for both models (the recruited
        units' synapse budget shrinks to its target over the first
        ``max_iter − 1`` of them, as in ``fit``).
    joint : bool, default=True
        Also fit both models on all classes at once (the upper bound).
    rule_kwargs : dict, optional
        Parameters of the rule (defaults otherwise).

    Returns
    -------
    rows : list of dict
        One row per (stream, model) with the :func:`class_incremental`
        result and ``first_kept`` (task-1 accuracy at the end over its value
        right after task 1); joint rows have ``final`` only.
    """
    splits = splits or {"0-4 then 5-9": SPLIT_2X5, "5 x 2 digits": SPLIT_5X2}
    rule_kwargs = rule_kwargs or {}
    makers = {
        "rule (defaults)": lambda: _rule(**rule_kwargs),
        "MLPClassifier(100)": lambda: _mlp(),
    }
    rows = []
    for name, tasks in splits.items():
        for model_name, make in makers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = class_incremental(make(), X, y, Xte, yte, tasks, epochs=epochs)
            first = res["acc"][0][0]
            res["first_kept"] = res["acc"][-1][0] / first if first else 0.0
            rows.append({"stream": name, "model": model_name, **res})
    if joint:
        for model_name, make in (
            ("rule (defaults), joint", lambda: _rule(**rule_kwargs)),
            ("MLPClassifier(100), joint", lambda: _mlp(max_iter=20)),
        ):
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = make().fit(X, y)
            rows.append(
                {
                    "stream": "joint (all classes)",
                    "model": model_name,
                    "final": float(est.score(Xte, yte)),
                    "fit_s": time.perf_counter() - t0,
                }
            )
    return rows


def _draw_shots(y, shots, rng):
    return np.concatenate(
        [rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in np.unique(y)]
    )


_MLP_GRID = [
    {"hidden_layer_sizes": (h,), "alpha": a} for h in (100, 500) for a in (1e-4, 1e-2, 1.0)
]


def _tuned_mlp(Xs, ys, Xte, yte, shots, seed):
    """The grid point with the best stratified CV accuracy on the shots
    (best on the test set when one shot per class allows no split), refit
    on all shots. Returns (test accuracy, chosen parameters)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neural_network import MLPClassifier

    def make(params):
        return MLPClassifier(max_iter=500, random_state=seed, **params)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if shots >= 2:
            cv = StratifiedKFold(n_splits=min(3, shots), shuffle=True, random_state=seed)
            scores = [cross_val_score(make(g), Xs, ys, cv=cv).mean() for g in _MLP_GRID]
            best = _MLP_GRID[int(np.argmax(scores))]
            return float(make(best).fit(Xs, ys).score(Xte, yte)), best
        tests = [make(g).fit(Xs, ys).score(Xte, yte) for g in _MLP_GRID]
        k = int(np.argmax(tests))
        return float(tests[k]), _MLP_GRID[k]


def pretrained_rule(X_unlabelled, seed=0):
    """The rule with defaults whose hidden layer learned from ``X_unlabelled``
    (:meth:`~synaplast.StructuralPlasticityClassifier.pretrain`).

    Parameters
    ----------
    X_unlabelled : array
        Unlabelled images.
    seed : int, default=0
        ``random_state`` of the model.

    Returns
    -------
    model : StructuralPlasticityClassifier
        Pretrained, without a readout; ``fit_time_`` holds the seconds.
    """
    from synaplast import StructuralPlasticityClassifier

    return StructuralPlasticityClassifier(random_state=seed).pretrain(X_unlabelled)


def few_shot(
    X, y, Xte, yte, *, shots=(1, 5, 10, 50), draws=20, X_unlabelled=None, pretrained=None, seed=0
):
    """Few-shot accuracy of the rule (two variants) and of a tuned MLP.

    Parameters
    ----------
    X, y : arrays
        Pool the labelled shots are drawn from (``shots`` per class, without
        replacement, draw ``d`` seeded by ``seed + d``).
    Xte, yte : arrays
        Test data.
    shots : sequence of int, default=(1, 5, 10, 50)
        Labelled images per class.
    draws : int, default=20
        Random draws per shot count.
    X_unlabelled : array, optional
        Unlabelled images for the pretrained variant (the hidden layer
        learns from them once, then only the readout learns from the
        shots); ``None`` skips that variant unless ``pretrained`` is given.
    pretrained : StructuralPlasticityClassifier, optional
        A model from :func:`pretrained_rule` to use instead of pretraining
        on ``X_unlabelled`` (it is copied, never changed).
    seed : int, default=0
        Base seed of the draws.

    Returns
    -------
    rows : list of dict
        Per (shots, variant): ``acc`` (one value per draw), ``mean``,
        ``ci95`` (half-width), and for the MLP the chosen grid points.
    """
    from synaplast import StructuralPlasticityClassifier

    if pretrained is None and X_unlabelled is not None:
        pretrained = pretrained_rule(X_unlabelled, seed)
    pretrain_s = None if pretrained is None else pretrained.fit_time_
    rows = []
    for k in shots:
        accs = {"rule (defaults, shots only)": [], "MLPClassifier (tuned)": []}
        if pretrained is not None:
            accs["rule (pretrained on unlabelled, readout on shots)"] = []
        chosen = []
        for d in range(draws):
            rng = np.random.RandomState(seed + d)
            idx = _draw_shots(y, k, rng)
            Xs, ys = X[idx], y[idx]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rule = StructuralPlasticityClassifier(random_state=seed + d).fit(Xs, ys)
            accs["rule (defaults, shots only)"].append(float(rule.score(Xte, yte)))
            if pretrained is not None:
                # fit_readout replaces the network: a shallow copy leaves
                # the pretrained model as it was
                model = copy.copy(pretrained).fit_readout(Xs, ys)
                accs["rule (pretrained on unlabelled, readout on shots)"].append(
                    float(model.score(Xte, yte))
                )
            a, params = _tuned_mlp(Xs, ys, Xte, yte, k, seed + d)
            accs["MLPClassifier (tuned)"].append(a)
            chosen.append(params)
        for variant, values in accs.items():
            mean, ci = interval95(values)
            row = {"shots": k, "variant": variant, "acc": values, "mean": mean, "ci95": ci}
            if variant.startswith("MLP"):
                row["chosen"] = [f"{p['hidden_layer_sizes'][0]}/{p['alpha']:g}" for p in chosen]
            if variant.startswith("rule (pretrained"):
                row["pretrain_s"] = pretrain_s
            rows.append(row)
    return rows


def few_shot_table(rows):
    """The few-shot results as a table: one row per variant, ``mean ± 95 %
    interval`` per shot count.

    Parameters
    ----------
    rows : list of dict
        Results of :func:`few_shot`.

    Returns
    -------
    header : list of str
    table : list of list of str
    """
    shots = sorted({r["shots"] for r in rows})
    header = ["variant"] + [f"{k} / class" for k in shots]
    table = []
    for v in dict.fromkeys(r["variant"] for r in rows):
        cells = {r["shots"]: r for r in rows if r["variant"] == v}
        table.append(
            [v] + [f"{100 * cells[k]['mean']:.1f} ± {100 * cells[k]['ci95']:.1f} %" for k in shots]
        )
    return header, table
