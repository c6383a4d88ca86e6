"""e-prop: equations vs a NumPy reference, event == time, robustness, estimators."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

import synaplast
from synaplast import EPropClassifier, EPropRegressor, _core
from synaplast.eprop import spikes_from_times


def _cfg(**over):
    cfg = {
        "n_in": 5,
        "n_rec": 6,
        "n_out": 2,
        "tau_m": 20.0,
        "tau_out": 15.0,
        "v_th": 0.3,
        "surrogate_height": 0.3,
        "surrogate_width": 0.3,
        "kappa": 0.9,
        "kappa_reg": 0.9,
        "c_reg": 0.2,
        "f_target": 0.01,
        "eta": 1e-2,
        "optimizer": "gradient_descent",
    }
    cfg.update(over)
    return cfg


def _dense_net(cfg, seed=0):
    rng = np.random.default_rng(seed)
    n_in, n_rec, n_out = cfg["n_in"], cfg["n_rec"], cfg["n_out"]
    w = rng.normal(0, 0.4, size=(n_in + n_rec, n_rec)).astype(np.float32)
    w[n_in + np.arange(n_rec), np.arange(n_rec)] = 0.0
    w[np.abs(w) < 0.05] = 0.0
    mask = w != 0
    indptr = np.concatenate([[0], np.cumsum(mask.sum(1))]).astype(np.int64)
    indices = np.nonzero(mask)[1].astype(np.int64)
    w_out = rng.normal(0, 0.3, size=(n_rec, n_out)).astype(np.float32)
    fb = rng.normal(0, 0.3, size=(n_rec, n_out)).astype(np.float32)
    syn = _core.SynapseMatrix.from_csr(n_in + n_rec, n_rec, indptr, indices, w[mask])
    net = _core.EPropNetwork.from_weights(cfg, syn, w_out, fb)
    return net, w, w_out, fb


def _reference(cfg, w, w_out, fb, x, target):
    """Dense NumPy e-prop (paper form, reset per sequence, batch update), one sequence."""
    n_in, n_rec = cfg["n_in"], cfg["n_rec"]
    T = x.shape[0]
    a = np.exp(-1.0 / cfg["tau_m"])
    ko = np.exp(-1.0 / cfg["tau_out"])
    k, kr, vth = cfg["kappa"], cfg["kappa_reg"], cfg["v_th"]
    v = np.zeros(n_rec)
    z = np.zeros(n_rec)
    y = np.zeros(cfg["n_out"])
    fav = np.zeros(n_rec)
    zbar = np.zeros(n_in + n_rec)
    zo = np.zeros(n_rec)
    ebar = np.zeros(w.shape)
    ereg = np.zeros(w.shape)
    grad = np.zeros(w.shape)
    gout = np.zeros(w_out.shape)
    psis, regs, errs, zbars, zos, ys = [], [], [], [], [], []
    for n in range(T):
        s = np.concatenate([x[n], z]).astype(float)  # spikes arriving at step n
        y = ko * y + z @ w_out
        err = y - target[n]
        ys.append(y.copy())
        errs.append(err)
        zbar = a * zbar + (1 - a) * s
        zo = ko * zo + z
        zbars.append(zbar.copy())
        zos.append(zo.copy())
        v = a * v + (1 - a) * (s @ w) - vth * z
        psi = cfg["surrogate_height"] * np.maximum(
            0.0, 1 - np.abs(v - vth) / cfg["surrogate_width"]
        )
        z = (v >= vth).astype(float)
        fav = kr * fav + (1 - kr) * z
        psis.append(psi)
        regs.append(cfg["c_reg"] * (fav - cfg["f_target"]))
    for m in range(T):
        # learning signal of step m: feedback of the error its spikes cause at m + 1
        L = fb @ errs[m + 1] if m + 1 < T else np.zeros(n_rec)
        e = np.outer(zbars[m], psis[m])
        ebar = k * ebar + (1 - k) * e
        ereg = kr * ereg + (1 - kr) * e
        grad += L[None, :] * ebar + regs[m][None, :] * ereg
        gout += np.outer(zos[m], errs[m])
    w_new = w - cfg["eta"] * grad * (w != 0)
    wo_new = w_out - cfg["eta"] * gout
    loss = 0.5 * np.sum(np.square(errs))
    return w_new, wo_new, loss, np.array(ys)


@pytest.mark.parametrize("event", [True, False])
def test_matches_numpy_reference(event):
    cfg = _cfg(event_driven=event)
    net, w, w_out, fb = _dense_net(cfg)
    rng = np.random.default_rng(1)
    T = 40
    x = (rng.random((T, cfg["n_in"])) < 0.3).astype(np.uint8)
    target = np.sin(np.arange(T * 2) / 5.0).reshape(T, 2).astype(np.float32)
    out = net.run(x[None], target[None], np.ones((1, T), np.float32), {"record_y": True})
    w_ref, wo_ref, loss_ref, y_ref = _reference(
        cfg, w.astype(np.float64), w_out.astype(np.float64), fb.astype(np.float64), x, target
    )
    np.testing.assert_allclose(out["y"][0], y_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["loss"][0], loss_ref, rtol=1e-6)
    wn = net.synapses().weights
    np.testing.assert_allclose(wn, w_ref[w != 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.w_out(), wo_ref, rtol=1e-5, atol=1e-6)
    assert not np.allclose(wn, w[w != 0])


@pytest.mark.parametrize(
    "over",
    [
        {},
        {
            "nest_compatible": True,
            "update_at_spike": True,
            "reset_each_sequence": False,
            "cutoff": 9,
        },
        {"adapt_beta": 0.5, "optimizer": "adam", "cutoff": 4, "surrogate": "arctan_derivative"},
        {"loss": "cross_entropy", "symmetric_feedback": True, "surrogate": "exponential"},
        {"surrogate": "fast_sigmoid_derivative", "reset_each_sequence": False, "cutoff": 2},
    ],
)
def test_event_driven_equals_time_driven(over):
    rng = np.random.default_rng(2)
    x = (rng.random((3, 50, 5)) < 0.2).astype(np.uint8)
    tgt = np.zeros((3, 50, 2), np.float32)
    tgt[:, :, 0] = 1.0
    mask = np.ones((3, 50), np.float32)
    res = []
    for ev in (True, False):
        net, w, *_ = _dense_net(_cfg(event_driven=ev, **over))
        loss = net.run(x, tgt, mask, {"batch_size": 2})["loss"]
        res.append((net.synapses().weights, net.w_out(), loss))
    assert not np.allclose(res[0][0], w[w != 0])
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(res[0][2], res[1][2], rtol=1e-5)


def test_silent_empty_zero_length_and_bad_shapes():
    net, *_ = _dense_net(_cfg())
    for s, t in [(0, 4), (2, 0), (2, 3)]:
        out = net.run(
            np.zeros((s, t, 5), np.uint8),
            np.zeros((s, t, 2), np.float32),
            np.ones((s, t), np.float32),
        )
        assert out["loss"].shape == (s,)
    w0 = net.synapses().weights.copy()
    with pytest.raises(ValueError):
        net.run(
            np.zeros((1, 3, 4), np.uint8),
            np.zeros((1, 3, 2), np.float32),
            np.ones((1, 3), np.float32),
        )
    with pytest.raises(ValueError):
        net.run(
            np.full((1, 3, 5), 2, np.uint8),
            np.zeros((1, 3, 2), np.float32),
            np.ones((1, 3), np.float32),
        )
    np.testing.assert_array_equal(net.synapses().weights, w0)
    with pytest.raises(ValueError):
        _core.EPropNetwork(_cfg(tau_m=-1.0), {})
    with pytest.raises(ValueError):
        _core.EPropNetwork(_cfg(surrogate="nope"), {})


def _toy(n=40, t=30, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    rates = np.where(y[:, None, None] == 1, [0.3, 0.02, 0.3, 0.02], [0.02, 0.3, 0.02, 0.3])
    x = (rng.random((n, t, 4)) < rates).astype(np.uint8)
    return x, y


def test_threads_deterministic():
    x, y = _toy()
    res = []
    for th in (1, 2):
        with synaplast.threads(th):
            clf = EPropClassifier(20, max_iter=2, random_state=0, p_rec=0.5).fit(x, y)
        res.append(clf.weights_[0][2])
    np.testing.assert_array_equal(res[0], res[1])


def test_classifier_learns_pickles_clones():
    x, y = _toy(60)
    clf = EPropClassifier(30, max_iter=15, random_state=0, learning_rate=1e-2, v_th=0.3).fit(x, y)
    assert clf.score(x, y) >= 0.85
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    p = clf.predict_proba(x)
    np.testing.assert_allclose(p.sum(1), 1.0)
    clf2 = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf2.predict(x), clf.predict(x))
    assert clf.energy_.writes > 0 and clf.capacity_.n_synapses > 0
    assert clone(clf).get_params() == clf.get_params()
    clf2.partial_fit(x, y)


def test_regressor_and_spike_times():
    x, lab = _toy(30)
    y = lab.astype(float) * 2 - 1
    reg = EPropRegressor(30, max_iter=10, random_state=1, learning_rate=1e-2, v_th=0.3).fit(x, y)
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert reg.predict(x).shape == (30,)
    trains = [[np.nonzero(x[s, :, i])[0] for i in range(4)] for s in range(3)]
    np.testing.assert_array_equal(spikes_from_times(trains, 30), x[:3])
    with pytest.raises(ValueError):
        EPropRegressor(neuron="bad").fit(x, y)
    with pytest.raises(TypeError):
        EPropRegressor(n_rec=1.5).fit(x, y)


def test_pipeline_gridsearch_2d():
    from sklearn.datasets import make_blobs
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = make_blobs(n_samples=90, centers=2, random_state=0)
    pipe = make_pipeline(
        StandardScaler(), EPropClassifier(n_rec=30, max_iter=10, batch_size=4, random_state=0)
    )
    gs = GridSearchCV(pipe, {"epropclassifier__learning_rate": [1e-2, 2e-2]}, cv=2).fit(X, y)
    assert gs.best_score_ > 0.8


def test_nest_compatible_dynamics_match_numpy():
    """NEST 3.10 forms: no (1 - alpha) on input, reset by V_th in the spike step."""
    cfg = _cfg(nest_compatible=True, reset_each_sequence=False, update_at_spike=True, v_th=0.5)
    net, w, w_out, _ = _dense_net(cfg, seed=3)
    rng = np.random.default_rng(4)
    T = 60
    x = (rng.random((T, cfg["n_in"])) < 0.3).astype(np.uint8)
    out = net.run(
        x[None],
        np.zeros((1, T, 2), np.float32),
        np.ones((1, T), np.float32),
        {"learn": False, "record_y": True, "record_raster": True},
    )
    a = np.exp(-1.0 / cfg["tau_m"])
    ko = np.exp(-1.0 / cfg["tau_out"])
    v = np.zeros(cfg["n_rec"])
    z = np.zeros(cfg["n_rec"])
    y = np.zeros(2)
    zs, ys = [], []
    for n in range(T):
        y = ko * y + z @ w_out
        v = a * v + np.concatenate([x[n], z]) @ w
        z = (v >= cfg["v_th"]).astype(float)
        v = v - cfg["v_th"] * z
        zs.append(z)
        ys.append(y)
    np.testing.assert_array_equal(out["raster"][0], np.array(zs, dtype=np.uint8))
    np.testing.assert_allclose(out["y"][0], np.array(ys), rtol=1e-5, atol=1e-6)
    assert np.array(zs).sum() > 0
