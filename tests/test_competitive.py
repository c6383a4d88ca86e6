"""CompetitivePlasticityClassifier against a dense NumPy reference, step by step."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import synaplast
from synaplast import CompetitivePlasticityClassifier, frugal_preprocess

# ----------------------------------------------------------------------------
# Dense NumPy reference of one training step (float32, like the kernels)
# ----------------------------------------------------------------------------


def _act(z, kind, slope=0.1):
    if kind == "leaky_relu":
        return np.where(z > 0, z, np.float32(slope) * z).astype(np.float32)
    if kind == "relu":
        return np.maximum(z, 0).astype(np.float32)
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)


def _dact(y, kind, slope=0.1):
    if kind == "leaky_relu":
        return np.where(y > 0, 1.0, slope).astype(np.float32)
    if kind == "relu":
        return (y > 0).astype(np.float32)
    return (y * (1 - y)).astype(np.float32)


def _kth(values, p):
    """The reference code's threshold: partition at round((1-p)(n-1))."""
    n = values.size
    k = int(np.round((1 - p) * (n - 1)))
    k = min(max(k, 0), n - 1)
    return np.partition(values, k)[k]


class RefNet:
    """Dense NumPy model mirroring the documented algorithm."""

    def __init__(
        self,
        weights,
        *,
        eta,
        fractions,
        selection="layer",
        activation="leaky_relu",
        output="linear",
        plastic=None,
        mode="fixed",
        paths=None,
        cache=None,
        clip=np.inf,
    ):
        self.W = [w.astype(np.float32).copy() for w in weights]
        self.W0 = [w.copy() for w in self.W]
        self.eta = np.float32(eta)
        self.p = fractions
        self.selection = selection
        self.activation = activation
        self.output = output
        self.plastic = plastic
        self.mode = mode
        self.paths = [np.asarray(m, bool).copy() for m in (paths or [])]
        self.cache = cache  # (decay, c, theta)
        self.clip = np.float32(clip)
        if cache is not None:
            self.L = [w.copy() for w in self.W]
            self.S = [np.zeros_like(w) for w in self.W]
        nl = len(self.W)
        self.m0 = np.zeros(nl, np.int64)
        self.m1 = np.zeros(nl)
        self.cons0 = np.zeros(nl, np.int64)
        self.cons1 = np.zeros(nl)
        self.maint = np.zeros(nl)

    def forward(self, X):
        acts = [np.hstack([X, np.ones((X.shape[0], 1), np.float32)])]
        for i, W in enumerate(self.W):
            z = acts[-1] @ W.T
            if i + 1 < len(self.W):
                acts.append(
                    np.hstack([_act(z, self.activation), np.ones((X.shape[0], 1), np.float32)])
                )
            else:
                if self.output == "softmax":
                    z = np.exp(z - z.max(axis=1, keepdims=True))
                    z = z / z.sum(axis=1, keepdims=True)
                acts.append(z.astype(np.float32))
        return acts

    def step(self, X, y):
        """One update from the batch ``X`` (rows) with class indices ``y``."""
        B = X.shape[0]
        acts = self.forward(X)
        nl = len(self.W)
        out = acts[-1]
        T = np.eye(out.shape[1], dtype=np.float32)[y]
        deltas = [None] * nl
        deltas[-1] = np.clip(T - out, -self.clip, self.clip).astype(np.float32)
        for layer in range(nl - 1, 0, -1):
            W = self.W[layer][:, :-1]
            h = acts[layer][:, :-1]
            d = deltas[layer] @ W * _dact(h, self.activation)
            deltas[layer - 1] = np.clip(d, -self.clip, self.clip).astype(np.float32)
        if self.plastic is not None and self.mode == "error":
            for h in range(1, nl):
                score = np.abs(deltas[h - 1]).sum(axis=0)
                order = np.lexsort((np.arange(score.size), -score))
                mask = np.zeros(score.size, bool)
                mask[order[: self.plastic]] = True
                self.paths[h - 1] = mask
        for layer in range(nl):
            W = self.W[layer]
            n_out, st = W.shape
            pre = np.ones(st, bool)
            post = np.ones(n_out, bool)
            if self.plastic is not None:
                if layer > 0:
                    pre[:-1] = self.paths[layer - 1]
                if layer + 1 < nl:
                    post = self.paths[layer].copy()
            a = acts[layer] * pre[None, :]
            u = (self.eta / np.float32(B)) * deltas[layer] * post[None, :]
            if B == 1:
                G = np.outer(u[0], a[0]).astype(np.float32)
            else:
                G = np.zeros((n_out, st), np.float32)
                for b in range(B):
                    G += np.outer(u[b], a[b]).astype(np.float32)
            mag = np.abs(G)
            p = self.p[layer]
            if p >= 1:
                keep = mag > 0
            elif self.selection == "layer":
                thr = _kth(mag[np.ix_(post, pre)].ravel(), p)
                keep = (mag >= thr) & (mag > 0)
            else:
                keep = np.zeros_like(mag, bool)
                for j in range(n_out):
                    thr = _kth(mag[j, pre], p)
                    keep[j] = (mag[j] >= thr) & (mag[j] > 0)
            D = np.where(keep, G, 0).astype(np.float32)
            self.m0[layer] += int(np.count_nonzero(D))
            self.m1[layer] += float(np.abs(D.astype(np.float64)).sum())
            if self.cache is None:
                self.W[layer] = (W + D).astype(np.float32)
            else:
                self.S[layer] = (self.S[layer] + D).astype(np.float32)
        if self.cache is not None:
            decay, c, theta = self.cache
            for layer in range(nl):
                S, L = self.S[layer], self.L[layer]
                self.maint[layer] += c * np.abs(S.astype(np.float64)).sum()
                for j in range(S.shape[0]):
                    if np.abs(S[j]).max() > theta:
                        self.cons0[layer] += int(np.count_nonzero(S[j]))
                        self.cons1[layer] += float(np.abs(S[j].astype(np.float64)).sum())
                        L[j] = L[j] + S[j]
                        S[j] = 0
                    elif decay < 1:
                        S[j] = S[j] * np.float32(decay)
                self.W[layer] = (L + S).astype(np.float32)


def _data(n=60, d=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = rng.integers(0, classes, n)
    y[:classes] = np.arange(classes)
    return X, y


def _compare_steps(
    params, steps=25, batch=1, d=12, hidden=(9,), classes=3, seed=0, rtol=2e-4, atol=2e-6
):
    X, y = _data(max(steps * batch, classes), d, classes, seed)
    clf = CompetitivePlasticityClassifier(
        hidden_layer_sizes=hidden,
        random_state=3,
        batch_size=batch,
        sampling="shuffle",
        **params,
    )
    classes_arr = np.arange(classes)
    clf.partial_fit(X[:batch], y[:batch], classes=classes_arr)
    m = clf._model
    init = [np.asarray(w) for w in m.initial_weights()]
    p = params.get("update_fraction", 1.0)
    out_p = params.get("output_fraction")
    out_p = p if out_p is None else (min(78.4 * p, 1.0) if out_p == "scaled" else out_p)
    cache = None
    if params.get("caching"):
        tau = params.get("cache_tau")
        cache = (
            1.0 if tau is None else float(np.exp(-1.0 / tau)),
            params.get("maintenance_cost", 0.0),
            params.get("consolidation_threshold", 0.1),
        )
    ref = RefNet(
        init,
        eta=params.get("learning_rate", 0.01),
        fractions=[p] * len(hidden) + [out_p],
        selection=params.get("selection", "layer"),
        activation=params.get("activation", "leaky_relu"),
        output=params.get("output", "linear"),
        plastic=params.get("plastic_units"),
        mode=params.get("plastic_mode", "fixed"),
        paths=[np.asarray(q) for q in m.paths()],
        cache=cache,
        clip=params.get("error_clip", 10.0),
    )
    ref.step(X[:batch], y[:batch])
    for s in range(1, steps):
        xb, yb = X[s * batch : (s + 1) * batch], y[s * batch : (s + 1) * batch]
        clf.partial_fit(xb, yb)
        ref.step(xb, yb)
        for got, want in zip(clf.coefs_, ref.W, strict=True):
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"step {s}")
    # the energy counters against the independent recount
    for lay, row in enumerate(clf.layer_energy_):
        assert row["M0"] == ref.m0[lay]
        np.testing.assert_allclose(row["M1"], ref.m1[lay], rtol=1e-5)
        w0 = ref.W0[lay]
        assert row["M0_min"] == np.count_nonzero(clf.coefs_[lay] != w0)
        np.testing.assert_allclose(
            row["M1_min"], np.abs(clf.coefs_[lay].astype(np.float64) - w0).sum(), rtol=1e-6
        )
        if cache is not None:
            assert row["consolidation_writes"] == ref.cons0[lay]
            np.testing.assert_allclose(
                row["consolidation_energy"], ref.cons1[lay], rtol=1e-4, atol=1e-9
            )
            np.testing.assert_allclose(
                row["maintenance_energy"], ref.maint[lay], rtol=1e-4, atol=1e-12
            )
    return clf, ref


# ----------------------------------------------------------------------------
# Step-by-step equality with the dense reference
# ----------------------------------------------------------------------------


def test_plain_backprop_matches_reference():
    clf, ref = _compare_steps({"learning_rate": 0.05})
    _compare_steps({"learning_rate": 0.05, "error_clip": 0.3})
    # plain: every weight written every step (inputs are non-zero)
    total = sum(w.size for w in ref.W)
    assert clf.energy_.writes == 25 * total


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_other_activations_and_softmax(activation):
    _compare_steps({"learning_rate": 0.1, "activation": activation, "output": "softmax"})


@pytest.mark.parametrize("p", [0.5, 0.1, 0.02])
def test_top_fraction_per_layer_matches_reference(p):
    clf, _ = _compare_steps({"learning_rate": 0.05, "update_fraction": p}, hidden=(16,), d=20)
    n0 = 21 * 16
    k = n0 - int(np.round((1 - p) * (n0 - 1)))
    assert clf.layer_energy_[0]["M0"] == 25 * k


@pytest.mark.parametrize("p", [0.5, 0.1])
def test_top_fraction_per_neuron_matches_reference(p):
    _compare_steps(
        {"learning_rate": 0.05, "update_fraction": p, "selection": "neuron"}, hidden=(16,), d=20
    )


def test_scaled_output_fraction_and_two_hidden_layers():
    _compare_steps(
        {"learning_rate": 0.05, "update_fraction": 0.005, "output_fraction": "scaled"},
        hidden=(10, 7),
        d=15,
    )


@pytest.mark.parametrize("mode", ["fixed", "error"])
def test_plastic_path_matches_reference(mode):
    clf, ref = _compare_steps(
        {"learning_rate": 0.05, "plastic_units": 4, "plastic_mode": mode}, hidden=(11,)
    )
    if mode == "fixed":
        np.testing.assert_array_equal(clf._model.paths()[0], ref.paths[0])


def test_path_combined_with_top_fraction_and_two_layers():
    _compare_steps(
        {
            "learning_rate": 0.05,
            "plastic_units": 5,
            "plastic_mode": "error",
            "update_fraction": 0.2,
        },
        hidden=(12, 8),
        d=15,
    )


@pytest.mark.parametrize("sel", ["layer", "neuron"])
def test_minibatch_matches_reference(sel):
    _compare_steps(
        {
            "learning_rate": 0.05,
            "update_fraction": 0.2,
            "selection": sel,
            "plastic_units": 6,
            "plastic_mode": "error",
        },
        batch=4,
        steps=12,
        hidden=(10,),
    )


@pytest.mark.parametrize("tau", [None, 20.0])
def test_caching_matches_reference(tau):
    clf, ref = _compare_steps(
        {
            "learning_rate": 0.1,
            "caching": True,
            "cache_tau": tau,
            "maintenance_cost": 0.01,
            "consolidation_threshold": 0.02,
            "update_fraction": 0.5,
        },
        steps=40,
    )
    m = clf._model
    for lay in range(2):
        np.testing.assert_allclose(
            np.asarray(m.long_weights()[lay]), ref.L[lay], rtol=2e-4, atol=2e-6
        )
        np.testing.assert_allclose(
            np.asarray(m.short_weights()[lay]), ref.S[lay], rtol=2e-4, atol=2e-6
        )
    assert sum(r["consolidations"] for r in clf.layer_energy_) > 0
    # consolidate everything: w = l, the energy report adds the moved weights
    before = clf.energy_.details["consolidation_energy"]
    pending = sum(np.abs(np.asarray(s, np.float64)).sum() for s in m.short_weights())
    clf.consolidate()
    np.testing.assert_allclose(
        clf.energy_.details["consolidation_energy"], before + pending, rtol=1e-6
    )
    assert clf.energy_.abs_change == pytest.approx(
        clf.energy_.details["consolidation_energy"] + clf.energy_.details["maintenance_energy"]
    )


# ----------------------------------------------------------------------------
# Fit, stopping, history, determinism
# ----------------------------------------------------------------------------


def _digits():
    X_tr, y_tr, X_te, y_te = synaplast.datasets.load_digits()
    return frugal_preprocess(X_tr, X_te, random_state=0) + (y_tr, y_te)


def test_fit_reaches_target_and_records_history():
    X_tr, X_te, y_tr, y_te = _digits()
    clf = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(40,),
        learning_rate=0.02,
        target_accuracy=0.9,
        eval_every=200,
        max_epochs=20,
        random_state=0,
    )
    clf.fit(X_tr, y_tr, eval_set=(X_te, y_te))
    assert clf.reached_target_
    h = clf.history_
    assert h[-1]["accuracy"] >= 0.9 and all(r["accuracy"] < 0.9 for r in h[:-1])
    assert [r["samples"] for r in h] == [200 * (i + 1) for i in range(len(h))]
    assert clf.n_samples_seen_ == h[-1]["samples"]
    n_w = sum(w.size for w in clf.coefs_)
    assert h[-1]["M0"] == clf.energy_.writes == clf.n_samples_seen_ * n_w
    assert clf.energy_.min_writes == h[-1]["M0_min"]
    assert clf.score(X_te, y_te) == pytest.approx(h[-1]["accuracy"])
    assert np.all(np.diff([r["M0"] for r in h]) > 0)


def test_validation_split_when_no_eval_set():
    X_tr, _, y_tr, _ = _digits()
    clf = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(30,),
        learning_rate=0.02,
        target_accuracy=0.85,
        eval_every=100,
        random_state=1,
    )
    clf.fit(X_tr, y_tr)
    assert clf.reached_target_ and clf.history_


def test_same_result_for_any_thread_count_and_verbose():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 300)).astype(np.float32)
    y = rng.integers(0, 4, 80)
    params = {
        "hidden_layer_sizes": (500,),
        "update_fraction": 0.05,
        "max_epochs": 0.3,
        "random_state": 5,
        "plastic_units": 100,
        "plastic_mode": "error",
    }
    runs = []
    for threads, verbose in ((1, 0), (2, 0), (2, 1)):
        with synaplast.threads(threads):
            clf = CompetitivePlasticityClassifier(verbose=verbose, eval_every=7, **params)
            clf.fit(X, y, eval_set=(X, y))
        runs.append(clf)
    for other in runs[1:]:
        for a, b in zip(runs[0].coefs_, other.coefs_, strict=True):
            np.testing.assert_array_equal(a, b)
        assert other.energy_.to_dict() == runs[0].energy_.to_dict() or (
            other.layer_energy_ == runs[0].layer_energy_
        )
        assert other.history_ == runs[0].history_


def test_random_state_reproducible_and_partial_fit_continues():
    X, y = _data(50, 8, 3, 1)
    a = CompetitivePlasticityClassifier(hidden_layer_sizes=(6,), random_state=2, max_epochs=2).fit(
        X, y
    )
    b = CompetitivePlasticityClassifier(hidden_layer_sizes=(6,), random_state=2, max_epochs=2).fit(
        X, y
    )
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    c = CompetitivePlasticityClassifier(hidden_layer_sizes=(6,), random_state=2)
    c.partial_fit(X, y, classes=[0, 1, 2])
    c.partial_fit(X, y)
    assert c.n_samples_seen_ == 100
    np.testing.assert_array_equal(c.coefs_[0], a.coefs_[0])


def test_pickle_clone_pipeline_gridsearch():
    X, y = _data(90, 6, 3, 2)
    clf = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(8,), random_state=0, caching=True, update_fraction=0.3, plastic_units=4
    ).fit(X, y)
    clf2 = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), clf2.predict_proba(X))
    assert clf2.layer_energy_ == clf.layer_energy_
    clf.partial_fit(X, y)
    clf2.partial_fit(X, y)
    np.testing.assert_array_equal(clf.coefs_[1], clf2.coefs_[1])
    assert clone(clf).get_params() == clf.get_params()
    pipe = make_pipeline(StandardScaler(), CompetitivePlasticityClassifier(random_state=0))
    gs = GridSearchCV(pipe, {"competitiveplasticityclassifier__update_fraction": [1.0, 0.5]}, cv=2)
    gs.fit(X, y)
    assert gs.best_estimator_.predict(X).shape == (90,)


def test_reports_and_string_labels():
    X, y = _data(40, 5, 2, 3)
    labels = np.array(["no", "yes"])[y]
    clf = CompetitivePlasticityClassifier(hidden_layer_sizes=(7,), random_state=0).fit(X, labels)
    assert set(clf.predict(X)) <= {"no", "yes"}
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)
    assert isinstance(clf.energy_, synaplast.EnergyReport)
    assert isinstance(clf.capacity_, synaplast.CapacityReport)
    assert clf.capacity_.n_potential == 6 * 7 + 8 * 2
    assert clf.energy_.write_inefficiency >= 1.0
    assert "M0" in clf.layer_energy_[0] and "inefficiency_M1" in clf.layer_energy_[1]


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"update_fraction": 0.0}, "update_fraction"),
        ({"update_fraction": 1.5}, "update_fraction"),
        ({"output_fraction": "half"}, "output_fraction"),
        ({"plastic_units": 50}, "plastic_units"),
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes"),
        ({"activation": "tanh"}, "activation"),
        ({"selection": "global"}, "selection"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"target_accuracy": 1.2}, "target_accuracy"),
        ({"caching": True, "cache_tau": -3.0}, "cache_tau"),
    ],
)
def test_bad_parameters(params, match):
    X, y = _data(30, 4, 2, 0)
    clf = CompetitivePlasticityClassifier(
        hidden_layer_sizes=params.pop("hidden_layer_sizes", (10,)), **params
    )
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_bad_data_and_failed_call_leaves_model_unchanged():
    X, y = _data(30, 4, 2, 0)
    clf = CompetitivePlasticityClassifier(hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match="one class"):
        clf.fit(X, np.zeros(30, int))
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(Xn, y)
    clf.fit(X, y)
    before = [w.copy() for w in clf.coefs_]
    state = dict(clf.__dict__)
    with pytest.raises(ValueError):
        clf.fit(X[:, :3], np.zeros(30, int))  # a failed refit keeps the old fit
    assert clf.n_features_in_ == 4 and clf.__dict__.keys() == state.keys()
    with pytest.raises(ValueError):
        clf.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match="label"):
        clf.partial_fit(X, y + 5)
    with pytest.raises(ValueError):
        clf.fit(X, y, eval_set=(X[:, :2], y))
    for a, b in zip(before, clf.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    diverge = CompetitivePlasticityClassifier(
        hidden_layer_sizes=(5,), learning_rate=1e30, init_std=1.0, random_state=0
    )
    with pytest.raises(ValueError, match="diverged"):
        diverge.fit(X * 100, y)


def test_frugal_preprocess():
    rng = np.random.default_rng(0)
    X = rng.random((50, 10)).astype(np.float32)
    a, b = frugal_preprocess(X, X[:10], noise=0.0)
    assert a.dtype == np.float32 and abs(a.mean()) < 1e-6
    np.testing.assert_allclose(a, X - X.mean(), atol=1e-6)
    c = frugal_preprocess(X, noise=0.001, random_state=1)
    assert 0 < np.std(c - a) < 0.002
